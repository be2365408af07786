"""The picture watchdog (static/js/picture_watchdog.js) on its own: a stand-in for the stranger's
<video> that presents frames only when the test lets it, and a decoder whose count keeps climbing."""

from __future__ import annotations

import pytest

from tests.browser.conftest import wait_js
from tests.browser.module_page import module_page, run

pytestmark = pytest.mark.browser

__all__ = ["module_page"]  # the fixture

# A playing <video> whose frames are presented while `window.presenting` is true, ten a second, and a
# decoder that produces three frames every tenth of a second whatever the video shows. `window.checks`
# counts the watchdog's checks (each reads the decoder once).
START = """
const { PictureWatchdog } = await import('/static/js/picture_watchdog.js');
const video = document.createElement('video');
video.style.width = '40px';
video.style.height = '30px';
document.body.append(video);
Object.defineProperty(video, 'paused', { get: () => false });
Object.defineProperty(video, 'readyState', { get: () => HTMLMediaElement.HAVE_ENOUGH_DATA });
const waiting = [];
video.requestVideoFrameCallback = (callback) => waiting.push(callback);
video.cancelVideoFrameCallback = () => {};
let decoded = 0;
window.presenting = true;
window.checks = 0;
window.events = [];
setInterval(() => {
  decoded += 3;
  if (window.presenting) waiting.splice(0).forEach((callback) => callback());
}, 100);
window.watchdog = new PictureWatchdog(
  video,
  async () => { window.checks += 1; return decoded; },
  { onFrozen: () => window.events.push('frozen'), onRecovered: () => window.events.push('recovered') },
);
"""


def test_a_picture_that_stops_while_frames_are_decoded_is_frozen_until_it_moves_again(module_page):
    run(module_page, START)
    wait_js(module_page, "window.watchdog.everShown", timeout=5000)
    module_page.evaluate("window.presenting = false")
    wait_js(module_page, "window.events.includes('frozen')", timeout=10000)
    assert module_page.evaluate("window.events") == ["frozen"]
    module_page.evaluate("window.presenting = true")
    wait_js(module_page, "window.events.includes('recovered')", timeout=10000)
    assert module_page.evaluate("window.events") == ["frozen", "recovered"]


def test_a_page_that_renders_nothing_is_slow_not_frozen(module_page):
    run(module_page, START)
    wait_js(module_page, "window.watchdog.everShown", timeout=5000)
    # No animation frame is ever rendered: a page too busy to paint anything.
    run(
        module_page,
        "window.rendering = window.requestAnimationFrame; window.requestAnimationFrame = () => 0;"
        " window.presenting = false;",
    )
    checks = module_page.evaluate("window.checks")
    # Twice the time a still picture needs before it counts as frozen (STILL_MS, four checks).
    wait_js(module_page, f"window.checks >= {checks + 8}", timeout=15000)
    assert module_page.evaluate("window.events") == []
    # The same page, rendering again, finds the same still picture frozen.
    run(module_page, "window.requestAnimationFrame = window.rendering;")
    wait_js(module_page, "window.events.includes('frozen')", timeout=10000)
