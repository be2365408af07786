// One RTCPeerConnection per match, with MDN's perfect negotiation: the polite side
// rolls back on an offer collision, the impolite side ignores the colliding offer.
// Chat and control messages share one negotiated data channel (never the server).
//
// ICE restarts never collide: only the impolite side offers one (the restart offerer); the polite
// side asks it to (a `{restart: true}` signal). In Chromium a rollback on the polite side can leave
// the stranger's video decoded but never painted again (docs/connectivity.md), so the recovery from
// a network change must not depend on one.

import { KEEPALIVE_EVERY_MS, LinkWatch } from "./link_watch.js";
import { readPeerMessage } from "./peer_messages.js";

const DISCONNECTED_GRACE_MS = 3000;
// Candidates kept while the description they belong to has not come yet (a real browser sends a few dozen).
const MAX_EARLY_CANDIDATES = 100;
// A restart asked for this soon after the last one started is the same one (both sides noticed).
const RESTART_ASK_COOLDOWN_MS = 2000;
// The stranger may ask us to send our video afresh (their picture froze): a few times per call.
const MAX_VIDEO_RESENDS = 5;
const VIDEO_RESEND_COOLDOWN_MS = 3000;
// In a recovery, an offer (or its answer) can vanish with a signaling socket that broke before anyone
// noticed, and no later event need come to send it again: one still unanswered this long goes again.
const OFFER_UNANSWERED_MS = 4000;
const RECOVERY_WINDOW_MS = 60000;

// After the call moved to a new path our video sends a key frame (newPath()), at most one this often: each
// is several frames' worth of bytes, on a path whose bandwidth estimate starts again from low.
const KEY_FRAME_EVERY_MS = 2000;

// Test hooks (tests/browser/test_picture_recovery.py): `crossingRestarts` brings back the old
// restart path, where both sides offer and two offers may cross.
function testHooks() {
  const hooks = globalThis.__alienmeetTest;
  return hooks && typeof hooks === "object" ? hooks : {};
}

export class PeerSession extends EventTarget {
  constructor({ matchId, polite, iceServers, relayOnly, localStream, sendSignal }) {
    super();
    this.matchId = matchId;
    this.polite = polite;
    this.sendSignal = sendSignal;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.pendingCandidates = [];
    this.closed = false;
    this.disconnectTimer = null;
    this.keepaliveTimer = null;
    this.offerTimer = null;
    this.collisions = 0;
    this.remoteStream = new MediaStream();
    this.localStream = localStream;
    this.crossingRestarts = Boolean(testHooks().crossingRestarts);
    this.lastRestartAt = -Infinity;
    this.videoResends = 0;
    this.lastVideoResendAt = -Infinity;
    this.watchedTransports = new WeakSet();
    this.hadPath = false; // a candidate pair was selected once: a later selection is a new path
    this.lastKeyFrameAt = -Infinity;
    this.signals = Promise.resolve(); // the stranger's signals, applied one after the other

    this.pc = new RTCPeerConnection({
      iceServers,
      iceTransportPolicy: relayOnly ? "relay" : "all",
    });
    this.channel = this.pc.createDataChannel("chat", { negotiated: true, id: 0, ordered: true });

    if (localStream) {
      for (const track of localStream.getTracks()) this.pc.addTrack(track, localStream);
    }
    // Receive the stranger's audio and video even when we send neither.
    if (!localStream || localStream.getVideoTracks().length === 0) {
      this.pc.addTransceiver("video", { direction: "recvonly" });
    }
    if (!localStream || localStream.getAudioTracks().length === 0) {
      this.pc.addTransceiver("audio", { direction: "recvonly" });
    }

    this.pc.addEventListener("negotiationneeded", () => this.negotiate());
    this.pc.addEventListener("icecandidate", ({ candidate }) => this.sendSignal({ candidate }));
    this.pc.addEventListener("track", ({ track }) => this.onTrack(track));
    this.pc.addEventListener("connectionstatechange", () => this.onConnectionState());
    this.pc.addEventListener("signalingstatechange", () => {
      this.watchPendingOffer();
      this.watchPath();
    });
    this.channel.addEventListener("open", () => {
      this.startKeepalive();
      this.dispatchEvent(new Event("channelopen"));
    });
    this.channel.addEventListener("close", () => {
      clearInterval(this.keepaliveTimer);
      this.dispatchEvent(new Event("channelclose"));
    });
    // A silent path is a dead one: look for a new path now rather than when the browser notices.
    // Once the stranger is heard again, they get a key frame (newPath()).
    this.linkWatch = new LinkWatch(this.pc, () => this.recover(), () => this.newPath());
    this.channel.addEventListener("message", (event) => this.onChannelMessage(event.data));
  }

  // The side that makes ICE-restart offers: the impolite one (both, with the old crossing path).
  get restartOfferer() {
    return !this.polite || this.crossingRestarts;
  }

  // Look for a new path: restart ICE if we are the restart offerer, else ask the stranger to.
  restart() {
    if (this.closed) return;
    if (this.restartOfferer) {
      this.lastRestartAt = performance.now();
      this.pc.restartIce();
    } else {
      this.sendSignal({ restart: true });
    }
  }

  // The path looks dead (silence, or the browser's own verdict): restart, unless a restart of ours began
  // a moment ago (on `partner_resumed`, say) and is still finding its path; another would start over.
  recover() {
    if (this.restartOfferer && performance.now() - this.lastRestartAt < RESTART_ASK_COOLDOWN_MS) return;
    this.restart();
  }

  // The stranger asked for an ICE restart. One we started (or sent again) a moment ago is the one
  // they need; an offer of ours still unanswered since may have been lost on the way (their socket
  // broke): send it again rather than start another.
  onRestartAsked() {
    if (!this.restartOfferer || this.crossingRestarts) return;
    if (performance.now() - this.lastRestartAt < RESTART_ASK_COOLDOWN_MS) return;
    if (!this.resendPendingOffer()) this.restart();
  }

  async negotiate() {
    // The first offer is the impolite side's: both sides adding tracks at once would
    // otherwise start every call with a collision. ICE restarts, too, come only from the
    // impolite side (restart()); another renegotiation (our video sent afresh) may come
    // from either side, and perfect negotiation settles a collision.
    if (this.polite && !this.pc.currentRemoteDescription) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.sendSignal({ description: this.pc.localDescription });
    } catch (error) {
      console.warn("negotiation failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  // `data` is whatever the stranger's client sent through the server: anything but an SDP
  // description or a candidate the browser accepts is dropped. One signal is applied only once the one
  // before is: after a resume the same offer can come twice in a row (sent before the stranger's socket
  // was replaced, and again after), and a second answer made while the first was still being made would
  // find the call `stable` and make an offer instead, which crosses the stranger's next one.
  handleSignal(data) {
    // A signal that fails is dropped (applySignal says why); the ones after it are still applied.
    this.signals = this.signals.then(() => this.applySignal(data)).catch((error) => console.warn("signal dropped", error));
    return this.signals;
  }

  async applySignal(data) {
    if (this.closed || !data || typeof data !== "object") return;
    const { description, candidate } = data;
    if (data.restart === true) {
      this.onRestartAsked();
      return;
    }
    try {
      if (description) {
        const collision = description.type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
        this.ignoreOffer = !this.polite && collision;
        if (collision) this.collisions += 1; // the polite side rolls back here (read by the tests)
        if (this.ignoreOffer) return;
        await this.pc.setRemoteDescription(description);
        // Candidates that came before the description can be applied now.
        for (const early of this.pendingCandidates.splice(0)) await this.addCandidate(early);
        if (description.type === "offer") {
          await this.pc.setLocalDescription();
          this.sendSignal({ description: this.pc.localDescription });
        }
      } else if (candidate !== undefined) {
        if (!this.pc.remoteDescription) {
          if (this.pendingCandidates.length < MAX_EARLY_CANDIDATES) this.pendingCandidates.push(candidate);
        } else {
          await this.addCandidate(candidate);
        }
      }
    } catch (error) {
      console.warn("signal not applied", error);
    }
  }

  async addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoreOffer) throw error;
    }
  }

  onConnectionState() {
    const state = this.pc.connectionState;
    clearTimeout(this.disconnectTimer);
    this.watchPath();
    if (state === "failed") {
      this.recover();
    } else if (state === "disconnected") {
      // A network change often heals by itself; if not, look for a new path.
      this.disconnectTimer = setTimeout(() => {
        if (this.pc.connectionState === "disconnected") this.recover();
      }, DISCONNECTED_GRACE_MS);
    }
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  // The ICE transport the call's media and data channel share (bundled), once negotiated.
  iceTransport() {
    const carriers = [...this.pc.getSenders(), ...this.pc.getReceivers()];
    if (this.pc.sctp) carriers.push(this.pc.sctp);
    for (const carrier of carriers) {
      const ice = carrier.transport && carrier.transport.iceTransport;
      if (ice) return ice;
    }
    return null;
  }

  // Every change of the selected candidate pair after the first is a new path (a network change, an
  // ICE restart, a move to the relay): our video must start again with a key frame (newPath()).
  watchPath() {
    const ice = this.iceTransport();
    if (!ice || this.watchedTransports.has(ice) || typeof ice.addEventListener !== "function") return;
    this.watchedTransports.add(ice);
    if (typeof ice.getSelectedCandidatePair === "function" && ice.getSelectedCandidatePair()) this.hadPath = true;
    ice.addEventListener("selectedcandidatepairchange", () => {
      if (this.hadPath) this.newPath();
      this.hadPath = true;
    });
  }

  // The call moved to a new path (or the stranger is heard again after a silence). The stranger's
  // decoder lost frames on the old path and waits for a key frame; its request for one (a PLI) may
  // itself have gone out on the dead path, and Chromium asks again only after 3 s without a decodable
  // frame: their picture would stand still that long. So our video sends one of its own accord, through
  // RTCRtpSender.setParameters' `encodingOptions` (a browser without them ignores the option).
  newPath() {
    const now = performance.now();
    if (this.closed || now - this.lastKeyFrameAt < KEY_FRAME_EVERY_MS) return;
    this.lastKeyFrameAt = now;
    for (const sender of this.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== "video") continue;
      const parameters = sender.getParameters();
      if (!parameters.encodings || parameters.encodings.length === 0) continue;
      const encodingOptions = parameters.encodings.map(() => ({ keyFrame: true }));
      sender.setParameters(parameters, { encodingOptions }).catch(() => {});
    }
  }

  startKeepalive() {
    clearInterval(this.keepaliveTimer);
    // The first one at once: the stranger's watch is armed from the moment the channel opens.
    this.sendPeer({ kind: "keepalive" });
    this.keepaliveTimer = setInterval(() => this.sendPeer({ kind: "keepalive" }), KEEPALIVE_EVERY_MS);
  }

  onChannelMessage(raw) {
    const message = readPeerMessage(raw);
    if (message && message.kind === "keepalive") this.linkWatch.heardKeepalive();
    else if (message && message.kind === "resend_video") this.resendVideo();
    else if (message) this.dispatchEvent(new CustomEvent("peermessage", { detail: message }));
  }

  get channelOpen() {
    return this.channel.readyState === "open";
  }

  sendPeer(message) {
    if (!this.channelOpen) return false;
    this.channel.send(JSON.stringify(message));
    return true;
  }

  setRelayOnly(relayOnly, iceServers) {
    this.pc.setConfiguration({ iceServers, iceTransportPolicy: relayOnly ? "relay" : "all" });
    // The restart offer's answer gathers our candidates anew, under the new policy.
    this.restart();
  }

  // While our offer waits for its answer, send it again now and then (perfect negotiation on the other
  // side takes a repeat as the same offer; an answer to a repeat we no longer wait for is dropped).
  watchPendingOffer() {
    clearTimeout(this.offerTimer);
    if (this.closed || this.pc.signalingState !== "have-local-offer") return;
    // Only in a recovery (an ICE restart or a resume lately): that is when sockets die unnoticed.
    if (performance.now() - this.lastRestartAt > RECOVERY_WINDOW_MS) return;
    this.offerTimer = setTimeout(() => {
      if (this.resendPendingOffer()) this.watchPendingOffer();
    }, OFFER_UNANSWERED_MS);
  }

  // An offer still waiting for its answer when the signaling socket broke may never have reached
  // the stranger: send it again (perfect negotiation settles it if it did).
  resendPendingOffer() {
    if (this.closed || this.pc.signalingState !== "have-local-offer" || !this.pc.localDescription) return false;
    this.lastRestartAt = performance.now();
    this.sendSignal({ description: this.pc.localDescription });
    return true;
  }

  // The call's signaling moved to a new connection (docs/protocol.md, "Resuming a match"). Fresh
  // TURN credentials for the relays the restart allocates, under the policy in force ("Hide my
  // IP" stays relay-only). Everything signaled while the socket was down is lost, so instead of
  // replaying it the call restarts ICE: our network may have changed, and new candidates go out.
  // The restart offerer restarts (or sends again the restart offer the lost socket swallowed); the
  // other side asks it to, though the stranger's page restarts anyway on `partner_resumed`.
  resume(iceServers) {
    if (this.closed) return;
    this.useIceServers(iceServers);
    if (this.crossingRestarts) {
      this.resendPendingOffer();
      this.pc.restartIce();
    } else if (!this.restartOfferer) {
      this.restart();
    } else if (!this.resendPendingOffer()) {
      this.restart();
    }
  }

  // The stranger's signaling moved to a new connection: whatever we sent them meanwhile is lost, and
  // their network may have changed. The restart offerer restarts ICE (or sends its lost offer again).
  partnerResumed() {
    if (this.closed) return;
    if (this.resendPendingOffer() || !this.restartOfferer || this.crossingRestarts) return;
    this.restart();
  }

  // The stranger's video arrives on a new receiver when they send it afresh: it replaces the old one.
  onTrack(track) {
    if (track.kind === "video" && this.remoteStream.getVideoTracks().length) {
      // A new stream object: the <video> starts over with the new track rather than keep the old one.
      this.remoteStream = new MediaStream([...this.remoteStream.getAudioTracks(), track]);
    } else {
      this.remoteStream.addTrack(track);
    }
    this.dispatchEvent(new CustomEvent("remotestream", { detail: this.remoteStream }));
  }

  // Frames of the stranger's video decoded so far.
  async framesDecoded() {
    let frames = 0;
    (await this.pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
    });
    return frames;
  }

  // Our picture froze on the stranger's screen (their picture watchdog): ask them to send their video
  // afresh, which is the only thing that brings a frozen receiver back in Chromium.
  askForPicture() {
    return this.sendPeer({ kind: "resend_video" });
  }

  // The stranger's picture of us froze: send our camera on a new transceiver (a new receiver on their
  // side); the old one keeps carrying their video to us. Bounded: every resend adds to the SDP.
  resendVideo() {
    if (this.closed || this.videoResends >= MAX_VIDEO_RESENDS) return false;
    const now = performance.now();
    if (now - this.lastVideoResendAt < VIDEO_RESEND_COOLDOWN_MS) return false;
    const old = this.pc.getTransceivers().find((t) => !t.stopped && t.sender.track && t.sender.track.kind === "video");
    if (!old) return false;
    this.videoResends += 1;
    this.lastVideoResendAt = now;
    const track = old.sender.track;
    old.sender.replaceTrack(null).catch(() => {});
    old.direction = old.direction === "sendrecv" ? "recvonly" : "inactive";
    const streams = this.localStream ? [this.localStream] : [];
    this.pc.addTransceiver(track, { direction: "sendonly", streams }); // negotiationneeded offers it
    return true;
  }

  // Servers (fresh TURN credentials) for the relays the next ICE restart allocates; the current
  // path is untouched.
  useIceServers(iceServers) {
    if (this.closed || !Array.isArray(iceServers)) return;
    try {
      // Everything else as it is: changing the certificates or bundle policy is refused.
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    } catch (error) {
      console.warn("new ICE servers not applied", error);
    }
  }

  async replaceVideoTrack(track) {
    const sender = this.pc.getSenders().find((s) => s.track && s.track.kind === "video");
    if (sender) await sender.replaceTrack(track);
  }

  // Connection type and quality, from getStats: { type: "direct" | "relayed", rttMs, kbps }.
  async quality(previous) {
    const stats = await this.pc.getStats();
    let pair = null;
    let bytes = 0;
    let frames = 0;
    stats.forEach((report) => {
      if (report.type === "transport" && report.selectedCandidatePairId) pair = stats.get(report.selectedCandidatePairId);
      if (report.type === "inbound-rtp") {
        bytes += report.bytesReceived || 0;
        if (report.kind === "video") frames += report.framesDecoded || 0;
      }
    });
    if (!pair) {
      stats.forEach((report) => {
        if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") pair = report;
      });
    }
    const now = performance.now();
    const local = pair ? stats.get(pair.localCandidateId) : null;
    const remote = pair ? stats.get(pair.remoteCandidateId) : null;
    const relayed = [local, remote].some((c) => c && c.candidateType === "relay");
    const seconds = previous ? (now - previous.at) / 1000 : 0;
    return {
      at: now,
      bytes,
      framesDecoded: frames,
      type: pair ? (relayed ? "relayed" : "direct") : null,
      localCandidateType: local ? local.candidateType : null,
      rttMs: pair && pair.currentRoundTripTime !== undefined ? Math.round(pair.currentRoundTripTime * 1000) : null,
      kbps: previous && seconds > 0 ? Math.round(((bytes - previous.bytes) * 8) / seconds / 1000) : null,
    };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.disconnectTimer);
    clearTimeout(this.offerTimer);
    clearInterval(this.keepaliveTimer);
    this.linkWatch.stop();
    this.channel.close();
    this.pc.close();
    for (const track of this.remoteStream.getTracks()) track.stop();
  }
}
