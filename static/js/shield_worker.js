// The nudity shield's classifier, in a module worker off the page's main thread, so that loading
// TensorFlow.js, compiling its WebAssembly and running the model never hold up the call's
// signaling or drawing. static/js/shield.js starts it and talks to it with these messages:
//
//   page -> worker  { type: "load", assets }           the vendored files' URLs, as the page names them
//   worker -> page  { type: "ready", backend, timings } model loaded, one blank frame classified
//                   { type: "failed", message }        the classifier cannot run (files, WebAssembly)
//                   { type: "unavailable", message }   no OffscreenCanvas here: the page classifies itself
//   page -> worker  { type: "classify", id, frame }    frame: an ImageBitmap, transferred
//   worker -> page  { type: "scores", id, scores }  or  { type: "error", id, message }
//
// Frames and scores stay inside this browser, as on the main thread.

import { INPUT_SIZE, loadClassifier } from "./shield_model.js";

// The TensorFlow.js bundles are UMD scripts: imported into a module they find neither CommonJS nor
// AMD, so they extend self.tf. tf-core runs first; the other two read it when they run.
async function runScripts([core, ...others]) {
  await import(core);
  await Promise.all(others.map((url) => import(url)));
  return self.tf;
}

function offscreenContext() {
  if (typeof OffscreenCanvas !== "function") return null;
  return new OffscreenCanvas(INPUT_SIZE, INPUT_SIZE).getContext("2d", { willReadFrequently: true });
}

const describe = (error) => String((error && error.message) || error);

let classifier = null; // a promise, once the page asked to load

async function load(assets) {
  const context = offscreenContext();
  if (!context) {
    self.postMessage({ type: "unavailable", message: "no OffscreenCanvas 2D context in workers" });
    return;
  }
  classifier = loadClassifier(assets, { runScripts, context });
  try {
    const ready = await classifier;
    self.postMessage({ type: "ready", backend: ready.tf.getBackend(), timings: ready.timings });
  } catch (error) {
    self.postMessage({ type: "failed", message: describe(error) });
  }
}

async function classify(id, frame) {
  try {
    const scores = await (await classifier).classify(frame);
    self.postMessage({ type: "scores", id, scores });
  } catch (error) {
    self.postMessage({ type: "error", id, message: describe(error) });
  } finally {
    frame.close();
  }
}

self.addEventListener("message", ({ data }) => {
  if (data.type === "load" && !classifier) load(data.assets);
  else if (data.type === "classify") classify(data.id, data.frame);
});
