// The chat log and typing indicator. Text is only ever set with textContent.

import { gettext } from "./i18n.js";

const TYPING_SHOWN_MS = 4000;
const TYPING_SEND_EVERY_MS = 2000;
export const MAX_CHAT_LENGTH = 1000;
// A stranger who floods the chat must not grow the page without end.
const MAX_CHAT_ITEMS = 300;

export class ChatView {
  constructor({ log, scroller, typing, form, input, button }) {
    Object.assign(this, { log, scroller, typing, form, input, button });
    this.typingTimer = null;
    this.lastTypingSent = 0;
    this.callId = ""; // the call the lines said from now on belong to
  }

  // A new call: its lines are told apart from earlier calls' (a report attaches only its own).
  startCall(callId) {
    this.callId = callId;
  }

  enable(enabled) {
    this.input.disabled = !enabled;
    this.button.disabled = !enabled;
  }

  add(text, from) {
    const item = document.createElement("li");
    item.className = from === "me" ? "from-me" : from === "stranger" ? "from-stranger" : "notice";
    item.textContent = text;
    // The speaker's name shows through CSS (::before), in the page's language.
    if (from === "me") item.dataset.speaker = gettext("You:");
    else if (from === "stranger") item.dataset.speaker = gettext("Stranger:");
    if (from === "me" || from === "stranger") item.dataset.call = this.callId;
    this.log.append(item);
    while (this.log.childElementCount > MAX_CHAT_ITEMS) this.log.firstElementChild.remove();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    if (from === "stranger") this.clearTyping();
  }

  clear() {
    this.log.replaceChildren();
    this.clearTyping();
  }

  showTyping() {
    this.typing.textContent = gettext("Stranger is typing…");
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.clearTyping(), TYPING_SHOWN_MS);
  }

  clearTyping() {
    clearTimeout(this.typingTimer);
    this.typing.textContent = "";
  }

  // True when a typing notice is due (at most one every couple of seconds).
  typingDue() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_EVERY_MS) return false;
    this.lastTypingSent = now;
    return true;
  }

  take() {
    const text = this.input.value.trim().slice(0, MAX_CHAT_LENGTH);
    this.input.value = "";
    this.lastTypingSent = 0;
    return text;
  }
}
