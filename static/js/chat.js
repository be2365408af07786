// The chat log and typing indicator. Text is only ever set with textContent.

import { gettext } from "./i18n.js";

const TYPING_SHOWN_MS = 4000;
const TYPING_SEND_EVERY_MS = 2000;
export const MAX_CHAT_LENGTH = 1000;
// A stranger who floods the chat must not grow the page without end.
const MAX_CHAT_ITEMS = 300;

export class ChatView {
  // `translation` (optional, translate.js) offers to translate the stranger's lines.
  constructor({ log, scroller, typing, form, input, button, translation = null }) {
    Object.assign(this, { log, scroller, typing, form, input, button, translation });
    this.typingTimer = null;
    this.lastTypingSent = 0;
    this.callId = ""; // the call the lines said from now on belong to
    // A turned phone or an opened keyboard resizes the log, and a line grows when a translation or
    // its tools come in: the last lines stay in sight.
    if (typeof ResizeObserver === "function") {
      const keepAtEnd = new ResizeObserver(() => { this.scroller.scrollTop = this.scroller.scrollHeight; });
      keepAtEnd.observe(scroller);
      keepAtEnd.observe(log);
    }
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
    // The words in a span of their own: a translation, shown beside them, never replaces them.
    const words = document.createElement("span");
    words.className = "chat-text";
    words.textContent = text;
    item.append(words);
    // The speaker's name shows through CSS (::before), in the page's language.
    if (from === "me") item.dataset.speaker = gettext("You:");
    else if (from === "stranger") item.dataset.speaker = gettext("Stranger:");
    if (from === "me" || from === "stranger") item.dataset.call = this.callId;
    this.log.append(item);
    while (this.log.childElementCount > MAX_CHAT_ITEMS) this.log.firstElementChild.remove();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    if (from === "stranger") {
      this.clearTyping();
      if (this.translation) this.translation.offer(item, text);
    }
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
