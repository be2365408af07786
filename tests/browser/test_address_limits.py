"""What the page does when the server turns it away for too many connections from one address."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import server_with, wait_for, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATUS = "document.getElementById('status').textContent"


one_place_server = server_with("one-place", MEET_ADDRESS_MAX_CONNECTIONS="1")


one_connect_a_minute_server = server_with("one-a-minute", MEET_ADDRESS_CONNECTS_PER_MINUTE="1")


def turned_away_visitor(visitor, server):
    """A call page whose connections are counted (``page.sockets``), on a clock the test can move."""
    return visitor(server=server, prepare=lambda page: page.clock.install(), until_open=False)


def test_a_full_address_is_told_and_waits_for_the_visitor(visitor, one_place_server):
    alice = visitor(server=one_place_server)
    bob = turned_away_visitor(visitor, one_place_server)
    wait_js(bob, f"{STATUS}.includes('close another AlienMeet tab')")
    assert "close another AlienMeet tab" in bob.locator("#remote-message").inner_text()
    assert bob.evaluate("window.alienmeet.phase") == "idle"
    # Backoff alone would have tried again several times within two minutes; nothing can free a
    # place but the visitor, so the page does not knock again by itself.
    # The fake clock runs every timer that fell due on the way: none planned a new connection.
    bob.clock.fast_forward("02:00")
    assert bob.evaluate("[window.alienmeet.reconnectPlanned, window.alienmeet.signalingOpen]") == [False, False]
    assert len(bob.sockets) == 1
    assert "close another AlienMeet tab" in bob.evaluate(STATUS)
    # The other tab is closed: once the server has given its place back, Talk to Aliens connects
    # and queues (pressed again while the server still counts the closed tab, it is refused again).
    alice.context.close()

    def let_in() -> bool:
        if bob.evaluate("window.alienmeet.signalingOpen"):
            return True
        # Between a press and its refusal the button speaks of the search instead: not there to press.
        talk = bob.get_by_role("button", name="Talk to Aliens")
        if talk.count() and talk.is_enabled():
            talk.click()
        bob.wait_for_timeout(500)
        return bool(bob.evaluate("window.alienmeet.signalingOpen"))

    wait_for(bob, let_in, "a connection once the other tab's place is free")
    wait_js(bob, "window.alienmeet.phase === 'searching'")
    wait_for(
        bob, lambda: any('"join"' in frame for frame in bob.frames_sent_to_server), "the join on the new connection"
    )


def test_too_many_new_connections_come_back_when_the_server_says(visitor, one_connect_a_minute_server):
    # A minute's boundary between the two connections would let the second one in.
    while time.time() % 60 > 45:
        time.sleep(0.5)
    visitor(server=one_connect_a_minute_server)
    bob = turned_away_visitor(visitor, one_connect_a_minute_server)
    wait_js(bob, f"{STATUS}.includes('try again in a minute')")
    refusal = next(json.loads(frame) for frame in bob.frames_from_server if "too_many_connections" in frame)
    assert refusal["reason"] == "rate"
    retry_after = refusal["retry_after"]
    assert 0 < retry_after <= 60
    # The words come with the refusal, the plan to come back with the socket's close just after:
    # the clock may only move once that plan is made.
    wait_js(bob, "window.alienmeet.reconnectPlanned")
    # Not before the server said...
    bob.clock.fast_forward(max(0, retry_after - 2) * 1000)
    assert bob.evaluate("window.alienmeet.reconnectPlanned")  # still only planned
    assert len(bob.sockets) == 1
    # ...and then by itself.
    bob.clock.fast_forward(3000)
    wait_for(bob, lambda: len(bob.sockets) == 2, "a new connection after retry_after")
