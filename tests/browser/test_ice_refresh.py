"""A long call's TURN credential is renewed before it expires, so an ICE restart can still allocate a relay."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import start_server, wait_js

pytestmark = [pytest.mark.browser]

MODULE = "await import('/static/js/ice_refresh.js')"


def turn(expiry: float) -> dict:
    return {"urls": ["turn:192.0.2.1:3478"], "username": f"{int(expiry)}:label", "credential": "x"}


def test_the_refresh_is_planned_from_the_credential_expiry(visitor, site_server):
    page = visitor()
    now = time.time()
    servers = [{"urls": ["stun:192.0.2.1:3478"]}, turn(now + 300), turn(now + 200)]
    expiry = page.evaluate(f"async () => ({MODULE}).credentialExpiry({json.dumps(servers)})")
    assert expiry == int(now + 200) * 1000  # the earliest; STUN has none
    assert page.evaluate(f"async () => ({MODULE}).credentialExpiry([{{urls: ['stun:x']}}])") is None
    delays = page.evaluate(
        f"""async () => {{
            const {{ IceRefresh }} = {MODULE};
            const refresh = new IceRefresh(() => {{}});
            const now = Date.now();
            const planned = [
                refresh.schedule({json.dumps([turn(now + 300)])}, now),
                refresh.schedule({json.dumps([turn(now - 600)])}, now),
                refresh.schedule([{{urls: ["stun:x"]}}], now),
            ];
            refresh.stop();
            return planned;
        }}"""
    )
    # 80 % into a 300 s credential; never sooner than 45 s (a clock far off the server's); nothing without TURN.
    assert 238_000 <= delays[0] <= 241_000
    assert delays[1] == 45_000
    assert delays[2] is None


@pytest.fixture(scope="module")
def turn_server_site(tmp_path_factory):
    # A TURN URL nothing answers on (a documentation address): the call connects directly on loopback.
    server = start_server(
        tmp_path_factory.mktemp("turn-site"),
        TURN_URLS="turn:192.0.2.1:3478?transport=udp",
        TURN_SECRET="test-secret",
        TURN_TTL="300",
    )
    yield server
    server.stop()


TURN_USERNAME = (
    "window.alienmeet.peerConnection.getConfiguration().iceServers.map((server) => server.username).filter(Boolean)[0]"
)


def test_a_long_call_gets_a_fresh_credential_before_its_own_expires(visitor, turn_server_site):
    alice = visitor(server=turn_server_site)
    bob = visitor(server=turn_server_site)
    bob.clock.install()
    alice.get_by_role("button", name="Talk to Aliens").click()
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    bob.get_by_role("button", name="Talk to Aliens").click()
    for page in (alice, bob):
        wait_js(page, "window.alienmeet.phase === 'connected'")
    first = bob.evaluate(TURN_USERNAME)
    assert first, "the call was set up with a TURN credential"
    sent_before = len(bob.frames_sent_to_server)
    # Four minutes into the call: 80 % of the 300 s credential's life.
    bob.clock.fast_forward("04:05")
    wait_js(bob, f"{TURN_USERNAME} !== {first!r}")
    refreshed = bob.evaluate(TURN_USERNAME)
    # Only the page's clock jumped: the server may mint the new one within the same real second.
    assert int(refreshed.split(":")[0]) >= int(first.split(":")[0])
    asked = [frame for frame in bob.frames_sent_to_server[sent_before:] if "refresh_ice_servers" in frame]
    assert len(asked) == 1
    # The current path is untouched: the call goes on.
    assert bob.evaluate("window.alienmeet.peerConnection.connectionState") == "connected"
