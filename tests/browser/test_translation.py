"""The stranger's chat translated on the visitor's own device, by the browser's LanguageDetector and
Translator APIs. The APIs are replaced by a test double in the page (an init script) to walk every
path a browser can take; one test checks the real API of this machine's Chromium."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import new_context, start_call, wait_js
from tests.browser.test_phone_call import keep_screenshot, say

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPANISH = "hola amigo, ¿de dónde eres?"
ENGLISH = "I can write English too"

# The APIs' stand-in. `config` says what availability answers; a download reports 0 %, then 50 %,
# and waits there until the test calls window.__finishDownloads(). Nothing is translated for real:
# "[en] ..." shows that the translator got the line.
FAKE_APIS = """
(() => {
  const config = window.__translation = Object.assign({ created: [], asked: [] }, %s);
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  window.__finishDownloads = () => finish();
  async function download(options) {
    const monitor = new EventTarget();
    if (options && options.monitor) options.monitor(monitor);
    for (const loaded of [0, 0.5]) monitor.dispatchEvent(new ProgressEvent('downloadprogress', { loaded, total: 1 }));
    await finished;
    monitor.dispatchEvent(new ProgressEvent('downloadprogress', { loaded: 1, total: 1 }));
  }
  window.LanguageDetector = class {
    static async availability() { return config.detector; }
    static async create(options) {
      if (config.detector === 'unavailable') throw new DOMException('no', 'NotSupportedError');
      if (config.detector !== 'available') await download(options);
      config.detector = 'available';
      return { detect: async (text) => [{ detectedLanguage: /hola|¿/.test(text) ? 'es' : 'en', confidence: 0.93 }] };
    }
  };
  window.Translator = class {
    static async availability(pair) { config.asked.push(pair); return config.pair; }
    static async create(options) {
      if (config.pair === 'unavailable') throw new DOMException('no', 'NotSupportedError');
      if (config.pair !== 'available') await download(options);
      config.pair = 'available';
      config.created.push([options.sourceLanguage, options.targetLanguage]);
      return { translate: async (text) => `[${options.targetLanguage}] ${text}` };
    }
  };
})();
"""
NO_APIS = "delete globalThis.Translator; delete globalThis.LanguageDetector;"


def with_apis(**config: str):
    return lambda page: page.add_init_script(FAKE_APIS % json.dumps(config))


def spanish_speaker_calls(phone, visitor, prepare):
    """An English speaker on a phone (with `prepare`'s APIs) and a Spanish speaker: no shared language."""
    english = phone(locale="en-US", prepare=prepare)
    spanish = visitor(locale="es-ES")
    start_call(spanish, english, talk=None)  # each page in its own language
    return english, spanish


def stranger_line(page, text: str):
    line = page.locator("#chat-log .from-stranger", has_text=text)
    line.wait_for()
    return line


def settled(page) -> None:
    """The page has done what it does with the lines it got (every offer is asynchronous)."""
    page.evaluate("new Promise((resolve) => setTimeout(resolve, 0))")
    page.evaluate("new Promise((resolve) => requestAnimationFrame(() => resolve()))")


@pytest.mark.parametrize(
    "prepare",
    [lambda page: page.add_init_script(NO_APIS), with_apis(detector="unavailable", pair="available")],
    ids=["api-absent", "detector-unavailable"],
)
def test_nothing_is_offered_where_the_browser_cannot_translate(phone, visitor, prepare):
    english, spanish = spanish_speaker_calls(phone, visitor, prepare)
    say(spanish, SPANISH)
    line = stranger_line(english, SPANISH)
    settled(english)
    assert line.locator(".chat-tools").count() == 0
    assert line.inner_text() == SPANISH
    assert english.locator("#chat-log", has_text="translate").count() == 0
    assert english.locator("#translate-auto").locator("xpath=..").is_hidden()


def test_a_language_pair_the_browser_cannot_translate_is_not_offered(phone, visitor):
    english, spanish = spanish_speaker_calls(phone, visitor, with_apis(detector="available", pair="unavailable"))
    say(spanish, SPANISH)
    line = stranger_line(english, SPANISH)
    wait_js(english, "window.__translation.asked.length === 1")
    settled(english)
    assert english.evaluate("window.__translation.asked[0]") == {"sourceLanguage": "es", "targetLanguage": "en"}
    assert line.locator(".chat-tools").count() == 0


@pytest.mark.parametrize(
    "models",
    [{"detector": "available", "pair": "downloadable"}, {"detector": "downloadable", "pair": "available"}],
    ids=["translator-downloadable", "detector-downloadable"],
)
def test_a_download_is_announced_and_its_progress_shown(phone, visitor, models):
    english, spanish = spanish_speaker_calls(phone, visitor, with_apis(**models))
    say(spanish, SPANISH)
    line = stranger_line(english, SPANISH)
    button = line.get_by_role("button", name="Translate")
    button.wait_for()
    assert "downloads a language model" in line.locator(".chat-note").inner_text()
    button.click()
    line.locator(".chat-note", has_text="50%").wait_for()
    assert line.locator("progress").evaluate("p => p.value") == 0.5
    english.evaluate("window.__finishDownloads()")
    line.locator(".chat-translation", has_text=f"[en] {SPANISH}").wait_for()
    assert line.locator(".chat-note").inner_text() == "Translated from Spanish"
    assert line.locator("progress").is_hidden()


def test_a_stranger_without_a_shared_language_is_translated_on_the_device(phone, visitor):
    english, spanish = spanish_speaker_calls(phone, visitor, with_apis(detector="available", pair="available"))
    english.locator("#chat-log .notice", has_text="Your browser can translate").wait_for()
    # Lines in a language the visitor speaks, and the visitor's own lines, are left alone.
    say(spanish, ENGLISH)
    say(english, "hola, I am learning")
    english_line = stranger_line(english, ENGLISH)
    say(spanish, SPANISH)
    line = stranger_line(english, SPANISH)
    line.get_by_role("button", name="Translate").click()
    translation = line.locator(".chat-translation")
    translation.wait_for()
    assert translation.inner_text() == f"[en] {SPANISH}"
    assert line.locator(".chat-text").is_hidden() and line.locator(".chat-text").get_attribute("lang") == "es"
    assert line.locator(".chat-note").inner_text() == "Translated from Spanish"
    assert english_line.locator(".chat-tools").count() == 0
    assert english.locator("#chat-log .from-me").inner_text() == "hola, I am learning"
    assert english.locator("#chat-log .from-me .chat-tools").count() == 0
    # The original is one tap away, and back.
    line.get_by_role("button", name="Show original").click()
    assert line.locator(".chat-text").is_visible() and translation.is_hidden()
    line.get_by_role("button", name="Show translation").click()
    assert translation.is_visible()
    # Automatic translation, for this call: the stranger's next line comes translated.
    english.get_by_role("button", name="Options").click()
    english.get_by_label("Translate the stranger automatically").check()
    say(spanish, "hola otra vez")
    stranger_line(english, "hola otra vez").locator(".chat-translation", has_text="[en] hola otra vez").wait_for()
    assert english.evaluate("window.__translation.created") == [["es", "en"]]  # one translator, reused
    # The chat keeps its last line in sight as translations come in.
    assert english.evaluate(
        "(() => { const log = document.getElementById('chat-scroller').getBoundingClientRect();"
        " const last = document.querySelector('#chat-log li:last-child').getBoundingClientRect();"
        " return last.bottom <= log.bottom + 1; })()"
    )
    english.get_by_role("button", name="Options").click()
    keep_screenshot(english, "phone-translated")


def test_this_chromium_has_the_translator_api(browser, site_server):
    """The real API, not a double: present on the call page (a secure context on 127.0.0.1), and
    answering availability for a language pair. The model itself needs a network this machine lacks."""
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{site_server.http_url}/meet/")
        shape = page.evaluate(
            """async () => ({
              secure: isSecureContext,
              translator: typeof Translator, detector: typeof LanguageDetector,
              create: typeof Translator.create, detectorCreate: typeof LanguageDetector.create,
              pair: await Translator.availability({ sourceLanguage: 'es', targetLanguage: 'en' }),
              detection: await LanguageDetector.availability(),
            })"""
        )
    finally:
        context.close()
    states = {"unavailable", "downloadable", "downloading", "available"}
    assert shape["secure"] is True
    assert shape["translator"] == shape["detector"] == shape["create"] == shape["detectorCreate"] == "function"
    assert shape["pair"] in states and shape["detection"] in states
