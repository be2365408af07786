// Where the page is in meeting strangers, and whether the visitor wants to: no DOM, no socket.
//
//   idle --search--> searching --matched--> connecting --connected--> connected
//     ^                                                                   |
//     +------------------- stop / pause (any phase) ----------------------+
//
// `wantCall` holds from Talk to Aliens until Stop, or until a refusal only the visitor can answer.
// Next, a stranger who left and a failed connection all search again from any phase.

export const IDLE = "idle";
export const SEARCHING = "searching";
export const CONNECTING = "connecting";
export const CONNECTED = "connected";
export const PHASES = [IDLE, SEARCHING, CONNECTING, CONNECTED];

// What a new signaling connection's `hello` leads to when it has no call to resume.
export const HELLO_UNLINK = "unlink"; // a call goes on: the new connection is a stranger to the server
export const HELLO_JOIN = "join"; // the visitor wants to meet strangers: queue again
export const HELLO_READY = "ready"; // nothing going on: say the page is ready

export class CallPhase {
  // `changed(phase, status)` runs on every change, `status` being what the page should say, if anything.
  constructor(changed = () => {}) {
    this.changed = changed;
    this.phase = IDLE;
    this.wantCall = false;
  }

  get idle() {
    return this.phase === IDLE;
  }

  get searching() {
    return this.phase === SEARCHING;
  }

  get connected() {
    return this.phase === CONNECTED;
  }

  set(phase, status) {
    if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}`);
    this.phase = phase;
    this.changed(phase, status);
  }

  // Looking for a stranger, as the visitor asked.
  search(status) {
    this.wantCall = true;
    this.set(SEARCHING, status);
  }

  matched(status) {
    this.set(CONNECTING, status);
  }

  connect(status) {
    this.set(CONNECTED, status);
  }

  // Said again in the current phase (a call resumed on a new connection).
  say(status) {
    this.set(this.phase, status);
  }

  // Idle until the visitor asks again.
  stop(status) {
    this.wantCall = false;
    this.set(IDLE, status);
  }

  // Idle for now; a visitor who wants a call is queued again when that is possible.
  pause(status) {
    this.set(IDLE, status);
  }

  // A limit said when to come back: is the visitor still waiting for it?
  get waitingToSearch() {
    return this.wantCall && this.phase === IDLE;
  }

  afterHello(hasCall) {
    if (hasCall) return HELLO_UNLINK;
    if (this.wantCall) return HELLO_JOIN;
    if (this.phase === IDLE) return HELLO_READY;
    return null;
  }
}
