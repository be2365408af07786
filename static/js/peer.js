// One RTCPeerConnection per match, with MDN's perfect negotiation: the polite side
// rolls back on an offer collision, the impolite side ignores the colliding offer.
// Chat and control messages share one negotiated data channel (never the server).

import { KEEPALIVE_EVERY_MS, LinkWatch } from "./link_watch.js";
import { readPeerMessage } from "./peer_messages.js";

const DISCONNECTED_GRACE_MS = 3000;
// Candidates kept while the description they belong to has not come yet (a real browser sends a few dozen).
const MAX_EARLY_CANDIDATES = 100;

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
    this.remoteStream = new MediaStream();

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
    this.pc.addEventListener("track", ({ track }) => {
      this.remoteStream.addTrack(track);
      this.dispatchEvent(new CustomEvent("remotestream", { detail: this.remoteStream }));
    });
    this.pc.addEventListener("connectionstatechange", () => this.onConnectionState());
    this.channel.addEventListener("open", () => {
      this.startKeepalive();
      this.dispatchEvent(new Event("channelopen"));
    });
    this.channel.addEventListener("close", () => {
      clearInterval(this.keepaliveTimer);
      this.dispatchEvent(new Event("channelclose"));
    });
    // A silent path is a dead one: look for a new path now rather than when the browser notices.
    // Either side may restart (the new offer goes out through negotiationneeded); perfect
    // negotiation settles two crossing offers.
    this.linkWatch = new LinkWatch(this.pc, () => this.pc.restartIce());
    this.channel.addEventListener("message", (event) => this.onChannelMessage(event.data));
  }

  async negotiate() {
    // The first offer is the impolite side's: both sides adding tracks at once would
    // otherwise start every call with a collision. Later renegotiation (restartIce,
    // a new track) may come from either side; perfect negotiation settles collisions.
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
  // description or a candidate the browser accepts is dropped.
  async handleSignal(data) {
    if (this.closed || !data || typeof data !== "object") return;
    const { description, candidate } = data;
    try {
      if (description) {
        const collision = description.type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
        this.ignoreOffer = !this.polite && collision;
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
    if (state === "failed") {
      this.pc.restartIce();
    } else if (state === "disconnected") {
      // A network change often heals by itself; if not, look for a new path.
      this.disconnectTimer = setTimeout(() => {
        if (this.pc.connectionState === "disconnected") this.pc.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
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
    this.pc.restartIce();
  }

  // An offer still waiting for its answer when the signaling socket broke may never have reached
  // the stranger: send it again (perfect negotiation settles it if it did).
  resendPendingOffer() {
    if (this.closed || this.pc.signalingState !== "have-local-offer" || !this.pc.localDescription) return false;
    this.sendSignal({ description: this.pc.localDescription });
    return true;
  }

  // The call's signaling moved to a new connection (docs/protocol.md, "Resuming a match"). Fresh
  // TURN credentials for the relays the restart allocates, under the policy in force ("Hide my
  // IP" stays relay-only). Everything signaled while the socket was down is lost, so instead of
  // replaying it the page restarts ICE: its network may have changed, and new candidates go out.
  resume(iceServers) {
    if (this.closed) return;
    this.useIceServers(iceServers);
    this.resendPendingOffer();
    this.pc.restartIce();
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
    clearInterval(this.keepaliveTimer);
    this.linkWatch.stop();
    this.channel.close();
    this.pc.close();
    for (const track of this.remoteStream.getTracks()) track.stop();
  }
}
