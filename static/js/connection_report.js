// How this browser's side of a call connected, told to the server once per call for the
// anonymous statistics (docs/protocol.md, `connection_report`): direct, relayed over
// UDP / TCP / TLS, or failed, and the milliseconds from the match to the connection.

import { CONNECT_TIMEOUT_MS } from "./connect_deadline.js";

const MAX_CONNECT_MS = 600000;
const RELAY_PROTOCOLS = new Set(["udp", "tcp", "tls"]);
const STATS_ATTEMPTS = 20;
const STATS_RETRY_MS = 250;

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
// Returns a function that stops watching (the call ended before either happened).
export function watchConnection(pc, send, timeoutMs = CONNECT_TIMEOUT_MS) {
  const startedAt = performance.now();
  let done = false;
  const stop = () => {
    done = true;
    clearTimeout(timer);
    pc.removeEventListener("connectionstatechange", onChange);
  };
  const timer = setTimeout(() => {
    if (done) return;
    stop();
    send({ outcome: "failed" });
  }, timeoutMs);
  async function onChange() {
    if (done) return;
    if (pc.connectionState === "failed") {
      stop();
      send({ outcome: "failed" });
    } else if (pc.connectionState === "connected") {
      stop();
      const connectMs = Math.min(MAX_CONNECT_MS, Math.max(0, Math.round(performance.now() - startedAt)));
      // The stats may name the selected pair a moment after the state says connected.
      for (let attempt = 0; attempt < STATS_ATTEMPTS; attempt += 1) {
        let outcome = null;
        try {
          outcome = outcomeFromStats(await pc.getStats());
        } catch {
          return; // closed in the meantime: nothing to report
        }
        if (outcome) {
          send({ outcome, connect_ms: connectMs });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, STATS_RETRY_MS));
      }
    }
  }
  pc.addEventListener("connectionstatechange", onChange);
  return stop;
}
