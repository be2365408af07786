// The anti-bot proof of work (an ALTCHA challenge from hello, docs/protocol.md "Admission"),
// solved in a Web Worker as soon as the challenge arrives, so it is done while the visitor
// reads the rules or answers the camera prompt.

const WORKER_URL = new URL("./pow_worker.js", import.meta.url);
// Automatic retries with a refusal's fresh challenge before the page gives up and says so.
const MAX_RETRIES = 2;

export class ProofOfWork {
  constructor() {
    this.worker = null;
    this.current = Promise.resolve(null);
    this.retries = 0;
    this.lastMs = null; // how long the last solve took, for the curious (and the benchmark)
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

  solve(challenge) {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    if (!challenge || typeof challenge !== "object") {
      this.current = Promise.resolve(null);
      return;
    }
    let worker;
    try {
      worker = new Worker(WORKER_URL);
    } catch {
      this.current = Promise.resolve(null); // the server then answers pow_required, which the page shows
      return;
    }
    this.worker = worker;
    this.current = new Promise((resolve) => {
      const finish = (number, took) => {
        worker.terminate();
        if (this.worker === worker) this.worker = null;
        if (number === null) {
          resolve(null);
          return;
        }
        this.lastMs = took;
        const { algorithm, challenge: hash, salt, signature } = challenge;
        resolve({ algorithm, challenge: hash, salt, signature, number });
      };
      worker.addEventListener("message", (event) => {
        this.hasher = event.data.hasher;
        finish(event.data.number ?? null, event.data.took);
      });
      worker.addEventListener("error", () => finish(null));
    });
    worker.postMessage(challenge);
  }

  // The solution for the current connection's challenge (null if it could not be solved).
  solution() {
    return this.current;
  }
}
