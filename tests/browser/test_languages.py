"""Two browsers that share a language are matched, though a stranger who speaks neither waited longer."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import wait_js
from tests.servers import Server, collect_static, migrate, server_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def patient_server(tmp_path):
    """A hold-out long enough that nobody falls back to "anyone" while the browsers start."""
    environ = server_env(tmp_path, MEET_RATE_BURST="200", MATCH_INTEREST_WAIT="30")
    migrate(environ)
    collect_static(environ)
    server = Server(environ, tmp_path / "server.log")
    yield server
    server.stop()


def talk(page) -> None:
    page.locator("#start").click()  # "Talk to Aliens", in the page's language
    wait_js(page, "window.alienmeet.phase !== 'idle'")


def joined_with(page) -> dict:
    frames = [json.loads(frame) for frame in page.frames_sent_to_server]
    return next(frame for frame in frames if frame.get("type") == "join")


def test_strangers_who_share_a_language_are_matched_first(visitor, patient_server):
    japanese = visitor(server=patient_server, locale="ja-JP")  # no Japanese pages: the page is in English
    assert japanese.get_by_label("I speak:").input_value() == "ja-JP"
    talk(japanese)
    wait_js(japanese, "window.alienmeet.phase === 'searching'")
    spain = visitor(server=patient_server, locale="es-ES")
    assert spain.get_by_label("Hablo:").input_value() == "es-ES"
    assert spain.locator("#languages-names").inner_text() == "Español de España"  # in its own words
    talk(spain)
    wait_js(spain, "window.alienmeet.phase === 'searching'")
    mexico = visitor(server=patient_server, locale="es-MX")
    talk(mexico)
    for page in (spain, mexico):
        wait_js(page, "['connecting', 'connected'].includes(window.alienmeet.phase)")
        # In the page's language, the shared language in its own name.
        page.locator("#chat-log", has_text="Ambos hablan Español.").wait_for()
    assert spain.evaluate("window.alienmeet.matchId") == mexico.evaluate("window.alienmeet.matchId")
    assert japanese.evaluate("window.alienmeet.phase") == "searching"
    assert joined_with(japanese)["languages"] == ["ja-jp"]
    assert joined_with(mexico)["languages"] == ["es-mx"]
    matched = next(json.loads(f) for f in mexico.frames_from_server if '"matched"' in f)
    assert matched["languages"] == ["es"]


def test_the_i_speak_field_refuses_what_is_not_a_language(visitor):
    page = visitor(locale="en-GB")
    field = page.get_by_label("I speak:")
    field.fill("en, hi, Klingon!")
    assert "codes such as" in page.locator("#languages-names").inner_text()
    page.locator("#start").click()
    assert "codes such as" in page.locator("#status").inner_text()
    assert window_phase(page) == "idle"
    field.fill("en, hi")
    assert page.locator("#languages-names").inner_text() == "English and हिन्दी"
    talk(page)
    assert joined_with(page)["languages"] == ["en", "hi"]


def window_phase(page) -> str:
    return page.evaluate("window.alienmeet.phase")
