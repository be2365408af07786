// Notices a dead path seconds before the browser does. Chrome marks a connection
// `disconnected` only after about 6 s without answers to its consent checks; a call
// whose network changed is silent long before that. Once the call is up, the bytes
// received on its transport are read every CHECK_EVERY_MS, and if they stop growing
// for SILENCE_MS the watcher calls `onSilence` (once per silent spell).
//
// A stranger with camera and microphone off sends almost nothing, so both pages send
// a tiny `keepalive` peer message every KEEPALIVE_EVERY_MS. The watcher is armed only
// once a keepalive came from the stranger: a client without them is never taken for
// a dead one, and its calls fall back on the browser's own detection.

export const KEEPALIVE_EVERY_MS = 500;
const CHECK_EVERY_MS = 500;
export const SILENCE_MS = 1500;

// Bytes received so far over the call's transports (media, RTCP, data channel, ICE checks).
async function bytesReceived(pc) {
  const stats = await pc.getStats();
  let total = 0;
  let fromTransport = false;
  stats.forEach((report) => {
    if (report.type === "transport" && typeof report.bytesReceived === "number") {
      total += report.bytesReceived;
      fromTransport = true;
    }
  });
  if (!fromTransport) {
    stats.forEach((report) => {
      if (report.type === "candidate-pair" && typeof report.bytesReceived === "number") total += report.bytesReceived;
    });
  }
  return total;
}

export class LinkWatch {
  constructor(pc, onSilence) {
    this.pc = pc;
    this.onSilence = onSilence;
    this.armed = false;
    this.lastBytes = -1;
    this.lastChangeAt = 0;
    this.silent = false;
    this.checking = false;
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  // The stranger's page sends keepalives: from now on, silence means the path is gone.
  heardKeepalive() {
    if (this.armed) return;
    this.armed = true;
    this.lastChangeAt = performance.now();
  }

  async check() {
    if (!this.armed || this.checking || this.pc.connectionState === "closed") return;
    this.checking = true;
    try {
      const bytes = await bytesReceived(this.pc);
      const now = performance.now();
      if (bytes !== this.lastBytes) {
        this.lastBytes = bytes;
        this.lastChangeAt = now;
        this.silent = false;
      } else if (!this.silent && now - this.lastChangeAt >= SILENCE_MS) {
        this.silent = true;
        this.onSilence();
      }
    } catch {
      // getStats fails only once the connection is closed; stop() follows.
    } finally {
      this.checking = false;
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}
