"""The call on a phone (Playwright's device emulation: touch, a phone's viewport, isMobile): the
stranger's video fills the screen without scrolling, the chat and controls float over it, a swipe is
Next, and the message box stays above the on-screen keyboard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, PORTRAIT, start_call, wait_js
from tests.browser.test_site_pages import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SMALL_PORTRAIT = {"width": 360, "height": 740}
LANDSCAPE = {"width": 844, "height": 390}

# A stand-in for window.visualViewport that a test can shrink, as an on-screen keyboard does.
FAKE_VISUAL_VIEWPORT = """
(() => {
  const fake = new EventTarget();
  let keyboard = null;  // the height the keyboard leaves, or null while it is closed
  Object.defineProperties(fake, {
    height: { get: () => (keyboard === null ? window.innerHeight : keyboard) },
    width: { get: () => window.innerWidth },
  });
  Object.assign(fake, { offsetTop: 0, offsetLeft: 0, scale: 1, pageTop: 0, pageLeft: 0 });
  Object.defineProperty(window, 'visualViewport', { get: () => fake, configurable: true });
  window.addEventListener('resize', () => fake.dispatchEvent(new Event('resize')));
  window.__keyboard = (height) => {
    keyboard = height;
    fake.dispatchEvent(new Event('resize'));
  };
})();
"""


def phone_call(phone, visitor, **options):
    mobile = phone(**options)
    desktop = visitor()
    start_call(desktop, mobile, talk=None)  # the phone speaks its own language
    return mobile, desktop


def box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def video_coverage(page) -> float:
    """Share of the viewport the stranger's video covers."""
    return page.evaluate(
        """() => {
          const r = document.getElementById('remote-video').getBoundingClientRect();
          const w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));
          const h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
          return (w * h) / (innerWidth * innerHeight);
        }"""
    )


def fully_inside_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter((e) => e.offsetParent).every((e) => {
          const r = e.getBoundingClientRect();
          return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5;
        })""",
        selector,
    )


def say(page, text: str) -> None:
    page.locator("#message").fill(text)
    page.locator("#message").press("Enter")


def swipe(page, start: tuple[float, float], end: tuple[float, float], steps: int = 4) -> None:
    """One finger across the screen, through the browser's own touch input (CDP)."""
    cdp = page.context.new_cdp_session(page)
    x0, y0 = start
    x1, y1 = end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0, "id": 1}]})
    for step in range(1, steps + 1):
        x = x0 + (x1 - x0) * step / steps
        y = y0 + (y1 - y0) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def pinch(page, center: tuple[float, float]) -> None:
    """One finger down, then a second, both spreading apart sideways: a zoom, never a swipe."""
    cdp = page.context.new_cdp_session(page)
    x, y = center

    def fingers(spread: float) -> list[dict]:
        return [{"x": x - spread, "y": y, "id": 1}, {"x": x + spread, "y": y, "id": 2}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(10)[:1]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(10)})
    for spread in range(20, 160, 20):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(spread)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def keep_screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / f"{name}.png")


# What two strangers say in each language's screenshots: the phone's visitor, then the stranger.
CHATS = {
    "en": ("Hi! Where are you calling from?", "From Lisbon. The sea is right behind me, look!"),
    "hi": ("नमस्ते! आप कहाँ से बात कर रहे हैं?", "मैं जयपुर से हूँ। आज यहाँ बहुत गर्मी है।"),
    "ru": ("Привет! Откуда ты звонишь?", "Из Новосибирска. У нас сегодня настоящая зима."),
    "ar": ("مرحبا! من أين تتصل؟", "من الدار البيضاء. الجو جميل اليوم."),
}


def chat_both_ways(mobile, desktop, lines: tuple[str, str]) -> None:
    mine, theirs = lines
    say(mobile, mine)
    say(desktop, theirs)
    mobile.locator("#chat-log .from-stranger", has_text=theirs).wait_for()


@pytest.mark.parametrize(
    "viewport", [PORTRAIT, SMALL_PORTRAIT, LANDSCAPE], ids=["portrait-390x844", "portrait-360x740", "landscape-844x390"]
)
def test_a_phone_call_fills_the_screen_without_scrolling(phone, visitor, viewport):
    mobile, desktop = phone_call(phone, visitor, viewport=viewport)
    chat_both_ways(mobile, desktop, CHATS["en"])
    assert video_coverage(mobile) >= 0.6
    assert mobile.evaluate("document.scrollingElement.scrollHeight <= innerHeight && scrollY === 0")
    # Everything a visitor uses mid-call is on screen at once, the controls within a thumb's reach.
    for selector in ("#next", "#stop", "#mute", "#camera", "#report", "#more-options", "#message", "#send"):
        assert fully_inside_viewport(mobile, selector), selector
        assert mobile.locator(selector).is_visible(), selector
    for control in ("#next", "#stop", "#mute", "#camera", "#report"):
        area = box(mobile, control)
        if viewport is LANDSCAPE:
            assert area["x"] >= viewport["width"] / 2, control  # the thumb's side, beside the chat
        else:
            assert area["y"] >= viewport["height"] * 0.6, control  # the bottom of the screen
    # The last lines float over the video, each on a translucent backing with a shadow.
    line = mobile.locator("#chat-log .from-stranger").last
    assert fully_inside_viewport(mobile, "#chat-log li:last-child")
    backing = line.evaluate("e => getComputedStyle(e).backgroundColor")
    assert backing.startswith("rgba(") and not backing.endswith(", 0)")
    assert line.evaluate("e => getComputedStyle(e).textShadow") != "none"
    # Between the status at the top and the chat, the stranger is seen, not covered.
    assert (
        mobile.evaluate(
            "(() => { const top = document.querySelector('.status-row').getBoundingClientRect().bottom;"
            " const bottom = document.querySelector('.chat').getBoundingClientRect().top;"
            " return document.elementFromPoint(innerWidth / 3, (top + bottom) / 2).id; })()"
        )
        == "remote-video"
    )


def test_a_sideways_swipe_on_the_stranger_is_next_but_a_scroll_or_a_pinch_is_not(phone, visitor):
    mobile, _ = phone_call(phone, visitor)
    match = mobile.evaluate("window.alienmeet.matchId")
    middle = (PORTRAIT["width"] / 2, PORTRAIT["height"] * 0.35)
    swipe(mobile, (195, 150), (205, 450))  # a vertical drag
    pinch(mobile, middle)  # two fingers spreading sideways
    mobile.evaluate("window.alienmeet.phase")  # the touches above have reached the page
    swipe(mobile, (80, 300), (320, 300))  # towards the end of the line: not Next in English
    mobile.wait_for_timeout(300)  # let any (wrong) Next reach the page before checking it did not happen
    assert mobile.evaluate("window.alienmeet.phase") == "connected"
    assert mobile.evaluate("window.alienmeet.matchId") == match
    assert mobile.locator("#chat-log .notice", has_text="You moved on.").count() == 0
    swipe(mobile, (320, 300), (60, 310))  # towards the start of the line: Next, as the button
    mobile.locator("#chat-log .notice", has_text="You moved on.").wait_for()
    wait_js(mobile, f"window.alienmeet.matchId !== {match!r}")


def test_in_arabic_the_swipe_and_the_corner_picture_mirror(phone, visitor):
    mobile, _ = phone_call(phone, visitor, locale="ar")
    assert mobile.evaluate("document.documentElement.dir") == "rtl"
    picture = box(mobile, ".local")
    assert picture["x"] + picture["width"] / 2 < PORTRAIT["width"] / 2  # the top-left corner
    match = mobile.evaluate("window.alienmeet.matchId")
    swipe(mobile, (320, 300), (60, 310))  # leftwards: not Next in a right-to-left page
    mobile.wait_for_timeout(300)  # let any (wrong) Next reach the page before checking it did not happen
    assert mobile.evaluate("window.alienmeet.matchId") == match
    swipe(mobile, (60, 300), (320, 310))
    wait_js(mobile, f"window.alienmeet.matchId !== {match!r}")


def test_the_own_picture_moves_by_drag_or_button_and_stays_on_screen(phone, visitor):
    mobile, _ = phone_call(phone, visitor)
    picture = box(mobile, ".local")
    grab = (picture["x"] + picture["width"] / 3, picture["y"] + picture["height"] / 3)
    swipe(mobile, grab, (-200, 2000), steps=12)  # dragged far past the bottom-left corner
    moved = box(mobile, ".local")
    assert moved["x"] == pytest.approx(0, abs=1) and moved["y"] + moved["height"] == pytest.approx(844, abs=1)
    assert mobile.evaluate("window.alienmeet.phase") == "connected"  # a drag of the picture is no swipe
    # The button does the same from the keyboard: corner after corner, always inside the screen.
    corners = set()
    for _ in range(4):
        mobile.get_by_role("button", name="Move your picture to another corner").click()
        placed = box(mobile, ".local")
        assert fully_inside_viewport(mobile, ".local")
        corners.add((placed["x"] + placed["width"] / 2 < 195, placed["y"] + placed["height"] / 2 < 422))
    assert len(corners) == 4


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_the_message_box_stays_above_the_keyboard_and_the_stranger_in_view(phone, visitor, viewport):
    fake_keyboard = lambda page: page.add_init_script(FAKE_VISUAL_VIEWPORT)  # noqa: E731
    mobile, desktop = phone_call(phone, visitor, viewport=viewport, prepare=fake_keyboard)
    chat_both_ways(mobile, desktop, CHATS["en"])
    mobile.locator("#message").focus()
    visible = viewport["height"] // 2 if viewport is PORTRAIT else 180
    mobile.evaluate(f"window.__keyboard({visible})")
    wait_js(mobile, "document.documentElement.dataset.keyboard === 'open'")
    form = box(mobile, "#chat-form")
    assert form["y"] >= 0 and form["y"] + form["height"] <= visible + 0.5
    assert box(mobile, "#message")["height"] >= 40
    assert mobile.locator("#chat-log li").last.bounding_box()["y"] >= 0
    # The stranger's video still shows above the chat, in the part the keyboard left.
    free = mobile.evaluate(
        "(() => { const r = document.getElementById('remote-video').getBoundingClientRect();"
        " const chat = document.querySelector('.chat').getBoundingClientRect().top;"
        " return { top: r.top, chat, hit: document.elementFromPoint(innerWidth / 3, Math.max(r.top, 0) + 8).id }; })()"
    )
    assert free["hit"] == "remote-video" and free["top"] <= 0 and free["chat"] >= visible * 0.3
    mobile.evaluate("window.__keyboard(null)")
    wait_js(mobile, "document.documentElement.dataset.keyboard === undefined")
    assert mobile.locator("#next").is_visible()


@pytest.mark.parametrize("language", ["en", "hi", "ru", "ar"])
def test_phone_call_screens_have_no_axe_violations(phone, visitor, language):
    """Portrait and landscape mid-call, chat included, in the longest languages and right to left."""
    mobile, desktop = phone_call(phone, visitor, locale=language, shield=True)
    chat_both_ways(mobile, desktop, CHATS[language])
    mobile.locator("#typing").evaluate("e => e.textContent = ''")  # no half-faded notice in the picture
    # The picture as a visitor sees it mid-call: the nudity shield has looked and unblurred it.
    wait_js(mobile, "window.alienmeetShield.state === 'clear'", timeout=60000)
    for name, viewport in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        mobile.set_viewport_size(viewport)
        wait_js(mobile, f"innerWidth === {viewport['width']}")
        keep_screenshot(mobile, f"phone-{name}-{language}")
        assert video_coverage(mobile) >= 0.6
        assert fully_inside_viewport(mobile, "#next, #stop, #mute, #camera, #report, #message, #send")
        assert axe_violations(mobile) == []


def test_the_options_fold_away_on_a_phone_only(phone, visitor):
    mobile, _ = phone_call(phone, visitor)
    options = mobile.get_by_role("button", name="Options")
    assert not mobile.get_by_label("Hide my IP").is_visible()
    options.click()
    assert options.get_attribute("aria-expanded") == "true"
    assert mobile.get_by_label("Hide my IP").is_visible() and fully_inside_viewport(mobile, ".options")
    desktop = visitor()
    assert not desktop.get_by_role("button", name="Options").is_visible()
    assert desktop.get_by_label("Hide my IP").is_visible()
