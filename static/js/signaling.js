// The WebSocket to the signaling server (docs/protocol.md), reconnecting with backoff.
// Every server message is dispatched as an event named after its type.

const MAX_BACKOFF_MS = 15000;
// While a call waits to be resumed, the server holds it only for a few seconds (MEET_RESUME_GRACE,
// default 10): the first retry goes at once and the later ones at most this far apart.
const HURRIED_BACKOFF_MS = 1000;
// Close codes after which reconnecting cannot help.
const FINAL_CLOSE_CODES = new Set([4003]);

export class Signaling extends EventTarget {
  // `hurry()` says whether a lost connection is urgent to replace (a call is being resumed).
  constructor(url, { hurry = () => false } = {}) {
    super();
    this.url = url;
    this.hurry = hurry;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.retryTimer = null;
  }

  connect() {
    this.stopped = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => this.dispatchEvent(new Event("open")));
    socket.addEventListener("message", (event) => {
      // A server that speaks has answered: backoff starts over. (One that accepts and closes at
      // once must not get an immediate retry every time.)
      this.attempt = 0;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message.type === "string") {
        this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
      }
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const final = this.stopped || FINAL_CLOSE_CODES.has(event.code);
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code, final } }));
      if (!final) this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const hurried = this.hurry();
    const base = Math.min(hurried ? HURRIED_BACKOFF_MS : MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    const delay = hurried && this.attempt === 0 ? 0 : base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000);
  }
}

export function signalingUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}
