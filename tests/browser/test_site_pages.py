"""Every visitor page, checked in a real browser: axe-core finds no accessibility violation, and the
page background covers long pages to the bottom."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import new_context, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# WCAG 2.1 A and AA, plus axe's best practices.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
VISITOR_PAGES = [
    "/",
    "/articles/",
    "/articles/how-webrtc-works/",
    "/articles/privacy/",
    "/articles/tags/webrtc/",
    "/offline/",
    "/articles/no-such-article/",
    "/no-such-page/",
]


def axe_violations(page) -> list[str]:
    """One line per violation and element, so a failure names what to fix."""
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {node.get('failureSummary', '')}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


@pytest.fixture
def page(browser, site_server):
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("pageerror", lambda error: print(f"[page error] {error}"))
    yield page
    context.close()


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_visitor_pages_have_no_axe_violations(page, site_server, path):
    response = page.goto(f"{site_server.http_url}{path}")
    assert response.status == (404 if "no-such" in path else 200)
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["/", "/articles/", "/articles/about-alienmeet/", "/articles/rules/", "/meet/"])
@pytest.mark.parametrize("locale", ["ar", "hi-IN"])
def test_translated_and_right_to_left_pages_have_no_axe_violations(browser, site_server, locale, path):
    """Other scripts and a mirrored layout: text lengths, contrast and language attributes change with them."""
    context = new_context(browser, viewport={"width": 1280, "height": 800}, locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{site_server.http_url}{path}")
        assert page.evaluate("document.documentElement.lang") == locale.split("-")[0]
        if path == "/meet/":
            wait_js(page, "window.alienmeet && window.alienmeet.signalingOpen")
            page.wait_for_selector("#rules-dialog[open]")  # the rules come first, in the page's language
        assert axe_violations(page) == []
    finally:
        context.close()


def test_call_page_has_no_axe_violations_before_and_during_a_call(visitor):
    alice = visitor()
    # The page runs from content-hashed modules (collectstatic ran for this server), imports included.
    assert re.search(r'src="/static/js/call\.[0-9a-f]{12}\.js"', alice.content())
    assert axe_violations(alice) == []
    bob = visitor()
    alice.get_by_role("button", name="Talk to Aliens").click()
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    assert axe_violations(alice) == []
    bob.get_by_role("button", name="Talk to Aliens").click()
    for who in (alice, bob):
        wait_js(who, "window.alienmeet.phase === 'connected'")
        wait_js(who, "document.getElementById('message').disabled === false")
    alice.get_by_label("Message").fill("hello")
    alice.get_by_label("Message").press("Enter")
    bob.locator("#chat-log .from-stranger").wait_for()
    bob.get_by_role("button", name="Mute").click()
    wait_js(alice, "!document.getElementById('badge-mic').hidden")
    for who in (alice, bob):
        assert axe_violations(who) == []
    bob.get_by_role("button", name="Report").click()
    bob.get_by_role("dialog", name="Report this stranger").wait_for()
    assert axe_violations(bob) == []


# The colour the page background ends on (--bg in site.css), away from the glow at the top.
PAGE_BACKGROUND = (0x0B, 0x10, 0x26)


def test_background_covers_a_long_article_to_the_bottom(page, site_server):
    page.goto(f"{site_server.http_url}/articles/privacy/")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 3 * 800, "the article must be several screens long for this check"
    # The right margin beside the text, near the bottom of the whole page and on the first screen.
    for y in (height - 60, 3 * 800 + 100, 700):
        colour = pixel_at(page, x=1270, y=y)
        assert close_to(colour, PAGE_BACKGROUND), f"the page at y={y} of {height} is {colour}, not its background"


def close_to(colour: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def pixel_at(page, x: int, y: int) -> tuple[int, int, int]:
    """The colour at (x, y) of the full page as the browser paints it, from a 1x1 PNG capture."""
    png = page.screenshot(full_page=True, clip={"x": x, "y": y, "width": 1, "height": 1}, type="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, data, colour_type = 8, b"", 0
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, body = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert (width, height, depth) == (1, 1, 8) and colour_type in (2, 6)
        elif kind == b"IDAT":
            data += body
        offset += 12 + length
    # One row: a filter byte (any filter on a lone first pixel leaves it as is), then R, G, B.
    row = zlib.decompress(data)
    return (row[1], row[2], row[3])
