"""The signaling server goes away mid-call: the call carries on peer to peer and the page reconnects."""

from __future__ import annotations

import pytest

from tests.browser.conftest import remote_frames, start_call, wait_for_remote_video, wait_js
from tests.servers import Server, migrate, server_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_call_survives_a_signaling_restart(visitor, tmp_path):
    environ = server_env(tmp_path)
    migrate(environ)
    server = Server(environ, tmp_path / "first.log")
    try:
        alice = visitor(server=server)
        bob = visitor(server=server)
        start_call(alice, bob)
        for page in (alice, bob):
            wait_js(page, "document.getElementById('message').disabled === false")

        server.stop()
        for page in (alice, bob):
            wait_js(page, "!window.alienmeet.signalingOpen")
            assert "Reconnecting" in page.get_by_role("status").inner_text()
        # Media keeps flowing with no server at all.
        for page in (alice, bob):
            wait_for_remote_video(page, frames=remote_frames(page) + 10)

        server = Server(environ, tmp_path / "second.log", port=server.port)
        for page in (alice, bob):
            wait_js(page, "window.alienmeet.signalingOpen", timeout=30000)
            assert page.evaluate("window.alienmeet.phase") == "connected"
            wait_for_remote_video(page, frames=remote_frames(page) + 10)

        # The two are no longer linked on the server, so Next travels over the data channel,
        # and bob looks for someone new by himself (on a fresh server that may be alice again).
        old_match = bob.evaluate("window.alienmeet.matchId")
        alice.locator("#next").click()
        bob.locator("#chat-log .notice", has_text="Stranger left.").wait_for()
        wait_js(bob, f"window.alienmeet.phase !== 'idle' && window.alienmeet.matchId !== {old_match!r}")
    finally:
        server.stop()
