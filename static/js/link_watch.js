// Notices a dead path seconds before the browser does. Chrome marks a connection
// `disconnected` only after about 6 s without answers to its consent checks; a call
// whose network changed is silent long before that. Once the call is up, the bytes
// received on its transport are read every CHECK_EVERY_MS, and if they stop growing
// for SILENCE_MS (MEDIA_SILENCE_MS while media was arriving) the watcher calls
// `onSilence` (once per silent spell), and `onHeard` once they grow again (the
// stranger reaches us on a path again).
//
// A stranger with camera and microphone off sends almost nothing, so both pages send
// a tiny `keepalive` peer message every KEEPALIVE_EVERY_MS. The watcher is armed only
// once a keepalive came from the stranger: a client without them is never taken for
// a dead one, and its calls fall back on the browser's own detection.
//
// When the device itself says its network changed (back `online`, or another connection type on
// a phone: Wi-Fi to mobile data), the path is most likely gone: the watcher calls `onSilence` at
// once rather than after SILENCE_MS (its bytes growing again then only mean the path held).

export const KEEPALIVE_EVERY_MS = 500;
const CHECK_EVERY_MS = 500;
export const SILENCE_MS = 1500;
// While the stranger's camera or microphone fills the path (at least MEDIA_BYTES_PER_S arrived since
// the check before), bytes come without a pause: a second without any is a dead path already.
export const MEDIA_SILENCE_MS = 1000;
const MEDIA_BYTES_PER_S = 2000;

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
  constructor(pc, onSilence, onHeard = () => {}) {
    this.pc = pc;
    this.onSilence = onSilence;
    this.onHeard = onHeard;
    this.armed = false;
    this.lastBytes = -1;
    this.lastChangeAt = 0;
    this.silent = false;
    this.mediaFlowing = false;
    this.checking = false;
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    // Only a change of connection type counts: Chrome also reports new bandwidth estimates as changes.
    this.connection = typeof navigator !== "undefined" && navigator.connection ? navigator.connection : null;
    this.connectionType = this.connection ? this.connection.type : undefined;
    this.onNetworkChange = () => this.networkChanged();
    this.onConnectionChange = () => {
      if (this.connection.type === this.connectionType) return;
      this.connectionType = this.connection.type;
      this.networkChanged();
    };
    window.addEventListener("online", this.onNetworkChange);
    if (this.connection) this.connection.addEventListener("change", this.onConnectionChange);
  }

  // The device's network changed: look for a new path now (once per silent spell, as for silence).
  networkChanged() {
    if (!this.armed || this.silent || this.pc.connectionState === "closed") return;
    this.silent = true;
    this.lastChangeAt = performance.now();
    this.onSilence();
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
        const elapsed = Math.max(1, now - this.lastChangeAt);
        this.mediaFlowing = this.lastBytes >= 0 && ((bytes - this.lastBytes) * 1000) / elapsed >= MEDIA_BYTES_PER_S;
        this.lastBytes = bytes;
        this.lastChangeAt = now;
        if (this.silent) {
          this.silent = false;
          this.onHeard();
        }
      } else if (!this.silent && now - this.lastChangeAt >= (this.mediaFlowing ? MEDIA_SILENCE_MS : SILENCE_MS)) {
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
    window.removeEventListener("online", this.onNetworkChange);
    if (this.connection) this.connection.removeEventListener("change", this.onConnectionChange);
  }
}
