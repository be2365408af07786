// Fresh TURN credentials for a call that outlives its own (docs/protocol.md, refresh_ice_servers).
// coturn checks a credential only when a relay is allocated, so a call keeps its relay; but an
// ICE restart (a new network, Hide my IP) allocates anew, and must not do so with a stale credential.

import { NOT_MATCHED, RATE_LIMITED } from "./protocol.js";

// Ask when this share of the credential's lifetime has gone by.
const REFRESH_AT = 0.8;
// The server answers one request per 30 s; a clock far off ours must not make us ask in a loop.
const MIN_DELAY_MS = 45000;

// When the earliest TURN credential among these servers expires (ms since the epoch), or null.
// The username is "<expiry unix time>:<label>" (coturn's shared-secret scheme).
export function credentialExpiry(iceServers) {
  let earliest = null;
  for (const server of iceServers || []) {
    if (!server || typeof server.username !== "string") continue;
    const seconds = Number.parseInt(server.username.split(":", 1)[0], 10);
    if (!Number.isFinite(seconds)) continue;
    const ms = seconds * 1000;
    if (earliest === null || ms < earliest) earliest = ms;
  }
  return earliest;
}

export class IceRefresh {
  // `request` sends refresh_ice_servers; the page hands the answer to schedule() again.
  constructor(request) {
    this.send = request;
    this.timer = null;
    this.pending = false; // a request is out and not answered yet
  }

  request() {
    this.pending = true;
    this.send();
  }

  // The server's `ice_servers` came.
  answered() {
    this.pending = false;
  }

  // Is this error the answer to our request? (`not_matched`: the call ended meanwhile.)
  refusedBy(code) {
    if (!this.pending || (code !== RATE_LIMITED && code !== NOT_MATCHED)) return false;
    this.pending = false;
    return true;
  }

  // Plan the next request for the servers a call uses now (nothing to plan without TURN).
  schedule(iceServers, now = Date.now()) {
    this.stop();
    const expiry = credentialExpiry(iceServers);
    if (expiry === null) return null;
    const delay = Math.max(MIN_DELAY_MS, (expiry - now) * REFRESH_AT);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.request();
    }, delay);
    return delay;
  }

  // The server asked us to wait (rate_limited with retry_after).
  retryAfter(seconds) {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.request();
    }, Math.max(1, seconds) * 1000);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.pending = false;
  }
}
