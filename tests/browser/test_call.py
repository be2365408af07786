"""Two and three visitors in real browsers: matching, video, audio, chat, Next, leaving."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import matched_pair, remote_frames, screenshot, wait_for_remote_video, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUDIO_PACKETS = """(await (async () => {
  const stats = await window.alienmeet.peerConnection.getStats();
  let packets = 0;
  stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') packets += r.packetsReceived || 0; });
  return packets;
})())"""


def talk(page) -> None:
    page.get_by_role("button", name="Talk to Aliens").click()


def test_two_visitors_see_and_hear_each_other(visitor, capsys):
    # As every visitor starts: with the nudity shield on, which must not stand between them.
    alice = visitor(shield=True)
    bob = visitor(shield=True)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    started = time.monotonic()
    talk(bob)
    wait_for_remote_video(alice, frames=1)
    wait_for_remote_video(bob, frames=1)
    first_frame_ms = (time.monotonic() - started) * 1000
    with capsys.disabled():
        print(f"\n[measured] second click to first decoded remote frame on both sides: {first_frame_ms:.0f} ms")
    for page in (alice, bob):
        wait_for_remote_video(page, frames=remote_frames(page) + 10)
        wait_js(page, f"{AUDIO_PACKETS} > 0")
        wait_js(page, "window.alienmeetShield.state === 'clear'", timeout=60000)  # the shield looked and let it through
        assert page.get_by_role("status").inner_text() == "Connected"
        assert page.get_by_label("Your video").evaluate("v => getComputedStyle(v).transform") != "none"
        assert page.get_by_label("Stranger's video").evaluate("v => getComputedStyle(v).transform") == "none"
    assert alice.evaluate("window.alienmeet.matchId") == bob.evaluate("window.alienmeet.matchId")
    wait_js(alice, "document.getElementById('conn-info').textContent.startsWith('direct')", timeout=10000)
    screenshot(alice, "call-desktop")


def test_chat_goes_peer_to_peer_and_never_through_the_server(visitor):
    alice, bob = matched_pair(visitor)
    secret = "Greetings from Zeta Reticuli <b>bold</b> 👽 #4242"
    alice.get_by_label("Message").fill(secret)
    alice.get_by_label("Message").press("Enter")
    stranger_line = bob.locator("#chat-log .from-stranger").last
    stranger_line.wait_for()
    assert stranger_line.inner_text() == secret
    assert bob.locator("#chat-log b").count() == 0
    bob.get_by_label("Message").fill("hello back")
    bob.get_by_role("button", name="Send").click()
    alice.locator("#chat-log .from-stranger", has_text="hello back").wait_for()
    sent = alice.frames_sent_to_server + bob.frames_sent_to_server
    assert any('"type": "signal"' in frame or '"type":"signal"' in frame for frame in sent)
    assert not [frame for frame in sent if "Zeta Reticuli" in frame or "hello back" in frame]


def test_typing_and_camera_and_mic_state_reach_the_stranger(visitor):
    alice, bob = matched_pair(visitor)
    alice.get_by_label("Message").type("hel")
    wait_js(bob, "document.getElementById('typing').textContent === 'Stranger is typing…'")
    alice.get_by_role("button", name="Camera off").click()
    alice.get_by_role("button", name="Mute").click()
    assert alice.get_by_role("button", name="Mute").get_attribute("aria-pressed") == "true"
    wait_js(bob, "!document.getElementById('badge-camera').hidden && !document.getElementById('badge-mic').hidden")
    alice.get_by_role("button", name="Camera off").click()
    alice.get_by_role("button", name="Mute").click()
    wait_js(bob, "document.getElementById('badge-camera').hidden && document.getElementById('badge-mic').hidden")
    # A control message is never shown as chat text.
    assert bob.locator("#chat-log .from-stranger").count() == 0


def test_next_with_three_visitors_and_closing_a_tab(visitor):
    alice, bob = matched_pair(visitor)
    carol = visitor()
    talk(carol)
    wait_js(carol, "window.alienmeet.phase === 'searching'")
    first_match = alice.evaluate("window.alienmeet.matchId")

    bob.keyboard.press("Escape")  # Next: bob meets carol, who was waiting
    alice.locator("#chat-log .notice", has_text="Stranger left.").wait_for()
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    assert alice.evaluate("document.getElementById('remote-video').srcObject") is None
    assert alice.evaluate("document.getElementById('local-video').srcObject.active")
    for page in (bob, carol):
        wait_js(page, "window.alienmeet.phase === 'connected'")
    assert bob.evaluate("window.alienmeet.matchId") == carol.evaluate("window.alienmeet.matchId") != first_match

    carol.locator("#next").click()  # alice, left alone, is matched again, with carol
    for page in (alice, carol):
        wait_js(page, "window.alienmeet.phase === 'connected'")
        wait_for_remote_video(page, frames=remote_frames(page) + 3)
    assert alice.evaluate("window.alienmeet.matchId") == carol.evaluate("window.alienmeet.matchId")
    bob.locator("#chat-log .notice", has_text="Stranger left.").wait_for()

    carol.context.close()  # closing the tab tells the partner
    wait_js(alice, "document.querySelectorAll('#chat-log .notice').length >= 3")
    alice.locator("#chat-log .notice", has_text="Stranger left.").nth(1).wait_for()
    wait_js(alice, "window.alienmeet.phase !== 'connected' || window.alienmeet.matchId !== null")


def test_stop_and_auto_next_off(visitor):
    alice, bob = matched_pair(visitor)
    bob.get_by_label("Find the next stranger automatically").uncheck()
    alice.get_by_role("button", name="Stop").click()
    wait_js(alice, "window.alienmeet.phase === 'idle'")
    wait_js(bob, "window.alienmeet.phase === 'idle'")
    assert "Stranger left" in bob.get_by_role("status").inner_text()
    # The local camera keeps running after the stranger leaves.
    assert bob.evaluate("document.getElementById('local-video').srcObject.getVideoTracks()[0].readyState") == "live"


def test_phone_layout_puts_the_stranger_on_top(visitor):
    phone = {"width": 390, "height": 844}
    alice = visitor(viewport=phone)
    bob = visitor(viewport=phone)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    wait_for_remote_video(alice, frames=3)
    remote = alice.get_by_label("Stranger's video").bounding_box()
    chat_box = alice.get_by_label("Message").bounding_box()
    assert remote["y"] < chat_box["y"]
    assert remote["width"] <= phone["width"]
    assert alice.evaluate("document.documentElement.scrollWidth") <= phone["width"]
    screenshot(alice, "call-phone")


def test_interests_are_shared_in_the_chat(visitor):
    alice = visitor()
    bob = visitor()
    alice.get_by_label("Interests").fill("Astronomy, jazz")
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    bob.get_by_label("Interests").fill("jazz")
    talk(bob)
    bob.locator("#chat-log .notice", has_text="You both like jazz.").wait_for()
    alice.locator("#chat-log .notice", has_text="You both like jazz.").wait_for()
    data = json.dumps(alice.evaluate("window.alienmeet.phase"))
    assert data


def test_report_moves_the_reporter_on(visitor):
    alice, bob = matched_pair(visitor)
    old_match = alice.evaluate("window.alienmeet.matchId")
    alice.get_by_role("button", name="Report").click()
    dialog = alice.get_by_role("dialog", name="Report this stranger")
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()
    alice.locator("#chat-log .notice", has_text="The stranger was reported").wait_for()
    bob.locator("#chat-log .notice", has_text="Stranger left.").wait_for()
    wait_js(alice, f"window.alienmeet.phase !== 'idle' && window.alienmeet.matchId !== {old_match!r}")
    sent = [frame for frame in alice.frames_sent_to_server if '"report"' in frame]
    assert len(sent) == 1 and '"reason":"spam"' in sent[0].replace(" ", "")
