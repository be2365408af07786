// The nudity shield: the stranger's video stays blurred until a sample of it, classified in this
// browser, finds no nudity; it is sampled about once a second after that, and blurred again with a
// notice when a sample crosses the threshold. No frame and no score ever leaves the browser.
//
// Usage (call.js): const shield = new Shield({ root, video, toggle, onNext, onReport });
// shield.prepare() when the visitor asks for a call, startCall() for each stranger, endCall() after.
//
// The classifier runs in a worker (shield_worker.js): the page only grabs a frame as an ImageBitmap
// and hands it over, so nothing the shield does can hold up the call's signaling on the main
// thread. Browsers without module workers or OffscreenCanvas classify on the main thread instead.

import { loadClassifier } from "./shield_model.js";
import { gettext } from "./i18n.js";

const SAMPLE_EVERY_MS = 1000;
const FRAME_WAIT_MS = 100; // how often to look for the first frame of a new stranger
const MAX_FAILURES = 5; // classifications failing in a row before the shield gives up
const STORAGE_KEY = "alienmeet.shield";
const IDLE_START_MS = 300; // at the latest, the classifier starts loading this long after prepare()

// Porn and Hentai are explicit nudity. Sexy (underwear, swimwear, a bare chest) alone is common on
// webcams and is no reason to blur; it counts only on top of a real explicit score.
const EXPLICIT_LIMIT = 0.5;
const SUGGESTIVE_LIMIT = 0.8;
const SUGGESTIVE_EXPLICIT_FLOOR = 0.2;

export function crossesThreshold(scores) {
  const explicit = (scores.Porn || 0) + (scores.Hentai || 0);
  if (explicit >= EXPLICIT_LIMIT) return true;
  return explicit >= SUGGESTIVE_EXPLICIT_FLOOR && explicit + (scores.Sexy || 0) >= SUGGESTIVE_LIMIT;
}

const MESSAGES = {
  flagged: gettext("The shield blurred the stranger's video: it may show nudity."),
  failed: gettext("The nudity shield could not start in this browser, so the stranger's video stays blurred."),
};

// States, also set as data-shield on the video for the stylesheet, which blurs the first three:
// checking (until a sample passes) · flagged (notice shown) · failed (no classifier, notice shown) ·
// clear (shown, sampled) · shown (the visitor chose to see this call) · idle (no call) · off

function readEnabled() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

function saveEnabled(on) {
  try {
    if (on) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, "off");
  } catch {
    // Storage refused (private mode): the choice holds for this page only.
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs fn once the page is idle (after the frame that sends the join), or after IDLE_START_MS.
function whenIdle(fn) {
  if (typeof requestIdleCallback === "function") requestIdleCallback(fn, { timeout: IDLE_START_MS });
  else setTimeout(fn, 0);
}

// The worker could not run here at all (no module workers, no OffscreenCanvas, its script refused):
// the page loads the classifier itself. A classifier that fails to load in the worker is not retried.
class WorkerUnavailable extends Error {}

export function workerSupported() {
  return typeof Worker === "function" && typeof OffscreenCanvas === "function" && typeof createImageBitmap === "function";
}

// The page's side of shield_worker.js: resolves, once the model is loaded and warm, with an object
// whose classify(video) grabs the current frame and resolves with the worker's scores.
function startWorker(url, assets) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(url, { type: "module" });
    } catch (error) {
      reject(new WorkerUnavailable(String(error)));
      return;
    }
    const pending = new Map();
    let nextId = 0;
    let ready = false;
    let broken = null;
    const classify = async (video) => {
      if (broken) throw new Error(broken);
      const frame = await createImageBitmap(video);
      const id = (nextId += 1);
      return new Promise((answer, fail) => {
        pending.set(id, { answer, fail });
        worker.postMessage({ type: "classify", id, frame }, [frame]);
      });
    };
    worker.addEventListener("message", ({ data }) => {
      if (data.type === "ready") {
        ready = true;
        resolve({ classify, where: "worker", backend: data.backend, timings: data.timings });
      } else if (data.type === "failed" || data.type === "unavailable") {
        worker.terminate();
        reject(data.type === "failed" ? new Error(data.message) : new WorkerUnavailable(data.message));
      } else {
        const waiting = pending.get(data.id);
        pending.delete(data.id);
        if (!waiting) return;
        if (data.type === "scores") waiting.answer(data.scores);
        else waiting.fail(new Error(data.message));
      }
    });
    // The worker's script could not load or run (a browser without module workers ends here), or it
    // broke later: every check then fails, and the sampling loop gives up after a few.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      broken = `the shield's worker stopped: ${event.message || "script error"}`;
      worker.terminate();
      for (const waiting of pending.values()) waiting.fail(new Error(broken));
      pending.clear();
      if (!ready) reject(new WorkerUnavailable(broken));
    });
    worker.postMessage({ type: "load", assets });
  });
}

export class Shield {
  constructor({ root, video, toggle, onNext, onReport }) {
    this.root = root;
    this.video = video;
    this.toggle = toggle;
    this.message = root.querySelector("[data-shield-message]");
    const { tfCore, tfLayers, tfWasm, wasm, wasmSimd, model, weights, worker } = root.dataset;
    this.assets = { tfCore, tfLayers, tfWasm, wasm, wasmSimd, model, weights };
    this.workerUrl = worker;
    // Rendered only by a server started with SHIELD_TEST_HOOK for the browser tests.
    this.testHook = root.dataset.testHook === "on";
    this.enabled = readEnabled();
    this.inCall = false;
    this.run = 0; // bumped whenever sampling must stop: a new or ended call, the switch, Show anyway
    this.callSamples = 0; // frames classified in this call
    this.classifier = null; // a promise, once prepare() ran
    this.onFirstFrame = null;
    // where: "worker" or "main" once the classifier is loaded; backend: TensorFlow.js's, there;
    // loadSteps: when each step of the load ended, in ms from its start.
    this.stats = {
      modelLoadMs: null,
      where: null,
      backend: null,
      loadSteps: null,
      classifications: 0,
      classifyMs: 0,
      firstFrameAt: null,
      firstClearAt: null,
      // How many of this call's frames were classified when its picture first showed: 1 when the
      // first frame passed, so the stranger is never kept blurred for one more sample.
      firstClearSamples: null,
      last: null,
    };
    this.toggle.checked = this.enabled;
    this.toggle.addEventListener("change", () => this.setEnabled(this.toggle.checked));
    root.querySelector("[data-shield-next]").addEventListener("click", () => onNext());
    root.querySelector("[data-shield-report]").addEventListener("click", () => onReport("nudity"));
    // The notice's buttons vanish with it: focus goes to what the visitor chose to see, not to the page's start.
    this.video.tabIndex = -1;
    root.querySelector("[data-shield-show]").addEventListener("click", () => {
      this.setState("shown");
      this.video.focus();
    });
    this.setState(this.enabled ? "idle" : "off");
    window.alienmeetShield = this; // read by the browser tests and the benchmark
  }

  get state() {
    return this.video.dataset.shield;
  }

  // Start loading the classifier (once per visit), before the first stranger arrives: in the
  // worker, once the page is idle, so the join (and any signaling) goes out first.
  prepare() {
    if (!this.enabled || this.classifier) return;
    if (this.testHook && window.__shieldTestScores) {
      const scores = () => window.__shieldTestScores;
      this.classifier = Promise.resolve({ classify: async () => (typeof scores() === "function" ? scores()() : { ...scores() }) });
      return;
    }
    const started = performance.now();
    this.classifier = new Promise((resolve) => whenIdle(() => resolve(this.load()))).then((classifier) => {
      this.stats.modelLoadMs = Math.round(performance.now() - started);
      this.stats.where = classifier.where;
      this.stats.backend = classifier.backend;
      this.stats.loadSteps = classifier.timings;
      return classifier;
    });
    this.classifier.catch((error) => console.warn("nudity shield unavailable:", error));
  }

  load() {
    const onMainThread = async () => {
      const classifier = await loadClassifier(this.assets);
      const { tf, timings } = classifier;
      return { classify: (video) => classifier.classify(video), where: "main", backend: tf.getBackend(), timings };
    };
    if (!this.workerUrl || !workerSupported()) return onMainThread();
    return startWorker(this.workerUrl, this.assets).catch((error) => {
      if (!(error instanceof WorkerUnavailable)) throw error;
      console.warn("nudity shield: no worker here, classifying on the page:", error.message);
      return onMainThread();
    });
  }

  startCall() {
    this.inCall = true;
    this.run += 1;
    this.stats.firstFrameAt = null;
    this.stats.firstClearAt = null;
    this.stats.firstClearSamples = null;
    this.callSamples = 0;
    this.noteFirstFrame();
    if (!this.enabled) return;
    this.setState("checking");
    this.sample(this.run);
  }

  endCall() {
    this.inCall = false;
    this.run += 1;
    if (this.enabled) this.setState("idle");
  }

  setEnabled(on) {
    this.enabled = on;
    this.toggle.checked = on;
    saveEnabled(on);
    this.run += 1;
    if (!on) {
      this.setState("off");
    } else if (this.inCall) {
      this.setState("checking");
      this.sample(this.run);
    } else {
      this.setState("idle");
    }
  }

  setState(state) {
    if (state === "shown") this.run += 1; // no more samples for this call
    this.video.dataset.shield = state;
    const notice = MESSAGES[state];
    this.root.hidden = !notice;
    // Filled after the notice is visible, so screen readers announce it.
    this.message.textContent = "";
    if (notice) requestAnimationFrame(() => { if (this.state === state) this.message.textContent = notice; });
  }

  // The sampling loop: it ends as soon as `run` is no longer the current one.
  async sample(run) {
    this.prepare();
    let classifier;
    try {
      classifier = await this.classifier;
    } catch {
      if (run === this.run) this.setState("failed");
      return;
    }
    let failures = 0;
    while (run === this.run) {
      if (!this.hasFrame()) {
        await this.nextFrame();
        continue;
      }
      if (this.stats.firstFrameAt === null) this.stats.firstFrameAt = performance.now();
      const started = performance.now();
      let scores;
      try {
        scores = await classifier.classify(this.video);
        failures = 0;
      } catch (error) {
        // A frame the browser could not draw (the stream just changed) is skipped; a classifier
        // that keeps failing is broken, and the visitor is told.
        console.warn("nudity shield skipped a frame:", error);
        failures += 1;
        if (failures >= MAX_FAILURES) {
          if (run === this.run) this.setState("failed");
          return;
        }
        await sleep(FRAME_WAIT_MS);
        continue;
      }
      this.stats.classifications += 1;
      this.callSamples += 1;
      this.stats.classifyMs += performance.now() - started;
      this.stats.last = scores;
      if (run !== this.run) return;
      if (crossesThreshold(scores)) {
        this.setState("flagged");
        return;
      }
      if (this.state === "checking") {
        if (this.stats.firstClearAt === null) {
          this.stats.firstClearAt = performance.now();
          this.stats.firstClearSamples = this.callSamples;
        }
        this.setState("clear");
      }
      await sleep(SAMPLE_EVERY_MS);
    }
  }

  hasFrame() {
    return this.video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && this.video.videoWidth > 0;
  }

  // Resolves when the video presents a frame, or after a short wait.
  nextFrame() {
    return new Promise((resolve) => {
      if (!this.video.requestVideoFrameCallback) {
        setTimeout(resolve, FRAME_WAIT_MS);
        return;
      }
      const handle = this.video.requestVideoFrameCallback(() => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        this.video.cancelVideoFrameCallback(handle);
        resolve();
      }, FRAME_WAIT_MS);
    });
  }

  // When the stranger's first frame is decoded (blurred or not), for the benchmark.
  noteFirstFrame() {
    this.video.removeEventListener("loadeddata", this.onFirstFrame);
    this.onFirstFrame = () => {
      if (this.stats.firstFrameAt === null) this.stats.firstFrameAt = performance.now();
    };
    this.video.addEventListener("loadeddata", this.onFirstFrame, { once: true });
  }
}
