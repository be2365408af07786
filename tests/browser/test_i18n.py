"""The site in other languages, in a real browser: no English left on screen, Arabic mirrored, the switcher sticks."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

from tests.browser.conftest import new_context, open_call_page, screenshot, start_call, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOCALE = Path(__file__).resolve().parents[2] / "locale"

# The same in every language: the brand, and the names of the technologies the About article lists.
SAME_IN_EVERY_LANGUAGE = {
    "AlienMeet",
    "WebRTC",
    "webrtc",
    "Django Channels",
    "daphne",
    "Redis",
    "PostgreSQL",
    "coturn",
    "TURN",
    "MDN",
}
# Words one language shares with English.
SAME_AS_ENGLISH = {"es-ES": {"Chat"}}
PAGES = {"landing": "/", "article": "/articles/about-alienmeet/", "call": "/meet/"}

# Every piece of text a visitor can see or hear read out, one string per text node or attribute,
# except text explicitly marked as another language than the page's: the language menu and the links to an article's
# translations (each language is named in itself, by design), and an article not translated yet
# (shown in English with a note saying so).
VISIBLE_TEXT = """() => {
  const pageLanguage = document.documentElement.lang;
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !element || element.closest("script, style, noscript, select")) continue;
    if (!element.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    if (element.closest("[lang]").getAttribute("lang") !== pageLanguage) continue;
    texts.push(text);
  }
  // Words a visitor meets outside the text: the tab's title, hints in empty fields, tooltips, and
  // what a screen reader says for a control or an image.
  texts.push(document.title);
  for (const name of ["placeholder", "title", "alt", "aria-label"]) {
    for (const element of document.body.querySelectorAll(`[${name}]`)) {
      if (element.closest("script, style, noscript, select")) continue;
      if (element.closest("[lang]").getAttribute("lang") !== pageLanguage) continue;
      const text = element.getAttribute(name).trim();
      if (text) texts.push(text);
    }
  }
  return texts;
}"""


def open_page(browser, site_server, path: str, locale: str, viewport: dict | None = None):
    context = new_context(browser, locale=locale, viewport=viewport or {"width": 1280, "height": 800})
    page = open_call_page(context, f"{site_server.http_url}{path}", locale, until_open=path == "/meet/")
    if path == "/meet/":
        # The script's own strings are in place once the server said hello (the online count shows).
        wait_js(page, "document.getElementById('online').textContent")
    return context, page


def visible_text(browser, site_server, path: str, locale: str) -> list[str]:
    context, page = open_page(browser, site_server, path, locale)
    try:
        return page.evaluate(VISIBLE_TEXT)
    finally:
        context.close()


# Each page's English text, read once per server: every language is compared with the same.
_english: dict[tuple[str, str], set[str]] = {}


def english_text(browser, site_server, path: str) -> set[str]:
    key = (site_server.http_url, path)
    if key not in _english:
        _english[key] = set(visible_text(browser, site_server, path, "en-US"))
    return _english[key]


@pytest.mark.parametrize("locale", ["es-ES", "ar", "hi-IN"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_english_left_on_screen(browser, site_server, locale, name):
    english = english_text(browser, site_server, PAGES[name])
    translated = visible_text(browser, site_server, PAGES[name], locale)
    assert len(translated) > 10
    left = [
        text
        for text in translated
        if text in english
        and text not in SAME_IN_EVERY_LANGUAGE | SAME_AS_ENGLISH.get(locale, set())
        and any(c.isalpha() for c in text)
    ]
    assert not left, f"English left on the {locale} {name} page: {left}"


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def accept_rules(page, name: str) -> None:
    """Screenshot the rules dialog the call page opens first (in the page's language), then accept it."""
    page.wait_for_selector("#rules-dialog[open]")
    screenshot(page, f"{name}-rules")
    page.check("#rules-adult")
    page.click("#rules-accept")
    page.wait_for_selector("#rules-dialog:not([open])", state="attached")


def test_arabic_is_right_to_left_and_mirrored(browser, site_server):
    context, page = open_page(browser, site_server, "/", "ar")
    try:
        assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
        # The brand starts the header, which in Arabic is its right-hand side.
        brand, nav = box(page, ".brand"), box(page, ".site-header nav")
        assert brand["x"] > nav["x"]
        screenshot(page, "i18n-ar-landing")
        page.goto(f"{site_server.http_url}/meet/")
        wait_js(
            page, "window.alienmeet && window.alienmeet.signalingOpen && document.getElementById('online').textContent"
        )
        assert page.evaluate("document.documentElement.dir") == "rtl"
        accept_rules(page, "i18n-ar-call")
        # The video comes first, so it stands on the right and the controls on the left.
        stage, panel = box(page, ".stage"), box(page, ".panel")
        assert stage["x"] > panel["x"]
        # The own-camera preview sits at the video's inline end: the left-hand corner in Arabic.
        remote, local = box(page, ".remote"), box(page, ".local")
        assert local["x"] < remote["x"] + remote["width"] / 2
        assert page.evaluate("getComputedStyle(document.getElementById('status')).direction") == "rtl"
        # The online count in Arabic words and digits (Intl.NumberFormat in the page's language).
        online = page.locator("#online").text_content()
        assert "متصل" in online
        assert not any(c in "0123456789" for c in online) or "واحد" in online
        # A chat line: the speaker's label comes first, on the right.
        page.evaluate(
            "() => { const li = document.createElement('li'); li.className = 'from-me';"
            " li.dataset.speaker = django.gettext('You:'); li.textContent = 'مرحبا';"
            " document.getElementById('chat-log').append(li); }"
        )
        label = page.evaluate("getComputedStyle(document.querySelector('#chat-log .from-me'), '::before').content")
        assert "أنت" in label
        screenshot(page, "i18n-ar-call")
    finally:
        context.close()


def test_hindi_call_page_screenshot(browser, site_server):
    context, page = open_page(browser, site_server, "/meet/", "hi-IN")
    try:
        assert page.evaluate("document.documentElement.lang") == "hi"
        assert "एलियन ऑनलाइन" in page.locator("#online").text_content()
        accept_rules(page, "i18n-hi-call")
        screenshot(page, "i18n-hi-call")
    finally:
        context.close()


def test_the_switcher_changes_the_language_and_keeps_it(browser, site_server):
    context, page = open_page(browser, site_server, "/", "en-US")
    try:
        assert page.evaluate("document.documentElement.lang") == "en"
        page.select_option("#language-header", "es")
        page.locator(".site-header .language-switcher button").click()
        # A locator waits across the navigation the form starts (a predicate may run between documents).
        page.locator("html[lang='es']").wait_for(state="attached")
        assert page.url == f"{site_server.http_url}/"  # same address, now in Spanish
        assert page.locator(".hero .button-primary").text_content().strip() == "Hablar con alienígenas"
        # Kept across pages, over the browser's own English.
        page.goto(f"{site_server.http_url}/meet/")
        wait_js(
            page, "window.alienmeet && window.alienmeet.signalingOpen && document.getElementById('online').textContent"
        )
        assert page.evaluate("document.documentElement.lang") == "es"
        assert page.locator("#start").text_content().strip() == "Hablar con alienígenas"
        assert "conectado" in page.locator("#online").text_content()
        # The footer's switcher does the same (keyboard only: label, select, button).
        page.goto(f"{site_server.http_url}/articles/")
        page.focus("#language-footer")
        page.select_option("#language-footer", "ar")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.locator("html[dir='rtl']").wait_for(state="attached")
        assert page.url == f"{site_server.http_url}/articles/"
    finally:
        context.close()


def english_words_with_a_translation(language: str) -> set[str]:
    """Every English string the site may show that this language's catalogs say differently."""
    words: set[str] = set()
    for domain in ("django", "djangojs"):
        for entry in polib.pofile(str(LOCALE / language / "LC_MESSAGES" / f"{domain}.po")).translated_entries():
            for english, translated in [(entry.msgid, entry.msgstr), (entry.msgid_plural, entry.msgstr_plural.get(1))]:
                if english and translated and english != translated:
                    words.add(english)
    return words


def test_no_english_left_during_a_call(visitor):
    """What only a call shows (status, quality, shared languages, chat notices) is translated too."""
    alice = visitor(locale="es-ES")
    bob = visitor(locale="es-ES")
    start_call(alice, bob, talk="Hablar con alienígenas")
    # The connection's quality shows once the first statistics came in.
    wait_js(alice, "document.getElementById('conn-info').textContent.includes('ms')")
    english = english_words_with_a_translation("es")
    texts = alice.evaluate(VISIBLE_TEXT)
    assert any("Español" in text for text in texts), texts  # "you both speak", from the call
    left = [text for text in texts if text in english or text.rstrip(".…") in english]
    assert not left, f"English left on the es-ES page during a call: {left}"


@pytest.mark.parametrize(
    ("locale", "expected"),
    # Hindi groups by lakh and crore; Russian with no-break spaces.
    [("en-US", "1,234,567"), ("es-ES", "1.234.567"), ("hi-IN", "12,34,567"), ("ru-RU", "1\u00a0234\u00a0567")],
)
def test_numbers_on_the_call_page_are_written_the_local_way(browser, site_server, locale, expected):
    """The online count, connection figures and limits go through one formatter in the page's language."""
    context, page = open_page(browser, site_server, "/meet/", locale)
    try:
        written = page.evaluate("async () => (await import('/static/js/i18n.js')).formatNumber(1234567)")
        assert written == expected
    finally:
        context.close()
