"""Redis commands gathered per turn of the event loop: one write for the turn, each caller answered with
its own reply or error, a failure of the connection reaching every caller of the batch."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis

from conftest import REDIS_URL
from tests.transport.recording_redis import RecordingClient
from transport.batched import BatchedCommands


async def test_the_commands_of_one_turn_share_one_write_and_each_caller_gets_its_reply():
    client = RecordingClient()
    batched = BatchedCommands(client)
    replies = await asyncio.gather(*(batched.execute("EVALSHA", f"s{n}", 0) for n in range(4)))
    assert replies == [("reply", f"s{n}", 0) for n in range(4)]
    assert client.writes == [[("EVALSHA", f"s{n}", 0) for n in range(4)]]
    assert await batched.execute("EVALSHA", "alone", 0) == ("reply", "alone", 0)
    assert client.writes[-1] == [("EVALSHA", "alone", 0)]


async def test_a_refused_command_reaches_its_own_caller_only():
    client = RecordingClient()
    batched = BatchedCommands(client)
    results = await asyncio.gather(
        batched.execute("EVALSHA", "a", 0),
        batched.execute("FAIL"),
        batched.execute("EVALSHA", "b", 0),
        return_exceptions=True,
    )
    assert results[0] == ("reply", "a", 0) and results[2] == ("reply", "b", 0)
    assert isinstance(results[1], redis.ResponseError)
    with pytest.raises(redis.ResponseError):
        await batched.execute("FAIL")


async def test_a_lost_connection_reaches_every_caller_and_the_next_turn_goes_through():
    client = RecordingClient()
    client.fail = redis.ConnectionError("gone")
    batched = BatchedCommands(client)
    for count in (1, 3):
        results = await asyncio.gather(
            *(batched.execute("EVALSHA", "s", 0) for _ in range(count)), return_exceptions=True
        )
        assert all(isinstance(r, redis.ConnectionError) for r in results), results
    client.fail = None
    assert await batched.execute("EVALSHA", "s", 0) == ("reply", "s", 0)


async def test_a_cancelled_caller_leaves_the_others_answered():
    client = RecordingClient()
    batched = BatchedCommands(client)
    doomed = asyncio.ensure_future(batched.execute("EVALSHA", "doomed", 0))
    others = [asyncio.ensure_future(batched.execute("EVALSHA", f"s{n}", 0)) for n in range(3)]
    await asyncio.sleep(0)
    doomed.cancel()
    assert await asyncio.wait_for(asyncio.gather(*others), 2) == [("reply", f"s{n}", 0) for n in range(3)]
    assert doomed.cancelled()


@pytest.mark.redis
async def test_on_redis_replies_and_errors_come_back_to_their_callers(redis_prefix):
    client = aioredis.Redis.from_url(REDIS_URL)
    batched = BatchedCommands(client)
    try:
        key = f"{redis_prefix}counter"
        results = await asyncio.gather(
            *(batched.execute("INCR", key) for _ in range(5)),
            batched.execute("EVALSHA", "0" * 40, 0),
            return_exceptions=True,
        )
        assert sorted(results[:5]) == [1, 2, 3, 4, 5]
        assert isinstance(results[5], redis.exceptions.NoScriptError)
    finally:
        await client.aclose()
