"""Redis commands gathered per turn of the event loop: one write for the turn, each caller answered with
its own reply or error, a failure of the connection reaching every caller of the batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from conftest import REDIS_URL
from transport.batched import BatchedCommands


class RecordingClient:
    """Stands in for redis.asyncio.Redis: one entry in ``writes`` per write to Redis."""

    def __init__(self) -> None:
        self.writes: list[list[tuple[Any, ...]]] = []
        self.fail: Exception | None = None

    def reply(self, args: tuple[Any, ...]) -> Any:
        if args[0] == "FAIL":
            return redis.ResponseError("refused")
        return ("reply", *args[1:])

    async def execute_command(self, *args: Any) -> Any:
        await asyncio.sleep(0)
        if self.fail:
            raise self.fail
        self.writes.append([args])
        result = self.reply(args)
        if isinstance(result, Exception):
            raise result
        return result

    def pipeline(self, transaction: bool = True) -> RecordingPipeline:
        assert transaction is False
        return RecordingPipeline(self)


class RecordingPipeline:
    def __init__(self, client: RecordingClient) -> None:
        self.client = client
        self.commands: list[tuple[Any, ...]] = []

    async def __aenter__(self) -> RecordingPipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def execute_command(self, *args: Any) -> None:
        self.commands.append(args)

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        assert raise_on_error is False
        await asyncio.sleep(0)
        if self.client.fail:
            raise self.client.fail
        self.client.writes.append(self.commands)
        return [self.client.reply(args) for args in self.commands]


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
