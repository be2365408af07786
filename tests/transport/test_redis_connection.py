"""The Redis connection the matchmaker and the channel layer use writes without a task per command;
it must still carry every command and reply, and still bound a write that Redis does not take."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from conftest import REDIS_URL
from tests.services import RedisServer, redis_server
from transport.redis_connection import QuickWriteConnection

pytestmark = pytest.mark.redis


def quick_client(url: str, socket_timeout: float = 2) -> aioredis.Redis:
    pool = aioredis.ConnectionPool.from_url(url, socket_timeout=socket_timeout, connection_class=QuickWriteConnection)
    assert pool.connection_class is QuickWriteConnection
    return aioredis.Redis(connection_pool=pool)


@pytest.fixture
def stoppable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


async def test_commands_pipelines_and_publishes_get_their_replies(redis_prefix):
    client = quick_client(REDIS_URL)
    try:
        key = f"{redis_prefix}quick"
        await client.set(key, "x" * 300_000)  # larger than one socket write
        assert await client.get(key) == b"x" * 300_000
        async with client.pipeline(transaction=False) as pipe:
            pipe.set(key, "1").incr(key).get(key)
            assert await pipe.execute() == [True, 2, b"2"]
        replies = await asyncio.gather(*(client.publish(f"{redis_prefix}nobody", str(n)) for n in range(50)))
        assert replies == [0] * 50
        await client.delete(key)
    finally:
        await client.aclose()


@pytest.mark.slow  # a redis-server process of its own, stopped and resumed
async def test_a_write_redis_does_not_take_is_bounded_and_the_client_recovers(stoppable_redis):
    client = quick_client(stoppable_redis.url, socket_timeout=0.5)
    try:
        assert await client.ping()
        stoppable_redis.freeze()
        started = time.monotonic()
        # Far more than the kernel buffers between the two sockets: the write must wait for room.
        with pytest.raises(redis.TimeoutError):
            await client.set("big", b"x" * (64 * 1024 * 1024))
        assert time.monotonic() - started < 5
        stoppable_redis.thaw()
        assert await client.ping()
        assert await client.set("small", "1")
    finally:
        await client.aclose()


async def test_a_read_waits_for_the_handshake_of_a_connect_under_way(monkeypatch, redis_prefix):
    # The pub/sub connection's receiving task reads while a subscribe connects again after an outage:
    # the read must not take the handshake's replies, nor make asyncio refuse the handshake's own read.
    pool = aioredis.ConnectionPool.from_url(REDIS_URL, connection_class=QuickWriteConnection)
    connection = pool.make_connection()
    assert isinstance(connection, QuickWriteConnection)
    in_handshake, go_on = asyncio.Event(), asyncio.Event()
    handshake = QuickWriteConnection.on_connect_check_health

    async def held_handshake(self: QuickWriteConnection, check_health: bool = True) -> None:
        in_handshake.set()
        await go_on.wait()
        await handshake(self, check_health=check_health)

    monkeypatch.setattr(QuickWriteConnection, "on_connect_check_health", held_handshake)
    connecting = asyncio.create_task(connection.connect())
    await in_handshake.wait()
    assert connection.is_connected  # the socket is up, its handshake is not
    reader = asyncio.create_task(connection.read_response())
    for _ in range(5):  # let the read run as far as it goes
        await asyncio.sleep(0)
    go_on.set()
    await asyncio.wait_for(connecting, 5)
    await connection.send_command("PING")
    assert await asyncio.wait_for(reader, 5) in {b"PONG", "PONG"}
    await connection.disconnect()
    await pool.disconnect()
