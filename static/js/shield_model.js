// The nudity classifier: NSFWJS's MobileNetV2 model run by TensorFlow.js on its WebAssembly
// backend. Everything is loaded from this site's static files on first use; frames never leave
// this browser. The same code runs in the shield's worker (static/js/shield_worker.js, the usual
// case) and, where a browser has no worker with OffscreenCanvas, on the page's main thread.

export const CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]; // the model's output order
export const INPUT_SIZE = 224;

// The TensorFlow.js bundles are UMD scripts that extend window.tf, so on the page they are added as
// classic scripts rather than imported; async = false downloads them together and runs them in order.
function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.async = false;
    script.addEventListener("load", () => resolve());
    script.addEventListener("error", () => reject(new Error(`could not load ${url}`)));
    document.head.append(script);
  });
}

function addScripts(urls) {
  return Promise.all(urls.map(loadScript)).then(() => window.tf);
}

function canvasContext() {
  const canvas = document.createElement("canvas");
  canvas.width = INPUT_SIZE;
  canvas.height = INPUT_SIZE;
  return canvas.getContext("2d", { willReadFrequently: true });
}

async function fetchOk(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response;
}

// A TensorFlow.js IO handler that takes the weights from the URL the page names, not from the
// file name model.json records, so hashed static file names work.
function staticModel(modelUrl, weightsUrl) {
  return {
    async load() {
      const [json, weights] = await Promise.all([
        fetchOk(modelUrl).then((response) => response.json()),
        fetchOk(weightsUrl).then((response) => response.arrayBuffer()),
      ]);
      const groups = json.weightsManifest || [];
      if (groups.length !== 1 || groups[0].paths.length !== 1) throw new Error("the model must have one weight file");
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: groups[0].weights,
        weightData: weights,
      };
    },
  };
}

class Classifier {
  constructor(tf, model, context) {
    this.tf = tf;
    this.model = model;
    this.context = context;
  }

  // Scores of a frame (a video element, an ImageBitmap), squeezed to the model's square input like
  // NSFWJS does.
  async classify(source) {
    this.context.drawImage(source, 0, 0, INPUT_SIZE, INPUT_SIZE);
    return this.scores(this.context.getImageData(0, 0, INPUT_SIZE, INPUT_SIZE));
  }

  async scores(pixels) {
    const { tf } = this;
    const output = tf.tidy(() => {
      const input = tf.div(tf.cast(tf.browser.fromPixels(pixels), "float32"), 255);
      return this.model.predict(tf.expandDims(input, 0));
    });
    const values = await output.data();
    output.dispose();
    return Object.fromEntries(CLASSES.map((name, index) => [name, values[index]]));
  }
}

// assets: URLs of the vendored files, as the page renders them with {% static %}.
// runScripts runs the three TensorFlow.js bundles in order and returns tf; context is a 2D context
// of INPUT_SIZE square to scale frames on. The defaults are the page's; the worker passes its own.
export async function loadClassifier(assets, { runScripts = addScripts, context = canvasContext() } = {}) {
  const started = performance.now();
  const timings = {}; // ms from the start to the end of each step, for the benchmarks
  const step = (name) => { timings[name] = Math.round(performance.now() - started); };
  const model = staticModel(assets.model, assets.weights);
  const artifacts = model.load(); // fetched while the scripts load
  artifacts.catch(() => {}); // reported below, when awaited
  const tf = await runScripts([assets.tfCore, assets.tfLayers, assets.tfWasm]);
  step("scripts");
  // The threaded build needs cross-origin isolation; it is neither vendored nor wanted.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  tf.wasm.setWasmPaths({
    "tfjs-backend-wasm.wasm": assets.wasm,
    "tfjs-backend-wasm-simd.wasm": assets.wasmSimd,
    "tfjs-backend-wasm-threaded-simd.wasm": assets.wasmSimd, // never fetched, see above
  });
  if (!(await tf.setBackend("wasm"))) throw new Error("TensorFlow.js could not start its WebAssembly backend");
  step("backend");
  const layers = await tf.loadLayersModel({ load: () => artifacts });
  step("model");
  const classifier = new Classifier(tf, layers, context);
  // The first prediction sets up every kernel; doing it now, on a blank frame, keeps it out of
  // the first real one.
  await classifier.scores(context.getImageData(0, 0, INPUT_SIZE, INPUT_SIZE));
  step("warm");
  classifier.timings = timings;
  return classifier;
}
