// The WebSocket to the signaling server (docs/protocol.md), reconnecting with backoff.
// Every server message is dispatched as an event named after its type.

import { CLOSE_BANNED, CLOSE_TOO_MANY_CONNECTIONS, TOO_MANY_CONNECTIONS } from "./protocol.js";

const MAX_BACKOFF_MS = 15000;
// While a call waits to be resumed, the server holds it only for a few seconds (MEET_RESUME_GRACE,
// default 10): the first retry goes at once and the later ones at most this far apart.
const HURRIED_BACKOFF_MS = 1000;
// Close codes after which reconnecting cannot help.
const FINAL_CLOSE_CODES = new Set([CLOSE_BANNED]);

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
    // Whether the current connection's hello has come: until then the server's rules version and
    // proof-of-work challenge are not known, and nothing that needs them may go out.
    this.greeted = false;
    // After `too_many_connections`: ms until the address may connect again, or null for "when asked".
    this.comeBackAfter = undefined;
  }

  connect() {
    this.stopped = false;
    this.comeBackAfter = undefined;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.greeted = false;
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
      if (message && message.type === "error" && message.code === TOO_MANY_CONNECTIONS) {
        const seconds = Number(message.retry_after);
        this.comeBackAfter = message.reason === "rate" && seconds > 0 ? Math.min(seconds, 120) * 1000 : null;
      }
      if (message && message.type === "hello" && this.socket === socket) this.greeted = true;
      if (message && typeof message.type === "string") {
        this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
      }
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.greeted = false;
      // Turned away for the address's open connections: only the visitor can free a place.
      const refused = event.code === CLOSE_TOO_MANY_CONNECTIONS;
      const final = this.stopped || FINAL_CLOSE_CODES.has(event.code) || (refused && !this.comeBackAfter);
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code, final } }));
      if (final) return;
      if (refused) this.reconnectIn(this.comeBackAfter);
      else this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const hurried = this.hurry();
    const base = Math.min(hurried ? HURRIED_BACKOFF_MS : MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    const delay = hurried && this.attempt === 0 ? 0 : base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.reconnectIn(delay);
  }

  reconnectIn(delay) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  // The visitor asks again after the server closed for good (say, once another tab is shut). A
  // connection already open, on its way, or planned for later is left as it is.
  reconnect() {
    if (this.socket !== null || this.retryTimer !== null || this.stopped) return;
    this.attempt = 0;
    this.connect();
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
    this.retryTimer = null;
    if (this.socket) this.socket.close(1000);
  }
}

export function signalingUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}
