// What the stranger may say over the data channel. Every message is hostile input:
// anything that is not exactly one of these shapes is dropped, and none of them can
// change the match itself (only the server's `matched` and `partner_left` do that,
// except once the server no longer links the two of us).

import { MAX_CHAT_LENGTH } from "./chat.js";

// A text message of MAX_CHAT_LENGTH characters, each escaped as \uXXXX, plus the envelope.
export const MAX_PEER_MESSAGE_LENGTH = MAX_CHAT_LENGTH * 6 + 64;

// Returns { kind, ... } with only the fields that kind allows, or null.
export function readPeerMessage(raw) {
  if (typeof raw !== "string" || raw.length > MAX_PEER_MESSAGE_LENGTH) return null;
  let message;
  try {
    message = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!message || typeof message !== "object" || Array.isArray(message)) return null;
  switch (message.kind) {
    case "text":
      if (typeof message.text !== "string" || !message.text.trim()) return null;
      return { kind: "text", text: message.text.slice(0, MAX_CHAT_LENGTH) };
    case "typing":
      return { kind: "typing" };
    case "camera":
    case "mic":
      if (typeof message.on !== "boolean") return null;
      return { kind: message.kind, on: message.on };
    case "bye":
      return { kind: "bye" };
    case "keepalive":
      return { kind: "keepalive" };
    case "resend_video":
      return { kind: "resend_video" };
    default:
      return null;
  }
}
