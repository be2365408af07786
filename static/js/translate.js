// The stranger's chat lines translated on the visitor's own device, by the browser's built-in
// LanguageDetector and Translator APIs: no chat text ever leaves the browser for a server, ours or
// anyone's. Where the browser lacks the APIs (or cannot detect languages), nothing is shown.

import { format, gettext, pageLanguage } from "./i18n.js";

const primary = (tag) => String(tag || "").trim().toLowerCase().split("-", 1)[0];
// Below this the detector is guessing: a short "ok" or "lol" is in no particular language.
const MIN_CONFIDENCE = 0.5;

// The name of a language in the page's language ("Spanish" on an English page).
function languageName(tag) {
  try {
    return new Intl.DisplayNames([pageLanguage()], { type: "language" }).of(tag) || tag;
  } catch {
    return tag;
  }
}

export function translationApisPresent() {
  return typeof globalThis.Translator === "function" && typeof globalThis.LanguageDetector === "function";
}

// The browser's download of a model, shown on the line that asked for it.
function monitorInto(status) {
  return (monitor) => {
    monitor.addEventListener("downloadprogress", (event) => {
      const fraction = event.total ? event.loaded / event.total : event.loaded;
      status.showProgress(Math.max(0, Math.min(1, Number(fraction) || 0)));
    });
  };
}

// The small row of tools under a stranger's line: a button, a note, a download's progress.
class LineTools {
  constructor(item) {
    this.item = item;
    this.text = item.querySelector(".chat-text");
    this.row = document.createElement("span");
    this.row.className = "chat-tools";
    this.button = document.createElement("button");
    this.button.type = "button";
    this.button.className = "chat-tool";
    this.note = document.createElement("span");
    this.note.className = "chat-note";
    this.progress = document.createElement("progress");
    this.progress.max = 1;
    this.progress.hidden = true;
    this.progress.setAttribute("aria-label", gettext("Download of the translation model"));
    this.row.append(this.button, this.note, this.progress);
    item.append(this.row);
  }

  offer(needsDownload) {
    this.button.textContent = gettext("Translate");
    this.button.hidden = false;
    this.button.disabled = false;
    this.note.textContent = needsDownload ? gettext("Your browser downloads a language model for this first.") : "";
  }

  busy(text) {
    this.button.disabled = true;
    this.note.textContent = text;
  }

  showProgress(fraction) {
    this.progress.hidden = false;
    this.progress.value = fraction;
    this.note.textContent = format(gettext("Downloading the language model… %(percent)s"), {
      percent: new Intl.NumberFormat(pageLanguage(), { style: "percent" }).format(fraction),
    });
  }

  fail(text) {
    this.progress.hidden = true;
    this.button.hidden = true;
    this.note.textContent = text;
  }

  // The translation replaces the original on screen; the original stays one tap away.
  show(translated, source, target) {
    this.progress.hidden = true;
    const translation = document.createElement("span");
    translation.className = "chat-translation";
    translation.lang = target;
    translation.textContent = translated;
    this.text.lang = source;
    this.text.hidden = true;
    this.text.after(translation);
    this.item.classList.add("translated");
    this.note.textContent = format(gettext("Translated from %(language)s"), { language: languageName(source) });
    this.button.disabled = false;
    this.button.hidden = false;
    this.button.textContent = gettext("Show original");
    this.button.onclick = () => {
      const showOriginal = this.text.hidden;
      this.text.hidden = !showOriginal;
      translation.hidden = showOriginal;
      this.button.textContent = showOriginal ? gettext("Show translation") : gettext("Show original");
    };
  }
}

export class ChatTranslation {
  // `auto`: the "translate the stranger automatically" switch; `notify(text)` adds a chat notice.
  constructor({ auto, notify }) {
    this.auto = auto;
    this.notify = notify;
    this.spoken = [];
    this.target = primary(pageLanguage());
    this.noSharedLanguage = false;
    this.callId = "";
    this.pending = new Set(); // lines of this call that offer Translate
    this.detectorAvailability = null; // the browser's answer, asked once per page
    this.detector = null;
    this.translators = new Map();
    this.auto.addEventListener("change", () => {
      // The switch's tap lets the browser start a download, so the waiting lines go now.
      if (this.auto.checked) for (const line of [...this.pending]) line.button.click();
    });
  }

  // The languages the visitor speaks ("I speak"); translations go into the first one.
  setSpoken(tags) {
    this.spoken = tags.map(primary).filter(Boolean);
    this.target = this.spoken[0] || primary(pageLanguage());
  }

  async usable() {
    if (!translationApisPresent()) return false;
    if (this.detectorAvailability === null) {
      try {
        this.detectorAvailability = await globalThis.LanguageDetector.availability();
      } catch {
        this.detectorAvailability = "unavailable";
      }
    }
    return this.detectorAvailability !== "unavailable";
  }

  // A new call. `shared`: the languages both speak (the `matched` frame). None while the visitor
  // gave some means none in common, and the page says that translation can help.
  async startCall(callId, shared, own) {
    this.callId = callId;
    this.pending.clear();
    this.auto.checked = false; // for this call only
    this.noSharedLanguage = shared.length === 0 && own.length > 0;
    const usable = await this.usable();
    this.auto.closest("label").hidden = !usable;
    if (usable && this.noSharedLanguage && this.callId === callId) {
      this.notify(gettext("You may not share a language. Your browser can translate the stranger's messages on this device: tap Translate under a message, or turn on Translate the stranger automatically."));
    }
  }

  // A stranger's line just added to the chat: offer Translate if it is in a language the visitor
  // does not speak (or, before the detector is on this device, if the two share no language).
  async offer(item, text) {
    try {
      if (!(await this.usable())) return;
      const callId = this.callId;
      let source = null;
      let needsDownload = this.detectorAvailability !== "available";
      if (!needsDownload) {
        source = await this.detect(text);
        if (!source || this.speaks(source)) return;
        const pair = await this.pairAvailability(source);
        if (pair === "unavailable") return;
        needsDownload = pair !== "available";
      } else if (!this.noSharedLanguage) {
        return;
      }
      if (callId !== this.callId || !item.isConnected) return;
      const tools = new LineTools(item);
      tools.offer(needsDownload);
      this.pending.add(tools);
      tools.button.onclick = () => this.translate(tools, text, source);
      if (this.auto.checked && !needsDownload) tools.button.click();
    } catch (error) {
      console.warn("translation offer failed:", error);
    }
  }

  speaks(source) {
    return source === this.target || this.spoken.includes(source);
  }

  async detect(text, tools = null) {
    const results = await (await this.ensureDetector(tools)).detect(text);
    const best = results && results[0];
    if (!best || best.detectedLanguage === "und" || best.confidence < MIN_CONFIDENCE) return null;
    return primary(best.detectedLanguage);
  }

  ensureDetector(tools) {
    if (!this.detector) {
      const options = tools ? { monitor: monitorInto(tools) } : {};
      this.detector = globalThis.LanguageDetector.create(options).catch((error) => {
        this.detector = null;
        throw error;
      });
    }
    return this.detector;
  }

  async pairAvailability(source) {
    try {
      return await globalThis.Translator.availability({ sourceLanguage: source, targetLanguage: this.target });
    } catch {
      return "unavailable";
    }
  }

  ensureTranslator(source, tools) {
    const key = `${source}>${this.target}`;
    if (!this.translators.has(key)) {
      const created = globalThis.Translator.create({
        sourceLanguage: source,
        targetLanguage: this.target,
        monitor: monitorInto(tools),
      }).catch((error) => {
        this.translators.delete(key);
        throw error;
      });
      this.translators.set(key, created);
    }
    return this.translators.get(key);
  }

  async translate(tools, text, knownSource) {
    this.pending.delete(tools);
    tools.busy(gettext("Translating…"));
    try {
      let source = knownSource;
      if (!source) {
        source = await this.detect(text, tools);
        this.detectorAvailability = "available"; // the model is on the device now
        if (!source) {
          tools.fail(gettext("Could not tell which language this is."));
          return;
        }
        if (this.speaks(source)) {
          tools.fail(gettext("This is in a language you speak."));
          return;
        }
      }
      if ((await this.pairAvailability(source)) === "unavailable") {
        tools.fail(format(gettext("Your browser cannot translate from %(language)s."), { language: languageName(source) }));
        return;
      }
      const translator = await this.ensureTranslator(source, tools);
      tools.show(await translator.translate(text), source, this.target);
    } catch (error) {
      console.warn("translation failed:", error);
      tools.fail(gettext("Translation did not work this time."));
    }
  }
}
