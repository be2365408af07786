"""A stand-in for redis.asyncio.Redis that records each write to Redis, for the batching tests."""

from __future__ import annotations

import asyncio
from typing import Any

import redis


class RecordingClient:
    """Stands in for redis.asyncio.Redis: one entry in ``writes`` per write to Redis."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.writes: list[list[tuple[Any, ...]]] = []
        self.fail = fail
        self.replies_missing = 0  # replies a pipeline "loses", as no Redis does

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
        replies = [self.client.reply(args) for args in self.commands]
        return replies[: len(replies) - self.client.replies_missing]
