"""What the page says when the server refuses to queue a visitor: too many Next presses, a failed anti-bot check."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import start_server, wait_js
from tests.servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("strict"), MEET_NEXT_PER_MINUTE="1")
    yield server
    server.stop()


def talk(page) -> None:
    page.get_by_role("button", name="Talk to Aliens").click()


def status(page) -> str:
    return page.get_by_role("status").inner_text()


def test_pressing_next_too_often_is_explained_in_words(visitor, strict_server):
    alice = visitor(server=strict_server)
    bob = visitor(server=strict_server)
    talk(alice)
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    talk(bob)
    wait_js(alice, "window.alienmeet.phase === 'connected'")
    first_match = alice.evaluate("window.alienmeet.matchId")
    alice.locator("#next").click()
    # Only the two of them are looking, so they meet again once both waited the interest wait.
    wait_js(alice, f"window.alienmeet.matchId && window.alienmeet.matchId !== '{first_match}'")
    alice.locator("#next").click()
    wait_js(alice, "document.getElementById('status').textContent.includes('slow down')", timeout=10000)
    assert "try Next again in" in status(alice)
    assert alice.evaluate("window.alienmeet.phase") == "idle"
    assert "slow down" in alice.locator("#remote-message").inner_text()


def test_a_failed_anti_bot_check_is_explained(visitor, strict_server, browser):
    page = visitor(server=strict_server)
    # This browser cannot run the solver: every join goes without a solution.
    # (The worker is the vendored altcha one, under its hashed name since collectstatic ran.)
    blocked: list[str] = []

    def block(route) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route("**/altcha-2.3.0/worker*.js", block)
    page.reload()
    wait_js(page, "window.alienmeet.signalingOpen")
    talk(page)
    wait_js(page, "document.getElementById('status').textContent.includes('anti-bot check')", timeout=10000)
    assert page.evaluate("window.alienmeet.phase") == "idle"
    joins = [json.loads(frame) for frame in page.frames_sent_to_server if '"join"' in frame]
    wait_until(lambda: len(joins) >= 1, 1)
    assert all(join["pow"] is None for join in joins)
    assert blocked, "the page never asked for the solver's worker"
