"""The signaling socket dies mid-call (a network change): the page takes its call over on a new socket.

One visitor talks to the site through a proxy (tests/browser/cutting_proxy.py) that resets the
connections through it, as a lost network does: no close frame, the WebRTC call itself untouched.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.browser.conftest import remote_frames, server_with, start_call, wait_for, wait_for_remote_video, wait_js
from tests.browser.cutting_proxy import CuttingProxy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLOSE_RESUMED_ELSEWHERE = 4010
LOCAL_UFRAG = "(window.alienmeet.peerConnection.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]"
REMOTE_UFRAG = "(window.alienmeet.peerConnection.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]"


def behind(proxy: CuttingProxy, server) -> SimpleNamespace:
    """The site as seen through the proxy, for the visitor fixture."""
    return SimpleNamespace(http_url=proxy.http_url, environ=server.environ)


def sent_on(page, socket: int) -> list[dict]:
    """What the page sent on one of its signaling sockets (0 the first, -1 the latest), decoded."""
    return [json.loads(frame) for frame in page.sockets[socket]]


def frames_from_server(page, kind: str) -> list[dict]:
    frames = (json.loads(raw) for raw in page.frames_from_server)
    return [frame for frame in frames if frame.get("type") == kind]


def call(first, second) -> None:
    start_call(first, second, video_frames=5)
    for page in (first, second):
        wait_js(page, "document.getElementById('message').disabled === false")


@pytest.mark.parametrize("keep_server_side", [False, True], ids=["server-sees-the-loss", "old-socket-looks-alive"])
def test_call_is_resumed_on_a_new_socket(visitor, site_server, keep_server_side):
    with CuttingProxy(site_server.port) as proxy:
        alice = visitor()
        bob = visitor(server=behind(proxy, site_server))
        call(alice, bob)
        match_id = bob.evaluate("window.alienmeet.matchId")
        ufrag_before = bob.evaluate(LOCAL_UFRAG)
        assert len(bob.sockets) == 1

        proxy.cut(keep_server_side=keep_server_side)
        wait_for(bob, lambda: frames_from_server(bob, "resumed"), "resumed")
        # The new socket said `resume` before anything else, and never queued.
        new_socket = sent_on(bob, -1)
        assert len(bob.sockets) == 2, "one new socket"
        assert new_socket[0] == {"type": "resume", "match_id": match_id, "token": new_socket[0]["token"]}
        assert not [frame for frame in new_socket if frame["type"] in {"join", "next", "leave"}]
        resumed = frames_from_server(bob, "resumed")[0]
        assert resumed["match_id"] == match_id and resumed["resume"]
        wait_for(alice, lambda: frames_from_server(alice, "partner_resumed"), "partner_resumed")
        assert frames_from_server(alice, "partner_resumed")[0]["match_id"] == match_id

        assert bob.evaluate("window.alienmeet.matchId") == match_id
        assert bob.evaluate("window.alienmeet.detached") is False
        wait_js(bob, "!window.alienmeet.resuming")
        assert bob.evaluate("window.alienmeet.phase") == "connected"
        assert not frames_from_server(alice, "partner_left")
        if keep_server_side:
            # The server believed the old socket alive until the new one took the match over.
            wait_for(bob, lambda: CLOSE_RESUMED_ELSEWHERE in proxy.close_codes_after_cut(), "close code 4010")

        # The ICE restart after `resumed` went through the server: the stranger has the new credentials.
        wait_js(bob, f"{LOCAL_UFRAG} !== {ufrag_before!r}")
        wait_js(alice, f"{REMOTE_UFRAG} === {bob.evaluate(LOCAL_UFRAG)!r}")
        for page in (alice, bob):
            wait_for_remote_video(page, frames=remote_frames(page) + 10)
            assert page.evaluate("window.alienmeet.peerConnection.connectionState") == "connected"

        # The server links the two again: Next reaches bob as `partner_left`, not over the data channel.
        alice.locator("#next").click()
        wait_for(bob, lambda: frames_from_server(bob, "partner_left"), "partner_left")
        left = frames_from_server(bob, "partner_left")[0]
        assert left == {"type": "partner_left", "match_id": match_id, "reason": "next"}
        bob.locator("#chat-log .notice", has_text="Stranger left.").wait_for()


def test_stranger_who_left_while_the_socket_was_down_is_gone(visitor, site_server):
    with CuttingProxy(site_server.port) as proxy:
        alice = visitor()
        bob = visitor(server=behind(proxy, site_server))
        call(alice, bob)
        proxy.refuse(True)
        proxy.cut()
        wait_js(bob, "window.alienmeet.resuming")
        # The stranger closes the tab while bob has no network.
        alice.close()
        proxy.refuse(False)
        bob.locator("#chat-log .notice", has_text="Stranger left.").wait_for(timeout=20000)
        # As when a stranger leaves: with Auto-next on, bob looks for someone new, on the new socket.
        wait_for(bob, lambda: any(frame["type"] == "join" for frame in sent_on(bob, -1)), "a new join", timeout=30)
        assert bob.evaluate("window.alienmeet.phase") == "searching"
        assert bob.evaluate("window.alienmeet.matchId") is None


# A server that holds a broken socket's match for one second only.
short_grace_server = server_with("short-grace", MEET_RESUME_GRACE="1")


def test_call_goes_on_unlinked_when_the_server_gave_up_waiting(visitor, short_grace_server):
    server = short_grace_server
    with CuttingProxy(server.port) as proxy:
        alice = visitor(server=server)
        bob = visitor(server=behind(proxy, server))
        call(alice, bob)
        match_id = bob.evaluate("window.alienmeet.matchId")
        proxy.refuse(True)
        proxy.cut()
        # Bob stays away longer than the grace: alice is told he lost touch, and the call goes on.
        alice.locator("#chat-log .notice", has_text="lost touch with our server").wait_for(timeout=20000)
        left = frames_from_server(alice, "partner_left")
        assert left == [{"type": "partner_left", "match_id": match_id, "reason": "disconnect"}]
        proxy.refuse(False)

        # Bob is back too late: his resume fails, and his call goes on unlinked as alice's does.
        def refused() -> bool:
            return any(frame.get("code") == "resume_failed" for frame in frames_from_server(bob, "error"))

        wait_for(bob, refused, "resume_failed", timeout=30)
        assert sent_on(bob, -1)[0]["type"] == "resume"
        wait_js(bob, "window.alienmeet.detached && !window.alienmeet.resuming")
        assert bob.evaluate("window.alienmeet.matchId") == match_id
        assert bob.evaluate("window.alienmeet.phase") == "connected"
        for page in (alice, bob):
            wait_for_remote_video(page, frames=remote_frames(page) + 10)

        # Neither is linked on the server any more: Next travels over the data channel.
        alice.locator("#next").click()
        bob.locator("#chat-log .notice", has_text="Stranger left.").wait_for()
        wait_for(bob, lambda: any(frame["type"] == "join" for frame in sent_on(bob, -1)), "a new join")


def test_visitor_who_stopped_while_cut_off_is_gone_once_the_grace_runs_out(visitor, short_grace_server):
    server = short_grace_server
    with CuttingProxy(server.port) as proxy:
        alice = visitor(server=server)
        bob = visitor(server=behind(proxy, server))
        call(alice, bob)
        proxy.refuse(True)
        proxy.cut()
        wait_js(bob, "window.alienmeet.resuming")
        # Bob gives up on the call while he has no network: his page closes it, but only the server,
        # once its grace runs out, can tell alice that the match is over.
        bob.get_by_role("button", name="Stop").click()
        alice.locator("#chat-log .notice", has_text="Stranger left.").wait_for(timeout=20000)
        assert [frame["reason"] for frame in frames_from_server(alice, "partner_left")] == ["disconnect"]
        assert alice.locator("#chat-log .notice", has_text="lost touch").count() == 0
        wait_js(alice, "window.alienmeet.phase === 'searching' && !window.alienmeet.detached")


def test_a_call_left_while_cut_off_ends_as_soon_as_the_socket_is_back(visitor, site_server):
    with CuttingProxy(site_server.port) as proxy:
        alice = visitor()
        bob = visitor(server=behind(proxy, site_server))
        call(alice, bob)
        match_id = bob.evaluate("window.alienmeet.matchId")
        proxy.refuse(True)
        proxy.cut()
        wait_js(bob, "window.alienmeet.resuming")
        # Bob moves on while he has no network; the server holds the call for its grace (10 s).
        bob.locator("#next").click()
        proxy.refuse(False)
        # His next socket takes the call over only to end it: alice hears at once, not after the grace.
        wait_for(alice, lambda: frames_from_server(alice, "partner_left"), "partner_left", timeout=8)
        assert frames_from_server(alice, "partner_left") == [
            {"type": "partner_left", "match_id": match_id, "reason": "leave"}
        ]
        wait_for(bob, lambda: len(bob.sockets[-1]) >= 3, "resume, leave and join")
        assert [frame["type"] for frame in sent_on(bob, -1)[:3]] == ["resume", "leave", "join"]
        assert sent_on(bob, -1)[0]["match_id"] == match_id
        # He looks for someone new; a `leave` sets no cooldown, so that may be alice again, at once.
        wait_js(bob, "['searching', 'connecting', 'connected'].includes(window.alienmeet.phase)")
