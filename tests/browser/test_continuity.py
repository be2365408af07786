"""static/js/continuity.js: whether a call goes on unlinked once the server lets go of it, in one place."""

from __future__ import annotations

import pytest

from tests.browser.module_page import module_page, run

pytestmark = pytest.mark.browser

__all__ = ["module_page"]  # the fixture

CONNECTED = {"connectionState": "connected", "channelOpen": True}
NO_CHANNEL = {"connectionState": "connected", "channelOpen": False}
CONNECTING = {"connectionState": "connecting", "channelOpen": False}


def after(page, why: str, call: dict) -> str:
    return run(
        page,
        "const { afterServerLetGo } = await import('/static/js/continuity.js');"
        "return afterServerLetGo(args.why, args.call);",
        why=why,
        call=call,
    )


@pytest.mark.parametrize(
    ("why", "call", "expected"),
    [
        # The stranger's page lost touch with the server: a running call goes on.
        ("partner_left", {**CONNECTED, "reason": "disconnect"}, "goes_on"),
        ("partner_left", {**NO_CHANNEL, "reason": "disconnect"}, "over"),
        ("partner_left", {**CONNECTING, "reason": "disconnect"}, "over"),
        # The stranger pressed Next or Stop: over, however well the call runs.
        ("partner_left", {**CONNECTED, "reason": "next"}, "over"),
        ("partner_left", {**CONNECTED, "reason": "leave"}, "over"),
        # Near the connect deadline, their leaving is the same failure to connect seen from their side.
        ("partner_left", {**CONNECTING, "reason": "next", "nearlyExpired": True}, "never_connected"),
        ("partner_left", {**CONNECTED, "reason": "disconnect", "nearlyExpired": True}, "never_connected"),
        ("resume_failed", CONNECTED, "goes_on"),
        ("resume_failed", NO_CHANNEL, "over"),
        ("resume_failed", CONNECTING, "over"),
        ("resume_failed", {**CONNECTING, "nearlyExpired": True}, "never_connected"),
        # Our own socket lost with no token: whatever still connects goes on; the deadline does not matter.
        ("socket_lost", CONNECTED, "goes_on"),
        ("socket_lost", NO_CHANNEL, "goes_on"),
        ("socket_lost", {**CONNECTING, "nearlyExpired": True}, "over"),
    ],
)
def test_after_the_server_lets_go(module_page, why, call, expected):
    assert after(module_page, why, call) == expected


def test_the_server_links_us_only_when_neither_unlinked_nor_cut_off(module_page):
    result = run(
        module_page,
        """
        const { serverLinks } = await import('/static/js/continuity.js');
        return [[false, false], [true, false], [false, true], [true, true]]
          .map(([unlinked, cutOff]) => serverLinks({ unlinked, cutOff }));
        """,
    )
    assert result == [True, False, False, False]


def test_the_strangers_page_ends_the_call_only_when_the_server_cannot(module_page):
    result = run(
        module_page,
        """
        const { strangerEnded } = await import('/static/js/continuity.js');
        const states = { linked: {}, unlinked: { unlinked: true }, cutOff: { cutOff: true } };
        const out = {};
        for (const sign of ['channelclose', 'bye', 'failed']) {
          const ended = (state) => strangerEnded(sign, { unlinked: false, cutOff: false, ...state });
          out[sign] = Object.fromEntries(Object.entries(states).map(([name, state]) => [name, ended(state)]));
        }
        return out;
        """,
    )
    assert result == {
        "channelclose": {"linked": False, "unlinked": True, "cutOff": True},
        "bye": {"linked": False, "unlinked": True, "cutOff": True},
        # A connection failing while cut off is restarted when the call resumes.
        "failed": {"linked": False, "unlinked": True, "cutOff": False},
    }
