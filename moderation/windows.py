"""Short-lived counters for the report throttle and the automatic ban: distinct members seen within a window.

Shared by every process through Redis (the matchmaker's Redis and key prefix); in this process's
memory when the site runs without Redis. Nothing here outlives its window: every Redis key expires.
"""

from __future__ import annotations

import math
import time

import redis.asyncio as aioredis

from transport.per_loop import PerLoop
from transport.redis_connection import REDIS_ERRORS
from transport.shared_state import shared_or_memory


class WindowsUnavailable(Exception):
    """Redis could not be reached; callers decide whether to go on without the count."""


class MemoryWindows:
    def __init__(self) -> None:
        self._seen: dict[str, dict[str, float]] = {}
        self._expires: dict[str, float] = {}

    def clear(self) -> None:
        self._seen.clear()
        self._expires.clear()

    async def add(self, key: str, member: str, window: float) -> int:
        now = time.monotonic()
        # As Redis would expire them: forget every key untouched for its whole window.
        for name in [name for name, at in self._expires.items() if at <= now]:
            del self._seen[name], self._expires[name]
        seen = self._seen.setdefault(key, {})
        for old in [name for name, at in seen.items() if at <= now - window]:
            del seen[old]
        seen[member] = now
        self._expires[key] = now + window
        return len(seen)


class RedisWindows:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = f"{prefix}mod:"

    async def add(self, key: str, member: str, window: float) -> int:
        now = time.time()
        name = self.prefix + key
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(name, "-inf", now - window)
                pipe.zadd(name, {member: now})
                pipe.zcard(name)
                pipe.expire(name, math.ceil(window))
                results = await pipe.execute()
        except REDIS_ERRORS as error:
            raise WindowsUnavailable(str(error)) from error
        return int(results[2])


MEMORY = MemoryWindows()
_windows: PerLoop[RedisWindows] = PerLoop()


def get_windows() -> MemoryWindows | RedisWindows:
    return shared_or_memory(MEMORY, _windows, RedisWindows)
