"""Hide my IP through a real coturn on loopback, and a visitor whose camera is refused."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.browser.conftest import launch, screenshot, wait_for_remote_video, wait_js
from tests.turn.coturn import coturn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SELECTED_PAIR = """(await (async () => {
  const stats = await window.alienmeet.peerConnection.getStats();
  let pair = null;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) return null;
  return [stats.get(pair.localCandidateId).candidateType, stats.get(pair.remoteCandidateId).candidateType];
})())"""


@pytest.fixture(scope="module")
def turn_server(tmp_path_factory):
    with coturn(tmp_path_factory.mktemp("turn")) as server:
        yield server


@pytest.fixture(scope="module")
def turn_site(tmp_path_factory, turn_server):
    from tests.browser.conftest import start_server

    server = start_server(
        tmp_path_factory.mktemp("turn-site"),
        TURN_URLS=turn_server.urls()["udp"],
        TURN_SECRET=turn_server.secret,
        TURN_TTL="60",
    )
    yield server
    server.stop()


def test_hide_my_ip_relays_through_turn(visitor, turn_site, turn_server):
    alice = visitor(server=turn_site)
    bob = visitor(server=turn_site)
    for page in (alice, bob):
        deadline = time.monotonic() + 15
        while not any('"hello"' in frame for frame in page.frames_from_server):  # it says the relay is offered
            assert time.monotonic() < deadline, "no hello"
            page.wait_for_timeout(50)
        page.get_by_role("switch", name="Hide my IP").check()
        # hello carries no TURN credential (only admitted visitors get one), yet the relay is there.
        assert "not available" not in page.locator("#status").text_content()
    alice.get_by_role("button", name="Talk to Aliens").click()
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    bob.get_by_role("button", name="Talk to Aliens").click()
    for page in (alice, bob):
        wait_js(page, "window.alienmeet.phase === 'connected'", timeout=30000)
        wait_for_remote_video(page, frames=5)
        assert wait_js(page, SELECTED_PAIR) == ["relay", "relay"]
        wait_js(page, "document.getElementById('conn-info').textContent.startsWith('relayed')", timeout=10000)
    # No address of either visitor's own was ever offered to the stranger.
    for page in (alice, bob):
        signals = [frame for frame in page.frames_sent_to_server if "candidate:" in frame]
        assert signals
        assert all("typ relay" in frame for frame in signals), signals
    # Each call used the credential minted for it with `matched`, not the one from `hello`.
    for page in (alice, bob):
        frames = [json.loads(frame) for frame in page.frames_from_server]
        hello = next(frame for frame in frames if frame["type"] == "hello")
        matched = next(frame for frame in frames if frame["type"] == "matched")
        in_use = page.evaluate("window.alienmeet.peerConnection.getConfiguration().iceServers")
        usernames = {server.get("username") for server in in_use} - {None}
        assert usernames == {server["username"] for server in matched["ice_servers"] if "username" in server}
        assert not usernames & {server.get("username") for server in hello["ice_servers"]}
    # The relay served both, and wrote down neither's address nor credential.
    written = turn_server.written()
    assert "127.0.0.1" not in written
    assert not re.search(r"\b\d{10}:", written), "a TURN username is in coturn's output"


@pytest.fixture
def denied_browser(playwright_instance):
    # Real (fake) devices, but no automatic "Allow": the permission request is refused.
    browser = launch(playwright_instance, fake_media=False)
    yield browser
    browser.close()


def test_camera_denied_explains_and_offers_text_chat(visitor, denied_browser):
    refused = visitor(target_browser=denied_browser)
    refused.get_by_role("button", name="Talk to Aliens").click()
    problem = refused.get_by_role("alert")
    problem.wait_for()
    assert "blocked the camera and microphone" in problem.inner_text()
    assert refused.get_by_role("button", name="Text chat only").is_visible()
    assert refused.get_by_role("button", name="Join with audio only").is_visible()
    screenshot(refused, "camera-denied")

    refused.get_by_role("button", name="Text chat only").click()
    wait_js(refused, "window.alienmeet.phase === 'searching'")
    friend = visitor()
    friend.get_by_role("button", name="Talk to Aliens").click()
    for page in (refused, friend):
        wait_js(page, "window.alienmeet.phase === 'connected'", timeout=30000)
    refused.get_by_label("Message").fill("I can only type, hi!")
    refused.get_by_label("Message").press("Enter")
    friend.locator("#chat-log .from-stranger", has_text="I can only type, hi!").wait_for()
    # The text-only visitor still sees the stranger's video.
    wait_for_remote_video(refused, frames=3)
    assert Path(screenshot(friend, "text-only-partner")).exists()
