// What the call page does with each server message (docs/protocol.md). Answers to a request of ours
// (a resume, a report, fresh ICE servers) are claimed first by the part that asked; any other
// `error` is looked up by its code in ERROR_ACTIONS.

import { Admission } from "./admission.js";
import { HELLO_JOIN, HELLO_READY, HELLO_UNLINK } from "./call_phase.js";
import { GOES_ON, NEVER_CONNECTED, PARTNER_LEFT, RESUME_FAILED, SOCKET_LOST, afterServerLetGo } from "./continuity.js";
import { gettext } from "./i18n.js";
import * as protocol from "./protocol.js";

// An error code and what the page does with it. A `rate_limited` with `retry_after` refuses a join
// or next (admission.js); without, some other frame.
export const ERROR_ACTIONS = {
  [protocol.TOO_MANY_CONNECTIONS]: "tooManyConnections",
  [protocol.BANNED]: "banned",
  [protocol.RULES_REQUIRED]: "admissionRefused",
  [protocol.POW_REQUIRED]: "admissionRefused",
  [protocol.POW_INVALID]: "admissionRefused",
  [protocol.POW_EXPIRED]: "admissionRefused",
  [protocol.RATE_LIMITED]: "notice",
  [protocol.UNAVAILABLE]: "notice",
  [protocol.NOT_MATCHED]: "ignore",
  [protocol.RESUME_FAILED]: "ignore",
};

// The action for an `error` no request of ours claimed: a name in ERROR_ACTIONS, or "warn".
export function errorAction(detail) {
  if (Admission.refuses(detail)) return "admissionRefused";
  return Object.hasOwn(ERROR_ACTIONS, detail.code) ? ERROR_ACTIONS[detail.code] : "warn";
}

export class ServerEvents {
  // The page's parts (CallPhase, CurrentCall, Admission, MatchResume, IceRefresh, ReportSender,
  // LastMatch, CallView, ChatView) and `page`: { search(kind), strangerLeft(), couldNotConnect(kind) }.
  constructor(parts) {
    Object.assign(this, parts);
  }

  listen(signaling) {
    this.signaling = signaling;
    for (const type of ["hello", "online", "waiting", "matched", "resumed", "ice_servers", "partner_resumed", "signal", "partner_left", "error", "close"]) {
      signaling.addEventListener(type, (event) => this[type](event.detail));
    }
  }

  hello(detail) {
    const { call, resume, signaling } = this;
    // Before anything else on a new connection: it must not look like a newcomer to the server.
    const resumeRequest = call.session ? resume.request(() => this.resumeFailed(false)) : null;
    if (resumeRequest) signaling.send(resumeRequest);
    // A call left while cut off is ended on the server now, rather than when its grace runs out.
    else for (const frame of resume.farewell() || []) signaling.send(frame);
    this.admission.hello(detail);
    // hello carries STUN only: a call going on keeps the servers (and TURN credential) it was given.
    if (!call.session) call.iceServers = detail.ice_servers || [];
    call.relayOffered = detail.relay === true;
    this.view.online(detail.online);
    // With a resume asked, the call goes on once `resumed` (or, failing that, `resume_failed`) answers.
    if (resumeRequest) return;
    const next = this.phase.afterHello(Boolean(call.session));
    // A new socket means a new identity on the server: the call continues peer to peer only.
    if (next === HELLO_UNLINK) call.unlink();
    else if (next === HELLO_JOIN) this.page.search("join");
    else if (next === HELLO_READY) this.view.status(gettext("Ready when you are."));
  }

  online(detail) {
    this.view.online(detail.count);
  }

  waiting() {
    if (this.phase.searching) this.view.remoteMessage(gettext("Looking for a stranger…"));
  }

  matched(detail) {
    const { call } = this;
    if (!this.phase.wantCall) {
      this.signaling.send({ type: "leave" });
      return;
    }
    if (detail.ice_servers) call.iceServers = detail.ice_servers; // fresh TURN credential per call
    call.start(detail);
    this.resume.remember(detail);
    this.iceRefresh.schedule(call.iceServers);
  }

  resumed(detail) {
    const { call } = this;
    const session = call.session;
    if (!session || !this.resume.isOurs(detail)) return;
    this.resume.remember(detail); // the next token: each works once
    call.unlinked = false; // even after giving up waiting for this answer: the server links us again
    if (detail.ice_servers) call.iceServers = detail.ice_servers;
    this.phase.say(this.phase.connected ? gettext("Connected") : gettext("Connecting…"));
    session.resume(call.iceServers);
    this.iceRefresh.schedule(call.iceServers);
  }

  ice_servers(detail) {
    const { call } = this;
    this.iceRefresh.answered();
    const servers = detail.ice_servers;
    if (!call.session || !Array.isArray(servers)) return;
    call.iceServers = servers;
    call.session.useIceServers(servers);
    this.iceRefresh.schedule(servers);
  }

  partner_resumed(detail) {
    const session = this.call.session;
    if (!session || session.matchId !== detail.match_id || !this.call.linked) return;
    // What we sent while the stranger's socket was down is lost, and their network may have changed:
    // the restart offerer (peer.js) restarts ICE, the other side waits for that offer.
    session.partnerResumed();
  }

  signal({ match_id: matchId, data }) {
    const { session, unlinked } = this.call;
    if (session && session.matchId === matchId && !unlinked) session.handleSignal(data);
  }

  partner_left(detail) {
    // Our report crossed the stranger's Next or Stop: the server filed it for a call already over, so
    // it did not queue us as it does after a report; the page, looking for someone new, asks itself.
    if (this.reports.crossedBy(detail.match_id)) {
      if (this.phase.searching) this.admission.admit(this.admission.join);
      return;
    }
    const session = this.call.session;
    if (!session || session.matchId !== detail.match_id) return;
    const after = afterServerLetGo(PARTNER_LEFT, { ...this.call.condition, reason: detail.reason });
    if (after === NEVER_CONNECTED) {
      this.page.couldNotConnect("join");
    } else if (after === GOES_ON) {
      this.call.unlink();
      this.chat.add(gettext("The stranger lost touch with our server, but your call goes on."), "notice");
    } else {
      this.page.strangerLeft();
    }
  }

  // The server no longer holds our match (`resume_failed`: the stranger left, or the server's grace
  // ran out or it restarted), or cannot resume at all (an older server; no answer in time). Then the
  // server has told the stranger, or will, that we lost touch: a call still running goes on unlinked.
  resumeFailed(matchEnded) {
    const { call, resume } = this;
    resume.settle(); // without `matchEnded`, a late `resumed` still links us again
    if (matchEnded) resume.forget(); // answered: nothing is left for the server to hold
    if (!call.session) return;
    const after = afterServerLetGo(RESUME_FAILED, call.condition);
    if (after === NEVER_CONNECTED) {
      this.page.couldNotConnect("join");
    } else if (after === GOES_ON) {
      call.unlink();
      this.view.status(gettext("Connected"));
    } else {
      this.page.strangerLeft();
    }
  }

  // An error that answers a request of ours, handled by the part that asked: true if claimed.
  claimed(detail) {
    const { code } = detail;
    if (this.resume.refusedBy(code)) {
      this.resumeFailed(code === protocol.RESUME_FAILED);
    } else if (this.reports.refusedBy(detail)) {
      // The answer to a report: Reporting.failed tells the visitor.
    } else if (this.iceRefresh.refusedBy(code)) {
      if ("retry_after" in detail) this.iceRefresh.retryAfter(detail.retry_after);
    } else {
      return false;
    }
    return true;
  }

  error(detail) {
    if (this.claimed(detail)) return;
    const action = errorAction(detail);
    if (action === "tooManyConnections") this.tooManyConnections(detail);
    else if (action === "banned") this.banned(detail);
    else if (action === "admissionRefused") this.admission.refused(detail);
    else if (action === "notice") this.view.status(detail.message);
    else if (action === "warn") console.warn("server refused a message:", detail.code, detail.message);
  }

  // The address has too many connections open, or opened too many this minute. For the rate, the
  // signaling connection comes back by itself when the server says, and a visitor who asked to meet
  // strangers is then queued; for open connections, only the visitor can free one (Talk to Aliens).
  tooManyConnections({ message, reason }) {
    this.view.status(message);
    if (this.call.session) {
      // The call goes on peer to peer meanwhile; without a connection to come back, unlinked.
      if (reason !== "rate") this.call.unlink();
      return;
    }
    if (reason !== "rate") this.phase.wantCall = false;
    this.phase.pause(message);
    this.view.remoteMessage(message);
  }

  banned({ message }) {
    this.phase.wantCall = false;
    this.view.ui.start.disabled = true;
    this.phase.pause(message);
    this.view.remoteMessage(message);
  }

  close({ code, final }) {
    const { call, view } = this;
    // A new connection is a new visitor to the server: it cannot report the old one's calls.
    this.lastMatch.forget();
    // The server's own words on why it turned us away stay on screen.
    const turnedAway = code === protocol.CLOSE_TOO_MANY_CONNECTIONS;
    if (final) {
      if (!view.ui.start.disabled && !turnedAway) view.status(gettext("Disconnected from AlienMeet."));
      return;
    }
    // A newer connection of ours took the match over; this one's loss changes nothing.
    if (code === protocol.CLOSE_SUPERSEDED) return;
    if (!turnedAway) view.status(gettext("Connection to AlienMeet lost. Reconnecting…"));
    const session = call.session;
    if (!session || call.unlinked) return;
    // Connecting or connected, the call is kept and taken over by the next connection, at once.
    if (this.resume.connectionLost(session.matchId)) return;
    // No token (an older server): the server forgets us, and the call can only go on peer to peer.
    if (afterServerLetGo(SOCKET_LOST, call.condition) === GOES_ON) call.unlink();
    else call.end();
  }
}
