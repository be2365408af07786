// Taking the current call over on a new signaling connection (docs/protocol.md, "Resuming a
// match on a new connection"). A phone that moves from Wi-Fi to mobile data loses its
// WebSocket; the call itself can move to the new network with an ICE restart, but the restart's
// offer reaches the stranger only through the server, so the new WebSocket must hold the match.
//
// The server gives a token with every `matched` (once `join` or `next` said `resume: true`) and
// the next one with every `resumed`; each works once. This module keeps the current match's
// token and says what the page should do at each step; call.js does it.

import { BAD_MESSAGE, RESUME_FAILED } from "./protocol.js";

// An older server answers `resume` with `bad_message`; one that says nothing at all must not
// leave the call unlinked for ever either.
export const RESUME_ANSWER_MS = 5000;

export class MatchResume {
  constructor() {
    this.matchId = null;
    this.token = null;
    this.awaiting = false; // the socket broke mid-call: signaling is cut off until `resumed`
    this.sent = false; // a `resume` went out on the current connection
    this.abandoned = null; // a call this page left while cut off: { match_id, token }
    this.timer = null;
  }

  // `matched` or `resumed`: the token for this match (none from a server that cannot resume).
  remember({ match_id: matchId, resume }) {
    this.settle();
    this.matchId = matchId;
    this.token = typeof resume === "string" && resume ? resume : null;
  }

  // The call ended on this page (Next, Stop, the stranger left): nothing to take over any more.
  // Ended while cut off, though, the server still holds it for us and the stranger waits out the
  // grace: the next connection takes it over only to end it at once (farewell()).
  forget() {
    this.abandoned = this.awaiting && this.token ? { match_id: this.matchId, token: this.token } : null;
    this.settle();
    this.matchId = null;
    this.token = null;
  }

  // The first frames of a new connection after a call was left while cut off, or null. Frames are
  // handled in order: if the resume fails (the match ended meanwhile) the leave changes nothing, and
  // whatever the page sends next (a join) finds the connection free either way.
  farewell() {
    const abandoned = this.abandoned;
    this.abandoned = null;
    return abandoned ? [{ type: "resume", ...abandoned }, { type: "leave" }] : null;
  }

  // The socket closed under a call. True if the server may still hold the match for us, and the
  // page should keep the call and resume it on the next connection; false with no token (an older
  // server), when the page can only go on peer to peer.
  connectionLost(matchId) {
    clearTimeout(this.timer);
    this.sent = false;
    this.awaiting = Boolean(this.token) && this.matchId === matchId;
    return this.awaiting;
  }

  // The first frame a new connection sends after `hello`, or null when there is nothing to resume.
  // `onNoAnswer` runs if neither `resumed` nor `resume_failed` comes in time.
  request(onNoAnswer) {
    if (!this.awaiting) return null;
    this.sent = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.awaiting) onNoAnswer();
    }, RESUME_ANSWER_MS);
    // The token stays until it is answered: if this connection breaks too before the answer, the
    // next one tries it again (a used token then gets `resume_failed`, which ends the call).
    return { type: "resume", match_id: this.matchId, token: this.token };
  }

  // Is this `resumed` the answer to our `resume`? A late one (after the page gave up waiting and
  // went on peer to peer) still counts: the server links the two of us again.
  isOurs(resumed) {
    return Boolean(resumed) && resumed.match_id === this.matchId && this.matchId !== null;
  }

  // An `error` while awaiting the answer: `resume_failed` ends the match; `bad_message` means a
  // server that does not know `resume` (the only frame sent on this connection so far).
  refusedBy(code) {
    return this.awaiting && this.sent && (code === RESUME_FAILED || code === BAD_MESSAGE);
  }

  // Signaling goes to the server only while it links us to the stranger.
  get cutOff() {
    return this.awaiting;
  }

  settle() {
    clearTimeout(this.timer);
    this.timer = null;
    this.awaiting = false;
    this.sent = false;
  }
}
