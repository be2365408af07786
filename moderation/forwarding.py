"""Where a report still finds a stranger whose connection has closed: their address hash, briefly.

A report is filed under the reported side's address hash, which only that side's connection
knows. Someone who exposes themselves and closes the tab at once, or whose socket broke mid-call,
would otherwise be out of reach. So a connection that closes leaves its hash behind under the
names of its last matches (the match id and its own channel: exactly what the partner's
connection knows of it), for as long as a report of those matches is still accepted.

Shared by every process through Redis (the matchmaker's Redis and key prefix); in this process's
memory when the site runs without Redis. Every key expires by itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Iterable

import redis.asyncio as aioredis

from meet.per_loop import PerLoop, on_matchmaking_redis
from meet.redis_connection import REDIS_ERRORS

logger = logging.getLogger("alienmeet.moderation")


def _name(match_id: str, channel: str) -> str:
    # Hashed so a key names neither the match nor the channel outright.
    return hashlib.sha256(f"{match_id}|{channel}".encode()).hexdigest()


class MemoryForwarding:
    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, float]] = {}

    def clear(self) -> None:
        self._kept.clear()

    async def leave(self, ip_hash: str, channel: str, match_ids: Iterable[str], seconds: float) -> None:
        now = time.monotonic()
        for name in [name for name, (_, until) in self._kept.items() if until <= now]:
            del self._kept[name]
        for match_id in match_ids:
            self._kept[_name(match_id, channel)] = (ip_hash, now + seconds)

    async def find(self, match_id: str, channel: str) -> str:
        ip_hash, until = self._kept.get(_name(match_id, channel), ("", 0.0))
        return ip_hash if until > time.monotonic() else ""


class RedisForwarding:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = f"{prefix}fwd:"

    async def leave(self, ip_hash: str, channel: str, match_ids: Iterable[str], seconds: float) -> None:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for match_id in match_ids:
                    pipe.set(self.prefix + _name(match_id, channel), ip_hash, px=max(1, math.ceil(seconds * 1000)))
                await pipe.execute()
        except REDIS_ERRORS:
            logger.warning("event=report_forwarding_unavailable")

    async def find(self, match_id: str, channel: str) -> str:
        try:
            found = await self.client.get(self.prefix + _name(match_id, channel))
        except REDIS_ERRORS:
            logger.warning("event=report_forwarding_unavailable")
            return ""
        return found.decode() if found else ""


MEMORY = MemoryForwarding()
_forwarding: PerLoop[RedisForwarding] = PerLoop()


def get_forwarding() -> MemoryForwarding | RedisForwarding:
    return on_matchmaking_redis(MEMORY, _forwarding, RedisForwarding)
