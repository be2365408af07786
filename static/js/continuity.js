// Does the call go on unlinked? The server links two strangers' pages for as long as it holds their
// match; once it no longer does (a connection broke, a resume failed), the call may still run peer to
// peer. Then the server carries neither its signals nor a report of it, and only the stranger's page
// (closing the data channel, a `bye`, a failed connection) can say that the stranger left.

// What follows when the server lets go of the call.
export const GOES_ON = "goes_on"; // unlinked, peer to peer
export const NEVER_CONNECTED = "never_connected"; // the connect deadline was nearly over: look again
export const OVER = "over";

// Why the server let go.
export const PARTNER_LEFT = "partner_left"; // its `partner_left`, with a `reason`
export const RESUME_FAILED = "resume_failed"; // it no longer holds our match, or cannot resume
export const SOCKET_LOST = "socket_lost"; // our socket closed, with no token to resume the match

// `call`: { connectionState, channelOpen, nearlyExpired }, the last saying the connect deadline is
// about to run out. A stranger whose page lost touch with the server (`reason` "disconnect") has not
// left us, nor has a stranger after our own resume failed, so long as the call runs, data channel
// included: had they left, their page would have closed it. With no token to resume, our own socket
// lost ends nothing that still connects.
export function afterServerLetGo(why, { connectionState, channelOpen, nearlyExpired = false, reason = null }) {
  const connected = connectionState === "connected";
  if (why === SOCKET_LOST) return connected ? GOES_ON : OVER;
  if (nearlyExpired) return NEVER_CONNECTED;
  if (why === PARTNER_LEFT && reason !== "disconnect") return OVER;
  return connected && channelOpen ? GOES_ON : OVER;
}

// Signals, reports and the like go to the server only while it links us to the stranger: neither
// unlinked, nor cut off while our connection is being replaced.
export function serverLinks({ unlinked, cutOff }) {
  return !unlinked && !cutOff;
}

// The stranger's page says the call is over (`sign`: "channelclose", "bye" or "failed"). While the
// server links us, only its `partner_left` ends the match: acting on the page's word would queue us
// while the server still holds the call. A connection that fails while we are cut off is restarted
// when the call resumes.
export function strangerEnded(sign, { unlinked, cutOff }) {
  if (sign === "failed") return unlinked;
  return unlinked || cutOff;
}
