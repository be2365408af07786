"""Real browsers against a real server: Debian's chromium driven by Playwright."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from conftest import require
from tests.browser import session
from tests.servers import Server, collect_static, migrate, server_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# Chromium's fake camera at 10 frames a second (its default is 20): about a sixth less CPU per call,
# which the suite's workers share two cores for; every test waits on frames, never on time.
FAKE_CAMERA = "--use-fake-device-for-media-stream=fps=10"
FAKE_MEDIA = [FAKE_CAMERA, "--use-fake-ui-for-media-stream"]
COMMON_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    # Several pages share one headless browser; none of them may be throttled as "in the background".
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    # Each browser context is a window of its own, and Chromium loads the address bar's WebUI popups
    # (chrome://omnibox-popup.top-chrome) in a renderer of their own for every window, though a
    # headless window never shows them: two visitors from opening the page to a call's fifth frame
    # took 9.5 CPU-s with them and 5.9 without (median of six alternating rounds, one run).
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
]

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PORTRAIT = {"width": 390, "height": 844}


# One Playwright and one Chromium per test process (tests/browser/session.py), stopped before any
# test that uses neither, and at the end of the run.
@pytest.fixture
def playwright_instance():
    require(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM} (Debian package chromium)")
    return session.playwright()


def launch(playwright, fake_media: bool = True):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=COMMON_FLAGS + (FAKE_MEDIA if fake_media else [FAKE_CAMERA]),
    )


@pytest.fixture
def browser(playwright_instance):
    return session.browser(launch)


def new_context(browser, **options):
    """A browser context without the site's service worker (Playwright's ``service_workers``).

    Every page registers it, and at once it fetches the site's shell, icons and articles for offline
    reading: 44 of the call page's 91 requests, and about 0.45 CPU seconds per visitor (Chromium and
    the server together, measured in two pages up to a call's first frames), paid again by each new
    context. Only the web app's own tests (test_webapp.py) need it, and open theirs with it."""
    return browser.new_context(**{"service_workers": "block", **options})


def start_server(tmp_dir: Path, **extra: str) -> Server:
    environ = server_env(tmp_dir, MEET_RATE_BURST="200", MATCH_INTEREST_WAIT="1", **extra)
    migrate(environ)
    collect_static(environ)  # the pages load hashed modules, as in production
    return Server(environ, tmp_dir / "server.log")


def server_with(label: str, **settings: str):
    """A fixture: a test module's own server, started with these settings (environment variables)."""

    @pytest.fixture(scope="module")
    def own_server(tmp_path_factory) -> Iterator[Server]:
        server = start_server(tmp_path_factory.mktemp(label), **settings)
        yield server
        server.stop()

    return own_server


site_server = server_with("live")


Visitor = Callable[..., object]


@pytest.fixture
def shield_on() -> bool:
    """Whether a visitor keeps the nudity shield on, as every visitor starts.

    Off unless a module overrides this fixture (the shield's own tests, the phone screens) or a test
    asks for it: the classifier is most of a page's CPU, and the rest of the suite is about the call.
    Off is the visitor's own saved choice, the same path as switching it off on the page."""
    return False


@pytest.fixture
def visitor(browser, site_server, shield_on):
    """Open the call page as a new visitor (own browser context); closed after the test."""
    contexts = []

    def open_visitor(
        viewport: dict | None = None,
        server: Server | None = None,
        target_browser=None,
        prepare: Callable[[object], None] | None = None,
        accept_rules: bool = True,
        locale: str | None = None,  # the browser's language: navigator.languages and Accept-Language
        shield: bool | None = None,  # None: as the module's shield_on says
        phone: bool = False,  # Playwright's phone emulation: touch, isMobile, a 2x screen; portrait
        chosen_language: str | None = None,  # chosen on the site before (the language switcher's cookie)
        address: str | None = None,  # the visitor's address, as a trusted proxy tells it (X-Forwarded-For)
        until_open: bool = True,  # False: return once the page loaded (its socket may be turned away)
    ):
        options = {"has_touch": True, "is_mobile": True, "device_scale_factor": 2} if phone else {}
        if address:
            options["extra_http_headers"] = {"X-Forwarded-For": address}
        context = new_context(
            target_browser or browser, viewport=viewport or (PORTRAIT if phone else DESKTOP), locale=locale, **options
        )
        contexts.append(context)
        if accept_rules:
            accept_rules_in(context, server or site_server)
        if not (shield_on if shield is None else shield):
            switch_shield_off_in(context)
        if chosen_language:
            cookie = {"name": "django_language", "value": chosen_language, "url": (server or site_server).http_url}
            context.add_cookies([cookie])
        label = f"{'phone' if phone else 'visitor'} {len(contexts)}"
        url = f"{(server or site_server).http_url}/meet/"
        return open_call_page(context, url, label, prepare=prepare, until_open=until_open)

    yield open_visitor
    for context in contexts:
        context.close()


def open_call_page(
    context, url: str, label: str, prepare: Callable[[object], None] | None = None, until_open: bool = True
):
    """A new page of this browser context at ``url``.

    Its console and errors are printed (pytest shows them when a test fails), and every frame it
    sends to the signaling server or gets from it is kept, from the first on: in
    ``page.frames_sent_to_server`` and ``page.frames_from_server``, and per signaling socket the page
    opens, the frames sent on that one in ``page.sockets``. ``prepare`` puts init scripts or routes in
    place before the page loads; with ``until_open``, returned once its signaling socket is open."""
    page = context.new_page()
    if prepare:
        prepare(page)
    page.on("console", lambda message: print(f"[{label} console] {message.type}: {message.text}"))
    page.on("pageerror", lambda error: print(f"[{label} page error] {error}"))
    page.sockets, page.frames_sent_to_server, page.frames_from_server = [], [], []

    def watch(socket) -> None:
        sent_on_it: list[str] = []
        page.sockets.append(sent_on_it)

        def sent(payload) -> None:
            sent_on_it.append(str(payload))
            page.frames_sent_to_server.append(str(payload))

        socket.on("framesent", sent)
        socket.on("framereceived", lambda payload: page.frames_from_server.append(str(payload)))

    page.on("websocket", watch)
    page.goto(url)
    if until_open:
        wait_js(page, "window.alienmeet && window.alienmeet.signalingOpen", timeout=15000)
    return page


@pytest.fixture
def phone(visitor):
    """Open the call page on an emulated phone, in the language of its `locale` (chosen on the site
    too), with the nudity shield off unless asked for; closed after the test."""

    def open_phone(viewport: dict = PORTRAIT, locale: str | None = None, prepare=None, shield: bool = False):
        chosen = locale.split("-")[0].lower() if locale and not locale.startswith("en") else None
        return visitor(
            viewport=viewport, locale=locale, prepare=prepare, shield=shield, phone=True, chosen_language=chosen
        )

    return open_phone


def rules_version(server: Server) -> str:
    return server.environ.get("MEET_RULES_VERSION") or settings.ADMISSION["RULES_VERSION"]


def accept_rules_in(context, server: Server) -> None:
    """This browser context has accepted the server's current rules, as the rules gate records it."""
    acceptance = json.dumps({"version": rules_version(server), "acceptedAt": "2026-11-27T12:00:00Z"})
    context.add_init_script(
        f"try {{ localStorage.setItem('alienmeet.rules', {json.dumps(acceptance)}); }} catch (error) {{}}"
    )


def switch_shield_off_in(context) -> None:
    """This browser context has switched the nudity shield off, as the page stores that choice."""
    context.add_init_script("try { localStorage.setItem('alienmeet.shield', 'off'); } catch (error) {}")


def start_call(
    first,
    second,
    talk: str | None = "Talk to Aliens",
    channel_open: bool = False,
    video_frames: int = 0,
    timeout: float = 20000,
) -> None:
    """The first page waits for a stranger and the second joins: both are in a call on return.

    `talk` is the button's name in the pages' language (None: the start button, whatever its
    language). With `channel_open`, each page's chat channel
    to the stranger is open too; with `video_frames`, each has decoded that many of the stranger's frames.
    """

    def press(page) -> None:
        (page.locator("#start") if talk is None else page.get_by_role("button", name=talk)).click()

    press(first)
    wait_js(first, "window.alienmeet.phase === 'searching'")
    press(second)
    for page in (first, second):
        wait_js(page, "window.alienmeet.phase === 'connected'", timeout=timeout)
    if channel_open:
        for page in (first, second):
            wait_js(page, "window.alienmeet.dataChannel && window.alienmeet.dataChannel.readyState === 'open'")
    if video_frames:
        for page in (first, second):
            wait_for_remote_video(page, frames=video_frames)


def matched_pair(visitor, **options) -> tuple:
    """Two new visitors (each opened with these `visitor` options) in a call with each other."""
    first, second = visitor(**options), visitor(**options)
    start_call(first, second)
    return first, second


def by_politeness(first, second) -> tuple:
    """The pair as (polite, impolite): the polite page is the one that rolls back when offers cross."""
    return (first, second) if first.evaluate("window.alienmeet.polite") else (second, first)


def wait_for(page, condition: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Wait on a Python-side condition (frames the page sent or got) while the page's events keep coming in."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        page.wait_for_timeout(100)


def wait_js(page, expression: str, timeout: float = 20000):
    """Wait until a JavaScript expression (which may use await) is truthy, polling every 100 ms.

    Playwright's wait_for_function would take an async predicate's promise itself as truthy.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(f"async () => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} ms waiting for: {expression}")
        page.wait_for_timeout(100)


# Frames of the stranger's video decoded so far, from getStats (counts even when nothing repaints).
FRAMES_DECODED = """(await (async () => {
  const pc = window.alienmeet.peerConnection;
  if (!pc) return 0;
  let frames = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
  });
  return frames;
})())"""


# An init script: counts the frames the stranger's <video> presents (what the visitor sees), which a
# frozen picture stops while FRAMES_DECODED still climbs.
PAINTED_FRAMES_SCRIPT = """
(() => {
  window.__painted = 0;
  document.addEventListener('DOMContentLoaded', () => {
    const video = document.getElementById('remote-video');
    if (!video || !video.requestVideoFrameCallback) return;
    const onFrame = () => { window.__painted += 1; video.requestVideoFrameCallback(onFrame); };
    video.requestVideoFrameCallback(onFrame);
  });
})();
"""


def painted_frames(page) -> int:
    """Frames of the stranger's video the page showed (needs PAINTED_FRAMES_SCRIPT before the page loads)."""
    return page.evaluate("window.__painted")


def wait_for_painted_frames(page, frames: int, timeout: float = 30000) -> None:
    wait_js(page, f"window.__painted >= {frames}", timeout=timeout)


def remote_frames(page) -> int:
    return page.evaluate(f"async () => {FRAMES_DECODED}")


def wait_for_remote_video(page, frames: int = 5, timeout: float = 30000) -> None:
    wait_js(page, f"{FRAMES_DECODED} >= {frames}", timeout=timeout)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
