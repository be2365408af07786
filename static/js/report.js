// Reports with evidence: what the reporter saw, gathered in their own browser and sent with the report.
// A still frame of the stranger's video (a small JPEG) and the last chat lines of both sides;
// limits as in docs/protocol.md (the server checks them again and re-encodes the image).

export const SNAPSHOT_TARGET_BYTES = 100 * 1024; // the server accepts up to 128 KiB
export const MAX_SNAPSHOT_SIDE = 640; // the server accepts up to 1280
const MIN_SNAPSHOT_SIDE = 16;
const QUALITIES = [0.8, 0.65, 0.5, 0.35];
export const MAX_CHAT_LINES = 20;
export const MAX_CHAT_LINE_LENGTH = 1000;
// A refusal that arrives this long after a report is about something else.
const ANSWER_WITHIN_MS = 10000;

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

// Sends reports and settles the server's answer: the page has moved on already, so a refused
// report is sent again without its evidence, and one over the quota still ends the call.
export class ReportSender {
  constructor(signaling) {
    this.signaling = signaling;
    this.pending = null;
    signaling.addEventListener("reported", () => {
      this.pending = null;
    });
    signaling.addEventListener("error", (event) => this.refused(event.detail.code));
  }

  // `ended`: the call is over already (the last stranger), so a refusal moves nobody on.
  send(matchId, reason, evidence, { ended = false } = {}) {
    const frame = { type: "report", match_id: matchId, reason };
    if (evidence) frame.evidence = evidence;
    if (!this.signaling.send(frame)) return false;
    this.pending = { matchId, reason, withEvidence: Boolean(evidence), ended, at: Date.now() };
    return true;
  }

  // Did the stranger end this call before our report of it reached the server? (Then the server
  // filed it for a call already over and did not move us on.)
  crossedBy(matchId) {
    return this.pending !== null && !this.pending.ended && this.pending.matchId === matchId;
  }

  refused(code) {
    const pending = this.pending;
    if (!pending || Date.now() - pending.at > ANSWER_WITHIN_MS) return;
    if ((code === "bad_message" || code === "too_large") && pending.withEvidence) {
      this.send(pending.matchId, pending.reason, null, { ended: pending.ended });
    } else if (code === "rate_limited" || code === "bad_message" || code === "too_large" || code === "not_matched") {
      this.pending = null;
      if (!pending.ended && code !== "not_matched") this.signaling.send({ type: "next" });
    }
  }
}
