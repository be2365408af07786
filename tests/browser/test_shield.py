"""The nudity shield in real browsers: the classifier on Chromium's fake camera, and the blur, the
notice and its buttons driven by scores injected through the test hook."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import new_context, screenshot, server_with, wait_for, wait_for_remote_video, wait_js
from tests.browser.module_page import module_page, run

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["module_page"]  # the fixture

NEUTRAL = {"Drawing": 0.02, "Hentai": 0.01, "Neutral": 0.95, "Porn": 0.01, "Sexy": 0.01}
EXPLICIT = {"Drawing": 0.01, "Hentai": 0.04, "Neutral": 0.05, "Porn": 0.85, "Sexy": 0.05}
SHIELD = "window.alienmeetShield"
BLURRED = "getComputedStyle(document.getElementById('remote-video')).filter.includes('blur')"


# A server that renders the shield's test hook, so pages may inject scores.
hook_server = server_with("shield", SHIELD_TEST_HOOK="1")


@pytest.fixture
def shield_on() -> bool:
    """Every visitor here starts as every visitor does: with the shield on."""
    return True


def inject(page, scores: dict | None) -> None:
    page.evaluate(f"window.__shieldTestScores = {json.dumps(scores)}")


def talk(page) -> None:
    page.get_by_role("button", name="Talk to Aliens").click()


def pair(visitor, server, alice_scores=NEUTRAL, bob_scores=NEUTRAL):
    alice = visitor(server=server)
    bob = visitor(server=server)
    for page, scores in ((alice, alice_scores), (bob, bob_scores)):
        if scores is not None:
            inject(page, scores)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    for page in (alice, bob):
        wait_js(page, "window.alienmeet.phase === 'connected'")
    return alice, bob


def classifications(page) -> int:
    return page.evaluate(f"{SHIELD}.stats.classifications")


def is_classifier_file(url: str) -> bool:
    # The other vendored package, the proof of work's solver (vendor/altcha-*), loads with every call page.
    return "/static/vendor/" in url and "/static/vendor/altcha-" not in url


def classifier_requests(page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if is_classifier_file(request.url) else None)
    return requests


# Every state the shield puts the stranger's video in, with whether the video was blurred then.
RECORD_STATES = """
window.__shieldStates = [];
new MutationObserver(() => {
  const video = document.getElementById("remote-video");
  if (!video) return;
  if (!video.__shieldWatched) {
    video.__shieldWatched = true;
    new MutationObserver(() => {
      window.__shieldStates.push([video.dataset.shield, getComputedStyle(video).filter.includes("blur")]);
    }).observe(video, { attributes: true, attributeFilter: ["data-shield"] });
  }
}).observe(document, { childList: true, subtree: true });
"""


def record_states(page) -> None:
    page.add_init_script(RECORD_STATES)


def assert_blurred_until_clear(page) -> None:
    """The stranger's video was blurred while it was being checked, and shown once a check passed."""
    states = page.evaluate("window.__shieldStates")
    names = [name for name, _ in states]
    assert "checking" in names and "clear" in names, states
    assert names.index("checking") < names.index("clear"), states
    assert all(blurred for name, blurred in states if name == "checking"), states
    assert not any(blurred for name, blurred in states if name == "clear"), states


def test_shield_classifies_real_frames_in_a_worker_and_shows_the_stranger(visitor, site_server, capsys):
    # site_server renders no test hook, so the scores a page injects are ignored: the model decides.
    alice = visitor(server=site_server, prepare=record_states)
    bob = visitor(server=site_server)
    inject(alice, EXPLICIT)
    # Bob's shield is off, so only Alice's classifier runs on the machine, as on a visitor's device.
    bob.get_by_role("switch", name="Nudity shield").uncheck()
    # Everything Alice's browser asks of any server from now on (her worker's requests included): the
    # shield must add nothing but its files.
    asked: list[tuple[str, str]] = []
    alice.context.on("request", lambda request: asked.append((request.method, request.url)))
    talk(alice)
    # The usual case: the model loads while the visitor waits to be matched.
    wait_js(alice, f"{SHIELD}.stats.modelLoadMs !== null", timeout=60000)
    talk(bob)
    # collectstatic ran for this server: the model and its weights load under their hashed names.
    html = alice.content()
    assert re.search(r'data-model="/static/vendor/nsfwjs-4\.4\.0/mobilenet_v2/model\.[0-9a-f]{12}\.json"', html)
    assert re.search(r'data-weights="/static/vendor/[^"]+/group1-shard1of1\.[0-9a-f]{12}\.bin"', html)
    wait_for_remote_video(alice, frames=1)
    wait_js(alice, f"{SHIELD}.state === 'clear'", timeout=60000)
    assert not alice.evaluate(BLURRED)
    assert_blurred_until_clear(alice)
    # The model ran in the shield's worker, on the WebAssembly backend: TensorFlow.js never loaded on
    # the page itself, whose main thread stays free for the call.
    assert alice.evaluate(f"[{SHIELD}.stats.where, {SHIELD}.stats.backend]") == ["worker", "wasm"]
    assert alice.evaluate("typeof window.tf") == "undefined"
    assert any("/static/js/shield_worker." in url for _, url in asked)
    scores = alice.evaluate(f"{SHIELD}.stats.last")
    assert set(scores) == {"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}
    assert abs(sum(scores.values()) - 1) < 0.01
    # The camera's test pattern is no nudity, and sampling goes on about once a second.
    seen = classifications(alice)
    wait_js(alice, f"{SHIELD}.stats.classifications >= {seen + 2}", timeout=15000)
    assert alice.evaluate(f"{SHIELD}.state") == "clear"
    stats = alice.evaluate(f"{SHIELD}.stats")
    # The stranger shows as soon as the first classified frame passes, not a sample later. How long
    # that takes in milliseconds is the benchmark's to measure (bench/first_frame.py, bench/shield.py),
    # not a test's: on a loaded machine a wall-clock budget fails for the machine, not for the page.
    assert stats["firstClearSamples"] == 1, stats
    with capsys.disabled():
        first_unblur_ms = stats["firstClearAt"] - stats["firstFrameAt"]
        print(f"\n[measured] model load {stats['modelLoadMs']} ms, first frame to unblur {first_unblur_ms:.0f} ms")
    # Nothing of what was checked left the browser: no upload of any kind, only the classifier's own
    # files fetched, and the signaling socket carried signaling only.
    assert any(is_classifier_file(url) for _, url in asked), "the classifier's files were watched being fetched"
    assert [url for method, url in asked if method != "GET" or "/static/" not in url] == []
    kinds = {json.loads(frame)["type"] for frame in alice.frames_sent_to_server}
    assert kinds <= {"join", "signal", "connection_report", "refresh_ice_servers"}, kinds
    assert max(len(frame) for frame in alice.frames_sent_to_server) < 16 * 1024


def test_video_stays_blurred_until_the_first_sample_passes(visitor, hook_server):
    alice = visitor(server=hook_server)
    bob = visitor(server=hook_server)
    # Alice's classifier answers only when the test says so.
    alice.evaluate(
        "() => { window.__shieldTestScores = () => new Promise((resolve) => { window.releaseSample = resolve; }); }"
    )
    inject(bob, NEUTRAL)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    wait_for_remote_video(alice, frames=5)
    wait_js(alice, "typeof window.releaseSample === 'function'")
    assert alice.evaluate(f"{SHIELD}.state") == "checking"
    assert alice.evaluate(BLURRED)
    screenshot(alice, "shield-checking")
    alice.evaluate(f"window.releaseSample({json.dumps(NEUTRAL)})")
    wait_js(alice, f"{SHIELD}.state === 'clear'")
    assert not alice.evaluate(BLURRED)


def test_a_flagged_sample_blurs_with_a_notice_and_show_anyway_holds_for_that_call(visitor, hook_server):
    alice, _bob = pair(visitor, hook_server)
    wait_js(alice, f"{SHIELD}.state === 'clear'")
    notice = alice.locator("#shield-notice")
    assert notice.is_hidden()
    inject(alice, EXPLICIT)
    wait_js(alice, f"{SHIELD}.state === 'flagged'", timeout=10000)
    assert alice.evaluate(BLURRED)
    notice.wait_for(state="visible")
    message = notice.locator("[data-shield-message]")
    assert message.get_attribute("aria-live") == "assertive"
    wait_js(alice, "document.querySelector('[data-shield-message]').textContent.includes('may show nudity')")
    screenshot(alice, "shield-flagged")
    # Keyboard: the notice's buttons are real buttons in the tab order.
    show = alice.get_by_role("button", name="Show anyway")
    show.focus()
    alice.keyboard.press("Enter")
    wait_js(alice, f"{SHIELD}.state === 'shown'")
    assert notice.is_hidden()
    assert not alice.evaluate(BLURRED)
    # The button that had focus is gone with the notice: focus lands on the video the visitor chose to see.
    assert alice.evaluate("document.activeElement.id") == "remote-video"
    # Still explicit, but the visitor chose to see this call: it stays shown while the other side samples on.
    seen = classifications(alice)
    bob_seen = classifications(_bob)
    wait_js(_bob, f"{SHIELD}.stats.classifications >= {bob_seen + 3}", timeout=15000)
    assert classifications(alice) == seen
    assert alice.evaluate(f"{SHIELD}.state") == "shown"
    # The next stranger is checked again.
    alice.get_by_role("button", name="Next", exact=True).first.click()
    wait_js(alice, f"{SHIELD}.state === 'flagged'", timeout=30000)


def test_next_on_the_notice_moves_on(visitor, hook_server):
    alice, _bob = pair(visitor, hook_server, alice_scores=EXPLICIT)
    wait_js(alice, f"{SHIELD}.state === 'flagged'")
    first_match = alice.evaluate("window.alienmeet.matchId")
    alice.locator("#shield-notice").get_by_role("button", name="Next").click()
    wait_js(alice, f"window.alienmeet.phase === 'searching' || window.alienmeet.matchId !== {json.dumps(first_match)}")
    assert any('"next"' in frame for frame in alice.frames_sent_to_server)
    assert not any('"report"' in frame for frame in alice.frames_sent_to_server)


def test_report_on_the_notice_reports_nudity_in_one_tap(visitor, hook_server):
    alice, _bob = pair(visitor, hook_server, alice_scores=EXPLICIT)
    wait_js(alice, f"{SHIELD}.state === 'flagged'")
    match_id = alice.evaluate("window.alienmeet.matchId")
    alice.get_by_role("button", name="Report nudity").click()
    wait_js(alice, "document.getElementById('chat-log').textContent.includes('reported')")
    [report] = [json.loads(frame) for frame in alice.frames_sent_to_server if '"report"' in frame]
    assert (report["type"], report["match_id"], report["reason"]) == ("report", match_id, "nudity")
    # With the evidence the report dialog attaches by default: the stranger's frame, unblurred.
    assert report["evidence"]["snapshot"]
    assert alice.evaluate(f"{SHIELD}.state") != "flagged"


def test_with_the_shield_off_nothing_is_classified_or_loaded(visitor, site_server):
    alice = visitor(server=site_server)
    alice.get_by_role("switch", name="Nudity shield").uncheck()
    # Remembered in this browser.
    alice.reload()
    wait_js(alice, "window.alienmeet && window.alienmeet.signalingOpen", timeout=15000)
    assert not alice.get_by_role("switch", name="Nudity shield").is_checked()
    loaded = classifier_requests(alice)
    bob = visitor(server=site_server)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    wait_for_remote_video(alice, frames=5)
    # Bob's shield runs its real model meanwhile: give it three samples' time.
    wait_js(bob, f"{SHIELD}.stats.classifications >= 3", timeout=60000)
    assert classifications(alice) == 0
    assert alice.evaluate(f"{SHIELD}.state") == "off"
    assert not alice.evaluate(BLURRED)
    assert alice.evaluate("typeof window.tf") == "undefined"
    assert loaded == []
    # Switched on mid-call, it checks the stranger at once.
    alice.get_by_role("switch", name="Nudity shield").check()
    wait_js(alice, f"{SHIELD}.state === 'clear'", timeout=60000)
    assert classifications(alice) >= 1


def test_landing_and_article_pages_do_not_load_the_classifier(visitor, site_server, browser):
    context = new_context(browser)
    try:
        page = context.new_page()
        vendored: list[str] = []
        page.on("request", lambda request: vendored.append(request.url) if "/static/vendor/" in request.url else None)
        # Every script of a page has run once it has loaded (goto waits for that); nothing there loads
        # vendored files later without a visitor's action.
        for path in ("/", "/articles/privacy/"):
            page.goto(f"{site_server.http_url}{path}")
        # Nothing vendored at all outside the call page.
        assert vendored == []
        # The call page fetches the proof of work's solver as soon as the server's hello comes, the
        # classifier only once a call starts.
        page.goto(f"{site_server.http_url}/meet/")
        wait_for(page, lambda: any("/static/vendor/altcha-2.3.0/worker." in url for url in vendored), "the solver")
        assert page.evaluate("typeof window.tf") == "undefined"
        assert [url for url in vendored if is_classifier_file(url)] == []
    finally:
        context.close()


def test_a_classifier_that_cannot_load_keeps_the_video_blurred_and_says_so(visitor, site_server):
    alice = visitor(server=site_server)
    alice.route("**/static/vendor/nsfwjs-*/**", lambda route: route.fulfill(status=404, body="gone"))
    bob = visitor(server=site_server)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    wait_js(alice, f"{SHIELD}.state === 'failed'", timeout=60000)
    assert alice.evaluate(BLURRED)
    wait_js(alice, "document.querySelector('[data-shield-message]').textContent.includes('could not start')")
    alice.get_by_role("button", name="Show anyway").click()
    wait_js(alice, f"{SHIELD}.state === 'shown'")
    assert not alice.evaluate(BLURRED)


def test_without_the_worker_the_page_classifies_on_its_own_main_thread(visitor, site_server):
    # A browser whose worker cannot start (here: its script is not found) still gets the shield.
    def refuse_worker(page) -> None:
        page.add_init_script(
            """window.Worker = class extends Worker {
              constructor(url, options) {
                super(String(url).includes("shield_worker") ? "/static/js/no-such-worker.js" : url, options);
              }
            };"""
        )
        record_states(page)

    alice = visitor(server=site_server, prepare=refuse_worker)
    bob = visitor(server=site_server)
    bob.get_by_role("switch", name="Nudity shield").uncheck()
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    wait_js(alice, f"{SHIELD}.state === 'clear'", timeout=60000)
    assert_blurred_until_clear(alice)
    assert alice.evaluate(f"[{SHIELD}.stats.where, {SHIELD}.stats.backend]") == ["main", "wasm"]
    assert alice.evaluate("window.tf.getBackend()") == "wasm"


@pytest.mark.parametrize(
    ("scores", "flagged"),
    [
        (NEUTRAL, False),
        ({"Drawing": 0.9, "Neutral": 0.1}, False),
        ({"Porn": 0.5, "Neutral": 0.5}, True),
        ({"Porn": 0.2, "Hentai": 0.3, "Neutral": 0.5}, True),
        # A bare chest or swimwear alone is no reason to blur...
        ({"Sexy": 0.95, "Porn": 0.03, "Neutral": 0.02}, False),
        # ...but counts on top of a real explicit score.
        ({"Sexy": 0.65, "Porn": 0.2, "Neutral": 0.15}, True),
        ({"Sexy": 0.55, "Porn": 0.2, "Neutral": 0.25}, False),
    ],
)
def test_threshold_rule(module_page, scores, flagged):
    body = "return (await import('/static/js/shield.js')).crossesThreshold(args.scores);"
    assert run(module_page, body, scores=scores) is flagged
