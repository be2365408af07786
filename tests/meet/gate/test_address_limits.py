"""Per-address limits: simultaneous sockets and new sockets a minute, on both backends and across processes."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from conftest import REDIS_URL
from meet import protocol
from meet.gate import address_limits
from meet.gate.address_limits import RedisAddressLimits
from tests.protocol_client import Peer
from tests.servers import migrate, server_env, servers

pytestmark = pytest.mark.django_db(transaction=True)

HOME, NEIGHBOUR = "198.51.100.7", "203.0.113.8"


@pytest.fixture
def limits(settings):
    def set_limits(connections: int, per_minute: int) -> None:
        settings.MEET = {
            **settings.MEET,
            "ADDRESS_MAX_CONNECTIONS": connections,
            "ADDRESS_CONNECTS_PER_MINUTE": per_minute,
        }

    return set_limits


async def connect_from(client: str) -> Peer:
    """A socket from ``client`` whose first frame may be hello or the refusal."""
    return await Peer.connect(client=client, greeted=False)


async def refused(client: str) -> dict:
    """Connect from ``client`` expecting the limit: returns the error, after checking the close code."""
    peer = await connect_from(client)
    error = peer.hello
    assert error["type"] == "error" and error["code"] == protocol.TOO_MANY_CONNECTIONS, error
    closed = await peer.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_TOO_MANY_CONNECTIONS}
    return error


async def connect_expecting_hello(client: str) -> Peer:
    peer = await connect_from(client)
    assert peer.hello["type"] == "hello", peer.hello
    return peer


async def test_simultaneous_connections_per_address(backend, limits):
    limits(3, 1000)
    home = [await connect_expecting_hello(HOME) for _ in range(3)]
    error = await refused(HOME)
    assert error["reason"] == "connections"
    # Another household is not affected.
    neighbour = await connect_expecting_hello(NEIGHBOUR)
    # A closed socket gives its place back.
    await home.pop().close()
    home.append(await connect_expecting_hello(HOME))
    for peer in [*home, neighbour]:
        await peer.close()


async def test_one_ipv6_household_is_one_address(backend, limits):
    limits(2, 1000)
    first = await connect_expecting_hello("2001:db8:7:7::1")
    second = await connect_expecting_hello("2001:db8:7:7:abcd::2")
    await refused("2001:db8:7:7:1234:5678:9abc:def0")
    await first.close()
    await second.close()


async def test_connection_rate_per_address(backend, limits):
    limits(0, 5)
    for _ in range(5):
        peer = await connect_expecting_hello(HOME)
        await peer.close()
    error = await refused(HOME)
    assert error["reason"] == "rate" and 1 <= error["retry_after"] <= 61
    await (await connect_expecting_hello(NEIGHBOUR)).close()


async def test_places_of_a_dead_process_lapse(redis_prefix, monkeypatch, settings):
    settings.MEET = {**settings.MEET, "ADDRESS_MAX_CONNECTIONS": 1, "ADDRESS_CONNECTS_PER_MINUTE": 0}
    monkeypatch.setattr(address_limits, "LEASE_SECONDS", 0.5)
    dead = RedisAddressLimits(REDIS_URL, redis_prefix)
    alive = RedisAddressLimits(REDIS_URL, redis_prefix)
    try:
        assert await dead.admit("h" * 64, "dead-place") is None  # never released: its process died
        assert (await alive.admit("h" * 64, "new-place")).reason == "connections"
        await asyncio.sleep(0.6)
        assert await alive.admit("h" * 64, "new-place") is None
    finally:
        await dead.close()
        await alive.close()


async def test_renewed_places_do_not_lapse(redis_prefix, monkeypatch, settings):
    settings.MEET = {**settings.MEET, "ADDRESS_MAX_CONNECTIONS": 1, "ADDRESS_CONNECTS_PER_MINUTE": 0}
    # Renewed every 0.5 s for 3 s against a 2 s lease: the place would lapse without the renewals, and a
    # loaded machine may delay a renewal by 1.5 s before it does.
    monkeypatch.setattr(address_limits, "LEASE_SECONDS", 2.0)
    monkeypatch.setattr(address_limits, "RENEW_EVERY_SECONDS", 0)
    holder = RedisAddressLimits(REDIS_URL, redis_prefix)
    other = RedisAddressLimits(REDIS_URL, redis_prefix)
    try:
        assert await holder.admit("h" * 64, "held") is None
        for _ in range(6):
            await asyncio.sleep(0.5)
            await holder.renew()
        assert (await other.admit("h" * 64, "second")).reason == "connections"
    finally:
        await holder.close()
        await other.close()


@pytest.mark.slow
@pytest.mark.redis
async def test_limit_holds_across_processes(redis_prefix, tmp_path):
    environ = server_env(
        tmp_path,
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=redis_prefix,
        TRUSTED_PROXIES="127.0.0.1",
        MEET_ADDRESS_MAX_CONNECTIONS="3",
        MEET_ADDRESS_CONNECTS_PER_MINUTE="100",
    )
    migrate(environ)
    with servers(2, environ, tmp_path) as (one, two):
        held = [
            await Peer.connect_to(one.ws_url, forwarded_for=HOME),
            await Peer.connect_to(one.ws_url, forwarded_for=HOME),
            await Peer.connect_to(two.ws_url, forwarded_for=HOME),
        ]
        for server in (one, two):
            refused = await Peer.connect_to(server.ws_url, forwarded_for=HOME, greeted=False)
            error = refused.hello
            assert error["code"] == "too_many_connections" and error["reason"] == "connections", error
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(refused.connection.recv(), 10)
            assert closed.value.rcvd.code == 4029
        other = await Peer.connect_to(two.ws_url, forwarded_for=NEIGHBOUR)

        # A place freed on one process is free on the other.
        await held.pop(0).close()

        async def admitted() -> bool:
            peer = await Peer.connect_to(two.ws_url, forwarded_for=HOME, greeted=False)
            if peer.hello["type"] == "hello":
                held.append(peer)
                return True
            await peer.close()
            return False

        deadline = asyncio.get_running_loop().time() + 5
        while not await admitted():
            assert asyncio.get_running_loop().time() < deadline, "the freed place never came back"
            await asyncio.sleep(0.1)
        for peer in [*held, other]:
            await peer.close()
        for server in (one, two):
            assert "Traceback" not in server.log_text()
            assert HOME not in server.log_text()
