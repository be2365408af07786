// The call with the current stranger: its PeerSession and what watches over it (the connect
// deadline, the connection report, the picture watchdog, the connection figures), from `matched`
// until the call ends, and whether the server still links the two of us.

import { ConnectDeadline } from "./connect_deadline.js";
import { watchConnection } from "./connection_report.js";
import { serverLinks, strangerEnded } from "./continuity.js";
import { format, formatList, gettext } from "./i18n.js";
import { sharedLanguagesSentence } from "./languages.js";
import { PeerSession } from "./peer.js";
import { PictureWatchdog } from "./picture_watchdog.js";
import { recentChat } from "./report.js";

const STATS_EVERY_MS = 2000;

export class CurrentCall {
  // `page`: { strangerLeft(), couldNotConnect(kind), linkChanged() }; the rest are the page's parts.
  constructor({ ui, view, chat, shield, translation, signaling, resume, iceRefresh, lastMatch, media, phase, admission, page }) {
    Object.assign(this, { ui, view, chat, shield, translation, signaling, resume, iceRefresh, lastMatch, media, phase, admission, page });
    this.session = null;
    this.unlinked = false; // the call goes on peer to peer, but the server no longer links the two of us
    this.iceServers = [];
    this.relayOffered = false; // hello says whether calls get a TURN relay; its credentials come with `matched`
    this.connectDeadline = null; // from `matched` until the call first connects
    this.connectionWatch = null; // reports once how this call connected (connection_report.js)
    this.pictureWatchdog = null; // brings back the stranger's picture if it freezes (picture_watchdog.js)
    this.pictureRecoveries = 0; // on this page, for the tests
    this.statsTimer = null;
    this.lastQuality = null;
  }

  // Whether signals and reports of this call may go to the server now (continuity.js).
  get linked() {
    return serverLinks({ unlinked: this.unlinked, cutOff: this.resume.cutOff });
  }

  // What continuity.js needs to know of the call.
  get condition() {
    const { session, connectDeadline } = this;
    return {
      connectionState: session.pc.connectionState,
      channelOpen: session.channelOpen,
      nearlyExpired: Boolean(connectDeadline && connectDeadline.nearlyExpired()),
    };
  }

  strangerEnded(sign) {
    return strangerEnded(sign, { unlinked: this.unlinked, cutOff: this.resume.cutOff });
  }

  // The call goes on peer to peer, but the server no longer links the two of us.
  unlink() {
    this.unlinked = true;
    this.page.linkChanged();
  }

  start({ match_id: matchId, polite, interests, languages = [] }) {
    this.end();
    const { ui, chat } = this;
    const session = new PeerSession({
      matchId,
      polite,
      iceServers: this.iceServers,
      relayOnly: ui.hideIp.checked,
      localStream: this.media.stream,
      // While the socket is down and the call not yet resumed, signals are dropped rather than
      // queued: the stranger may have moved on meanwhile, and after `resumed` the session re-sends
      // an offer still waiting for its answer and restarts ICE, which gathers and sends new
      // candidates (PeerSession.resume).
      sendSignal: (data) => {
        if (this.session === session && this.linked) this.signaling.send({ type: "signal", match_id: matchId, data });
      },
    });
    this.session = session;
    chat.startCall(matchId);
    this.page.linkChanged();
    this.unlinked = false;
    // Stopped (or told the call failed) by end(), which runs before the frame that ends the match
    // on the server: a report is never dropped for a call that has just ended.
    this.connectionWatch = watchConnection(session.pc, (report) => {
      if (this.linked) this.signaling.send({ type: "connection_report", match_id: matchId, ...report });
    });
    this.pictureWatchdog = new PictureWatchdog(ui.remoteVideo, () => session.framesDecoded(), {
      onFrozen: () => {
        if (this.session !== session) return;
        ui.remoteVideo.srcObject = new MediaStream(session.remoteStream.getTracks());
        session.askForPicture();
      },
      onRecovered: () => {
        if (this.session !== session) return;
        this.pictureRecoveries += 1;
        if (this.linked) this.signaling.send({ type: "picture_recovered", match_id: matchId });
      },
    });
    this.shield.startCall();
    const current = (handler) => (event) => { if (this.session === session) handler(event); };
    session.addEventListener("remotestream", current((event) => { ui.remoteVideo.srcObject = event.detail; }));
    session.addEventListener("state", current((event) => this.connectionStateChanged(event.detail)));
    session.addEventListener("channelopen", current(() => {
      chat.enable(true);
      session.sendPeer({ kind: "mic", on: this.media.micOn });
      session.sendPeer({ kind: "camera", on: this.media.cameraOn });
    }));
    // While our socket is down the server cannot tell us the stranger left; their page closing the
    // call (or their `bye`, sent only once the server no longer links them) says it.
    session.addEventListener("channelclose", current(() => {
      chat.enable(false);
      if (this.strangerEnded("channelclose")) this.page.strangerLeft();
    }));
    session.addEventListener("peermessage", current((event) => this.peerMessage(event.detail)));
    chat.add(
      interests.length
        ? format(gettext("Matched! You both like %(interests)s."), { interests: formatList(interests) })
        : gettext("Matched with a random stranger. Say hi!"),
      "notice",
    );
    if (languages.length) chat.add(sharedLanguagesSentence(languages), "notice");
    this.translation.startCall(matchId, languages, this.admission.languages);
    this.phase.matched(gettext("Connecting…"));
    this.view.remoteMessage(gettext("Connecting…"));
    this.connectDeadline = new ConnectDeadline(() => { if (this.session === session) this.page.couldNotConnect("next"); });
  }

  connectionStateChanged(connectionState) {
    if (connectionState === "connected") {
      if (this.connectDeadline) this.connectDeadline.cancel();
      this.phase.connect(gettext("Connected"));
      this.view.remoteMessage("");
      this.startStats();
    } else if (connectionState === "disconnected" || connectionState === "failed") {
      this.view.status(gettext("Reconnecting to the stranger…"));
      if (connectionState === "failed" && this.strangerEnded("failed")) this.page.strangerLeft();
    }
  }

  peerMessage(message) {
    switch (message.kind) {
      case "text":
        this.chat.add(message.text, "stranger");
        break;
      case "typing":
        this.chat.showTyping();
        break;
      case "camera":
      case "mic":
        this.view.strangerDevice(message.kind, message.on);
        break;
      case "bye":
        if (this.strangerEnded("bye")) this.page.strangerLeft();
        break;
      default:
        break;
    }
  }

  // Hide my IP was switched: the call goes through the relay only, or may go direct again.
  relayOnlyChanged() {
    const relayOnly = this.ui.hideIp.checked;
    const hasTurn = this.iceServers.some((server) => [].concat(server.urls).some((url) => url.startsWith("turn")));
    // Before a call only hello's `relay` tells: the relay's credentials come with `matched`.
    const relayAvailable = hasTurn || (!this.session && this.relayOffered);
    if (relayOnly && !relayAvailable) this.view.status(gettext("Hide my IP needs our relay, which is not available right now."));
    if (this.session) this.session.setRelayOnly(relayOnly, this.iceServers);
  }

  // The chat box talks to the current stranger over the data channel.
  wireChat() {
    const { chat } = this;
    chat.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = chat.take();
      if (!text) return;
      if (this.session && this.session.sendPeer({ kind: "text", text })) {
        chat.add(text, "me");
      } else {
        chat.add(gettext("Not sent: you are not connected to a stranger yet."), "notice");
      }
    });
    chat.input.addEventListener("input", () => {
      if (this.session && chat.input.value && chat.typingDue()) this.session.sendPeer({ kind: "typing" });
    });
  }

  // Counted by both browsers, even when the stranger's page gave up a moment sooner.
  failedToConnect() {
    if (this.connectionWatch) this.connectionWatch.finish({ failed: true });
  }

  // Said to the stranger's page when this one leaves a call the server no longer links.
  sayBye() {
    if (this.session && this.unlinked) this.session.sendPeer({ kind: "bye" });
  }

  end() {
    const { session, chat } = this;
    if (!session) return;
    if (this.connectionWatch) this.connectionWatch.finish();
    this.connectionWatch = null;
    // Someone who exposes themselves tends to leave, or be skipped, before Report is pressed.
    if (!this.unlinked) this.lastMatch.ended(session.matchId, recentChat(chat.log, session.matchId));
    this.session = null;
    this.unlinked = false;
    this.resume.forget();
    this.iceRefresh.stop();
    this.shield.endCall();
    if (this.connectDeadline) this.connectDeadline.cancel();
    this.connectDeadline = null;
    if (this.pictureWatchdog) this.pictureWatchdog.stop();
    this.pictureWatchdog = null;
    session.close();
    clearInterval(this.statsTimer);
    this.lastQuality = null;
    this.view.callEnded();
    chat.enable(false);
    chat.clearTyping();
  }

  startStats() {
    clearInterval(this.statsTimer);
    const session = this.session;
    this.statsTimer = setInterval(async () => {
      if (this.session !== session) return;
      const quality = await session.quality(this.lastQuality);
      this.lastQuality = quality;
      this.view.quality(quality);
    }, STATS_EVERY_MS);
  }
}
