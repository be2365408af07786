// The anti-bot proof of work (an ALTCHA challenge from hello, docs/protocol.md "Admission"),
// solved as soon as the challenge arrives, so it is done while the visitor reads the rules or
// answers the camera prompt.
//
// The solver is the altcha npm package's own worker (static/vendor/, refreshed by `make vendor`),
// driven the way the ALTCHA widget drives it: 0..maxNumber is cut into one range per worker and
// the workers search side by side, because each one hashes with the asynchronous crypto.subtle
// and leaves most of a core idle.

// Only for a page that names no URL: the real one comes from the template, where {% static %}
// gives the file's hashed name once collectstatic ran.
const DEFAULT_WORKER_URL = "/static/vendor/altcha-2.3.0/worker.js";
// More workers than this buy little on a phone and would crowd out the camera and the call.
const MAX_WORKERS = 4;
// Automatic retries with a refusal's fresh challenge before the page gives up and says so.
const MAX_RETRIES = 2;
// A worker that neither answers nor fails (its own promise rejected, say) must not hold the join
// for ever: past this, the page goes without, and the server's refusal says why.
const SOLVE_TIMEOUT_MS = 90000;

export function workerCount() {
  const cores = Number(navigator.hardwareConcurrency) || 1;
  return Math.max(1, Math.min(Math.floor(cores), MAX_WORKERS));
}

// The server only ever issues SHA-256; anything else is refused here rather than handed to a
// worker, which would fail without ever answering.
function usable(challenge) {
  if (!challenge || typeof challenge !== "object") return false;
  const { algorithm, challenge: hash, salt, maxNumber } = challenge;
  return (
    algorithm === "SHA-256" &&
    typeof hash === "string" &&
    typeof salt === "string" &&
    Number.isInteger(maxNumber) &&
    maxNumber >= 0
  );
}

export class ProofOfWork {
  constructor({ workerUrl } = {}) {
    this.workerUrl = workerUrl || DEFAULT_WORKER_URL;
    this.workers = [];
    this.current = Promise.resolve(null);
    this.retries = 0;
    this.lastMs = null; // how long the last solve took, for the curious (and the benchmark)
    this.lastWorkers = 0; // how many workers it shared the search among
  }

  // A new connection's challenge: forget the old one and its retries.
  start(challenge) {
    this.retries = 0;
    this.solve(challenge);
  }

  // A refusal's fresh challenge: true if the page should try joining again.
  retry(challenge) {
    this.solve(challenge);
    this.retries += 1;
    return this.retries <= MAX_RETRIES;
  }

  stop() {
    for (const worker of this.workers) worker.terminate();
    this.workers = [];
  }

  solve(challenge) {
    this.stop();
    // The worker hashes with crypto.subtle, which only a secure context has (https, or localhost
    // while developing); without it the worker would fail silently. With no solution the server
    // answers pow_required, which the page shows.
    if (!usable(challenge) || !globalThis.isSecureContext || !globalThis.crypto?.subtle) {
      this.current = Promise.resolve(null);
      return;
    }
    const { algorithm, challenge: hash, salt, signature, maxNumber } = challenge;
    const size = Math.ceil((maxNumber + 1) / workerCount());
    // A tiny range needs fewer workers than there are cores; none is left with nothing to do.
    const count = Math.ceil((maxNumber + 1) / size);
    const started = performance.now();
    const workers = [];
    try {
      for (let i = 0; i < count; i += 1) workers.push(new Worker(this.workerUrl));
    } catch {
      for (const worker of workers) worker.terminate();
      this.current = Promise.resolve(null);
      return;
    }
    this.workers = workers;
    this.current = new Promise((resolve) => {
      let unanswered = workers.length;
      let settled = false;
      const timer = setTimeout(() => finish(null), SOLVE_TIMEOUT_MS);
      const finish = (number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Terminating rather than posting "abort": the losers stop hashing at once, and a late
        // answer from an old search can never be taken for one of the next challenge.
        for (const worker of workers) worker.terminate();
        if (this.workers === workers) this.workers = [];
        if (number === null) {
          resolve(null);
          return;
        }
        this.lastMs = performance.now() - started;
        this.lastWorkers = workers.length;
        resolve({ algorithm, challenge: hash, salt, signature, number });
      };
      workers.forEach((worker, i) => {
        worker.addEventListener("message", (event) => {
          const number = event.data?.number;
          if (Number.isInteger(number)) finish(number);
          else if (--unanswered === 0) finish(null);
        });
        // A worker that cannot load or breaks may have held the number: waiting for the others
        // could mean waiting for ever, so give up and let the server say why.
        worker.addEventListener("error", () => finish(null));
        const start = i * size;
        // The worker's range is inclusive at both ends.
        const max = Math.min(maxNumber, start + size - 1);
        worker.postMessage({ type: "work", payload: { algorithm, challenge: hash, salt }, start, max });
      });
    });
  }

  // The solution for the current connection's challenge (null if it could not be solved).
  solution() {
    return this.current;
  }
}
