// How this browser's side of a call connected, told to the server once per call for the
// anonymous statistics (docs/protocol.md, `connection_report`): direct, relayed over
// UDP / TCP / TLS, or failed, and the milliseconds from the match to the connection.

import { CONNECT_TIMEOUT_MS } from "./connect_deadline.js";
import { MAX_CONNECT_MS } from "./protocol.js";

const RELAY_PROTOCOLS = new Set(["udp", "tcp", "tls"]);
const STATS_EVERY_MS = 250;
// ICE may select a first working pair (often through the relay) and switch to a better one a moment
// later: the pair reported is the one that stayed selected this long, with no check still running.
const SETTLE_MS = 2000;
// Reported as selected then, settled or not.
const MAX_SETTLE_MS = 10000;

// The selected candidate pair, from the transport's selectedCandidatePairId, or the
// nominated succeeded pair for browsers that do not name it.
function selectedPair(stats) {
  let pair = null;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId) pair = stats.get(report.selectedCandidatePairId) || pair;
  });
  if (!pair) {
    stats.forEach((report) => {
      if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") pair = report;
    });
  }
  return pair;
}

// Are connectivity checks still running on some pair (a better path may yet be selected)?
function checksRunning(stats) {
  let running = false;
  stats.forEach((report) => {
    if (report.type === "candidate-pair" && report.state === "in-progress") running = true;
  });
  return running;
}

// "direct", "relay_udp", "relay_tcp", "relay_tls", or null when no pair is selected yet.
export function outcomeFromStats(stats) {
  const pair = selectedPair(stats);
  const local = pair ? stats.get(pair.localCandidateId) : null;
  if (!local) return null;
  if (local.candidateType !== "relay") return "direct";
  const protocol = String(local.relayProtocol || "").toLowerCase();
  // A relay whose protocol the browser does not say is counted as UDP, TURN's usual transport.
  return RELAY_PROTOCOLS.has(protocol) ? `relay_${protocol}` : "relay_udp";
}

// Watches the RTCPeerConnection from the moment of the match and calls send(report) once:
// {outcome, connect_ms} when it connects, {outcome: "failed"} when it fails first or has not
// connected when the page gives up on the stranger (CONNECT_TIMEOUT_MS). Call it before the
// page starts its ConnectDeadline: timers of equal delay run in the order they were set, so the
// report goes out while the match is still current, just before the page's `next`.
// Returns { finish }: the call ends (before the RTCPeerConnection is closed). A call that connected
// is reported with the pair selected last if ICE had not settled yet; one that never connected is
// reported `failed` if the page gave up on the stranger (`failed: true`, a moment before its own
// deadline when the stranger's page gave up first), and not at all if the visitor moved on.
export function watchConnection(pc, send, timeoutMs = CONNECT_TIMEOUT_MS) {
  const startedAt = performance.now();
  let done = false;
  let connected = null; // { connectMs, outcome } once connected: the outcome seen last
  const stop = () => {
    done = true;
    clearTimeout(timer);
    pc.removeEventListener("connectionstatechange", onChange);
  };
  const report = (message) => {
    if (done) return;
    stop();
    send(message);
  };
  const giveUp = () => report({ outcome: "failed" });
  const finish = ({ failed = false } = {}) => {
    if (connected && connected.outcome) report({ outcome: connected.outcome, connect_ms: connected.connectMs });
    else if (failed && !connected) giveUp();
    else stop();
  };
  const timer = setTimeout(giveUp, timeoutMs);
  async function onChange() {
    if (done) return;
    if (pc.connectionState === "failed" && !connected) {
      giveUp();
    } else if (pc.connectionState === "connected" && !connected) {
      clearTimeout(timer);
      const connectedAt = performance.now();
      const connectMs = Math.min(MAX_CONNECT_MS, Math.max(0, Math.round(connectedAt - startedAt)));
      connected = { connectMs, outcome: null };
      // The stats may name the selected pair a moment after the state says connected, and ICE may
      // still move to a better pair: report the one it settled on.
      let seen = null;
      let seenSince = connectedAt;
      while (!done) {
        let stats;
        try {
          stats = await pc.getStats();
        } catch {
          return; // closed in the meantime: finish() reported what was seen
        }
        if (done || pc.connectionState === "closed") return;
        const now = performance.now();
        const pair = selectedPair(stats);
        const outcome = outcomeFromStats(stats);
        if (outcome) connected.outcome = outcome;
        if (!pair || pair.id !== seen) {
          seen = pair ? pair.id : null;
          seenSince = now;
        }
        const settled = now - seenSince >= SETTLE_MS && !checksRunning(stats);
        if (outcome && (settled || now - connectedAt >= MAX_SETTLE_MS)) {
          report({ outcome, connect_ms: connectMs });
          return;
        }
        if (!outcome && now - connectedAt >= MAX_SETTLE_MS) {
          stop();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, STATS_EVERY_MS));
      }
    }
  }
  pc.addEventListener("connectionstatechange", onChange);
  return { finish };
}
