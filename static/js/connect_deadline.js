// A call that never connects must not sit on "Connecting…" for ever: after a bounded
// wait from `matched` the page gives up on this stranger and goes back to the queue.

export const CONNECT_TIMEOUT_MS = 10000;
// The stranger's page gives up at about the same moment we do, so a `partner_left`
// this close to our own deadline is that same failure seen from their side.
const SAME_FAILURE_MS = 2000;

export class ConnectDeadline {
  constructor(onExpired, timeoutMs = CONNECT_TIMEOUT_MS) {
    this.timeoutMs = timeoutMs;
    this.endsAt = performance.now() + timeoutMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      onExpired();
    }, timeoutMs);
  }

  get pending() {
    return this.timer !== null;
  }

  // True when the partner leaving now most likely means they could not connect either.
  nearlyExpired() {
    return this.pending && this.endsAt - performance.now() <= SAME_FAILURE_MS;
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}
