// Reports with evidence: what the reporter saw, gathered in their own browser and sent with the report.
// A still frame of the stranger's video (a small JPEG) and the last chat lines of both sides;
// limits as in docs/protocol.md (the server checks them again and re-encodes the image).

import {
  BAD_MESSAGE,
  MAX_REPORT_CHAT_LENGTH,
  MAX_REPORT_CHAT_LINES,
  NOT_MATCHED,
  RATE_LIMITED,
  TOO_LARGE,
  UNAVAILABLE,
} from "./protocol.js";

export const SNAPSHOT_TARGET_BYTES = 100 * 1024; // the server accepts up to 128 KiB
export const MAX_SNAPSHOT_SIDE = 640; // the server accepts up to 1280
const MIN_SNAPSHOT_SIDE = 16;
const QUALITIES = [0.8, 0.65, 0.5, 0.35];
export const MAX_CHAT_LINES = MAX_REPORT_CHAT_LINES;
export const MAX_CHAT_LINE_LENGTH = MAX_REPORT_CHAT_LENGTH;
// What the server may answer a report with instead of `reported` (docs/protocol.md): nothing was filed.
// A `rate_limited` with `retry_after` refuses a `next` or `join`, never a report.
const REPORT_REFUSALS = new Set([UNAVAILABLE, RATE_LIMITED, NOT_MATCHED, BAD_MESSAGE, TOO_LARGE]);

function jpegBlob(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

async function toBase64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// The stranger's current frame as base64 JPEG of at most SNAPSHOT_TARGET_BYTES, or null when there is no picture.
export async function captureSnapshot(video) {
  if (!video || video.readyState < 2 || !video.videoWidth || !video.videoHeight) return null;
  let scale = Math.min(1, MAX_SNAPSHOT_SIDE / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d");
  while (true) {
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    if (Math.min(canvas.width, canvas.height) < MIN_SNAPSHOT_SIDE) return null;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await jpegBlob(canvas, quality);
      if (!blob) return null;
      if (blob.size <= SNAPSHOT_TARGET_BYTES) return toBase64(blob);
    }
    scale *= 0.7;
  }
}

// The last chat lines of both sides in one call, oldest first, from the chat log (notices and
// other calls' lines left out: they are about other strangers).
export function recentChat(log, callId) {
  const lines = [];
  for (const item of log.querySelectorAll("li.from-me, li.from-stranger")) {
    if (item.dataset.call !== callId) continue;
    // What was said, not a translation of it or the tools beside it.
    const text = (item.querySelector(".chat-text") || item).textContent.slice(0, MAX_CHAT_LINE_LENGTH);
    if (text) lines.push({ from: item.classList.contains("from-me") ? "me" : "stranger", text });
  }
  return lines.slice(-MAX_CHAT_LINES);
}

// The report's `evidence`, or null when there is nothing to attach.
export async function collectEvidence({ video, log, callId }) {
  let snapshot = null;
  try {
    snapshot = await captureSnapshot(video);
  } catch (error) {
    console.warn("no snapshot for the report:", error);
  }
  const chat = recentChat(log, callId);
  if (!snapshot && !chat.length) return null;
  const evidence = {};
  if (snapshot) evidence.snapshot = snapshot;
  if (chat.length) evidence.chat = chat;
  return evidence;
}

// Sends reports and settles the server's answer, which may take several seconds: the stranger's
// connection files it (moderation/forwarding.py). The server answers reports in the order they were
// sent, each with `reported` or an `error`; error frames name no request, so an error is taken for
// the oldest report waiting when its code is one a report can get. Tells the page through `filed`
// and `failed(report, code, message)`; a failed report keeps its reason and evidence to be sent again.
export class ReportSender {
  constructor(signaling, { filed = () => {}, failed = () => {} } = {}) {
    this.signaling = signaling;
    this.filed = filed;
    this.failed = failed;
    this.waiting = []; // reports sent and not answered yet, oldest first
    this.lastFailed = null;
    signaling.addEventListener("reported", (event) => this.answered(event.detail.match_id));
    // A new connection is a new visitor to the server: whether the old one filed it, nobody will say.
    signaling.addEventListener("close", () => {
      for (const report of this.waiting.splice(0)) this.failed(report, "connection_lost", "");
    });
  }

  // `ended`: the call is over already (the last stranger), so a refusal moves nobody on.
  send(matchId, reason, evidence, { ended = false, retry = false } = {}) {
    const frame = { type: "report", match_id: matchId, reason };
    if (evidence) frame.evidence = evidence;
    if (!this.signaling.send(frame)) return false;
    this.waiting.push({ matchId, reason, evidence, ended, retry });
    return true;
  }

  // Did the stranger end this call before our report of it reached the server? (Then the server
  // files it for a call already over and does not move us on.)
  crossedBy(matchId) {
    return this.waiting.some((report) => !report.ended && report.matchId === matchId);
  }

  answered(matchId) {
    const index = this.waiting.findIndex((report) => report.matchId === matchId);
    if (index >= 0) {
      this.filed(this.waiting.splice(index, 1)[0]);
    } else if (this.lastFailed && this.lastFailed.matchId === matchId) {
      // The error taken for this report's answer was about an earlier frame: it was filed after all.
      this.filed(this.lastFailed);
      this.lastFailed = null;
    }
  }

  // An error frame: true when it answers a report (call.js then leaves it alone).
  refusedBy({ code, message = "", ...detail }) {
    const report = this.waiting[0];
    if (!report || !REPORT_REFUSALS.has(code) || "retry_after" in detail) return false;
    // The server names its answers to a report (`about`); only a frame refused before it was read as a
    // report (too large, malformed) comes unnamed. Anything else answers another request.
    if (detail.about !== "report" && code !== BAD_MESSAGE && code !== TOO_LARGE) return false;
    this.waiting.shift();
    if ((code === BAD_MESSAGE || code === TOO_LARGE) && report.evidence) {
      // The evidence was refused (the server checks it again): the report itself still goes.
      const { matchId, reason, ended, retry } = report;
      if (!this.send(matchId, reason, null, { ended, retry })) this.failed(report, "connection_lost", "");
      return true;
    }
    // Refused before the call was touched: the page has moved on already, so the server is asked to.
    // (`unavailable` ended the call and queued us; `not_matched` had nothing to end.)
    if (!report.ended && (code === RATE_LIMITED || code === BAD_MESSAGE || code === TOO_LARGE)) {
      this.signaling.send({ type: "next" });
    }
    this.lastFailed = report;
    this.failed(report, code, message);
    return true;
  }
}
