"""Where a report still finds a stranger whose connection has closed: their address hash, briefly.

A report is filed under the reported side's address hash, which only that side's connection
knows. Someone who exposes themselves and closes the tab at once, or whose socket broke mid-call,
would otherwise be out of reach. So a connection that closes leaves its hash behind under the
names of its last matches (the match id and its own channel: exactly what the partner's
connection knows of it), for as long as a report of those matches is still accepted.

A report of a stranger whose connection is still open is handed over here too, so that none is
lost while that connection closes: the reporter deposits the filing under the same name in the
same atomic step that checks for a hash left behind, and a closing connection takes every deposit
for its matches in the step that leaves its hash. So either the reporter finds the hash (and files
the report itself) or the reported side finds the deposit (live, when told, or while closing). The
side that takes a deposit answers under the report's id once it is filed; a reporter that hears no
answer takes its deposit back (``withdraw``) and, if that succeeds, knows nobody filed it.

Shared by every process through Redis (the matchmaker's Redis and key prefix); in this process's
memory when the site runs without Redis. Every key expires by itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import math
import time
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis

from transport.per_loop import PerLoop
from transport.redis_connection import REDIS_ERRORS
from transport.shared_state import shared_or_memory

logger = logging.getLogger("alienmeet.moderation")

# What ``wait`` hears: the report was filed, could not be filed, a report of the waiter's own side
# was deposited meanwhile (file it: two reports of one call may cross), or nothing in time.
FILED, FAILED, WOKEN, NOTHING = "filed", "failed", "woken", "nothing"
# An answer or a wake-up outlives any wait for it.
SIGNAL_SECONDS = 30.0
# Redis answers a blocking wait within its socket timeout (2 s), so one wait is at most this long.
LONGEST_WAIT = 1.5


class ForwardingUnavailable(Exception):
    """The shared store (Redis) cannot be reached: a report cannot be handed over just now."""


def _name(match_id: str, channel: str) -> str:
    # Hashed so a key names neither the match nor the channel outright.
    return hashlib.sha256(f"{match_id}|{channel}".encode()).hexdigest()


def _inbox(channel: str) -> str:
    return hashlib.sha256(f"inbox|{channel}".encode()).hexdigest()


def encode_filing(filing: dict[str, Any]) -> str:
    snapshot = filing.get("snapshot")
    return json.dumps({**filing, "snapshot": base64.b64encode(snapshot).decode() if snapshot else None})


def decode_filing(text: str | bytes) -> dict[str, Any]:
    filing: dict[str, Any] = json.loads(text)
    if filing.get("snapshot"):
        filing["snapshot"] = base64.b64decode(filing["snapshot"])
    return filing


class MemoryForwarding:
    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, float]] = {}
        self._deposits: dict[str, dict[str, tuple[str, float]]] = {}  # name -> report id -> (filing, until)
        self._signals: dict[str, list[tuple[str, float]]] = {}  # answers and wake-ups, as Redis lists
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def clear(self) -> None:
        self._kept.clear()
        self._deposits.clear()
        self._signals.clear()

    def _expire(self, now: float) -> None:
        for name in [name for name, (_, until) in self._kept.items() if until <= now]:
            del self._kept[name]
        for name, deposits in list(self._deposits.items()):
            for report_id in [rid for rid, (_, until) in deposits.items() if until <= now]:
                del deposits[report_id]
            if not deposits:
                del self._deposits[name]
        for key, values in list(self._signals.items()):
            values[:] = [(value, until) for value, until in values if until > now]
            if not values:
                del self._signals[key]

    def _take(self, names: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
        now = time.monotonic()
        taken = []
        for name in names:
            for report_id, (filing, until) in self._deposits.pop(name, {}).items():
                if until > now:
                    taken.append((report_id, decode_filing(filing)))
        return taken

    def _signal(self, key: str, value: str) -> None:
        self._signals.setdefault(key, []).append((value, time.monotonic() + SIGNAL_SECONDS))
        for event in self._waiters.get(key, ()):
            event.set()

    async def leave(
        self, ip_hash: str, channel: str, match_ids: Iterable[str], seconds: float
    ) -> list[tuple[str, dict[str, Any]]]:
        now = time.monotonic()
        self._expire(now)
        names = [_name(match_id, channel) for match_id in match_ids]
        for name in names:
            self._kept[name] = (ip_hash, now + seconds)
        return self._take(names)

    async def find(self, match_id: str, channel: str) -> str:
        ip_hash, until = self._kept.get(_name(match_id, channel), ("", 0.0))
        return ip_hash if until > time.monotonic() else ""

    async def deposit(self, match_id: str, channel: str, report_id: str, filing: dict[str, Any], seconds: float) -> str:
        now = time.monotonic()
        self._expire(now)
        name = _name(match_id, channel)
        ip_hash, until = self._kept.get(name, ("", 0.0))
        if until > now:
            return ip_hash
        self._deposits.setdefault(name, {})[report_id] = (encode_filing(filing), now + seconds)
        self._signal(_inbox(channel), "1")
        return ""

    async def take(self, channel: str, match_ids: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
        return self._take(_name(match_id, channel) for match_id in match_ids)

    async def withdraw(self, match_id: str, channel: str, report_id: str) -> bool:
        deposits = self._deposits.get(_name(match_id, channel), {})
        return deposits.pop(report_id, None) is not None

    async def answer(self, report_id: str, filed: bool) -> None:
        self._signal(report_id, FILED if filed else FAILED)

    async def wait(self, report_id: str, channel: str, seconds: float) -> str:
        keys = [report_id, _inbox(channel)] if channel else [report_id]
        event = asyncio.Event()
        for key in keys:
            self._waiters.setdefault(key, set()).add(event)
        try:
            deadline = time.monotonic() + seconds
            while True:
                for key in keys:
                    values = self._signals.get(key)
                    if values:
                        value, _until = values.pop(0)
                        return WOKEN if key != report_id else value
                left = deadline - time.monotonic()
                if left <= 0:
                    return NOTHING
                event.clear()
                try:
                    await asyncio.wait_for(event.wait(), left)
                except TimeoutError:
                    return NOTHING
        finally:
            for key in keys:
                waiting = self._waiters.get(key, set())
                waiting.discard(event)
                if not waiting:
                    self._waiters.pop(key, None)


# Leave the hash behind and take the deposits waiting for it, in one step.
# KEYS: the names left behind, then their deposits' keys in the same order.
LEAVE_SCRIPT = """
local out = {}
local n = #KEYS / 2
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
  local deposits = redis.call('HGETALL', KEYS[n + i])
  for j = 1, #deposits do out[#out + 1] = deposits[j] end
  redis.call('DEL', KEYS[n + i])
end
return out
"""
# The hash left behind if there is one, else the deposit made and the stranger's waiting side woken.
DEPOSIT_SCRIPT = """
local left = redis.call('GET', KEYS[1])
if left then return left end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('RPUSH', KEYS[3], '1')
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return ''
"""
TAKE_SCRIPT = """
local out = {}
for _, key in ipairs(KEYS) do
  local deposits = redis.call('HGETALL', key)
  for j = 1, #deposits do out[#out + 1] = deposits[j] end
  redis.call('DEL', key)
end
return out
"""


def _pairs(flat: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(flat[i].decode(), decode_filing(flat[i + 1])) for i in range(0, len(flat), 2)]


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisForwarding:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = f"{prefix}fwd:"
        self.leave_script = self.client.register_script(LEAVE_SCRIPT)
        self.deposit_script = self.client.register_script(DEPOSIT_SCRIPT)
        self.take_script = self.client.register_script(TAKE_SCRIPT)

    def _deposits(self, name: str) -> str:
        return f"{self.prefix}dep:{name}"

    def _signals(self, key: str) -> str:
        return f"{self.prefix}sig:{key}"

    async def leave(
        self, ip_hash: str, channel: str, match_ids: Iterable[str], seconds: float
    ) -> list[tuple[str, dict[str, Any]]]:
        names = [_name(match_id, channel) for match_id in match_ids]
        try:
            flat = await self.leave_script(
                keys=[*(self.prefix + name for name in names), *(self._deposits(name) for name in names)],
                args=[ip_hash, _ms(seconds)],
            )
        except REDIS_ERRORS:
            logger.warning("event=report_forwarding_unavailable")
            return []
        return _pairs(flat)

    async def find(self, match_id: str, channel: str) -> str:
        try:
            found = await self.client.get(self.prefix + _name(match_id, channel))
        except REDIS_ERRORS:
            logger.warning("event=report_forwarding_unavailable")
            return ""
        return found.decode() if found else ""

    async def deposit(self, match_id: str, channel: str, report_id: str, filing: dict[str, Any], seconds: float) -> str:
        name = _name(match_id, channel)
        keys = [self.prefix + name, self._deposits(name), self._signals(_inbox(channel))]
        try:
            left = await self.deposit_script(
                keys=keys, args=[report_id, encode_filing(filing), _ms(seconds), _ms(SIGNAL_SECONDS)]
            )
        except REDIS_ERRORS as error:
            raise ForwardingUnavailable(str(error)) from error
        return left.decode() if isinstance(left, bytes) else str(left or "")

    async def take(self, channel: str, match_ids: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
        keys = [self._deposits(_name(match_id, channel)) for match_id in match_ids]
        if not keys:
            return []
        try:
            return _pairs(await self.take_script(keys=keys, args=[]))
        except REDIS_ERRORS:
            logger.warning("event=report_forwarding_unavailable")
            return []

    async def withdraw(self, match_id: str, channel: str, report_id: str) -> bool:
        try:
            return bool(await self.client.hdel(self._deposits(_name(match_id, channel)), report_id))
        except REDIS_ERRORS as error:
            raise ForwardingUnavailable(str(error)) from error

    async def answer(self, report_id: str, filed: bool) -> None:
        key = self._signals(report_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.rpush(key, FILED if filed else FAILED)
                pipe.pexpire(key, _ms(SIGNAL_SECONDS))
                await pipe.execute()
        except REDIS_ERRORS:
            logger.warning("event=report_forwarding_unavailable")

    async def wait(self, report_id: str, channel: str, seconds: float) -> str:
        answer_key = self._signals(report_id)
        keys = [answer_key, self._signals(_inbox(channel))] if channel else [answer_key]
        try:
            popped = await self.client.blpop(keys, timeout=min(max(seconds, 0.01), LONGEST_WAIT))
        except REDIS_ERRORS as error:
            raise ForwardingUnavailable(str(error)) from error
        if popped is None:
            return NOTHING
        key, value = (part.decode() for part in popped)
        return value if key == answer_key else WOKEN


MEMORY = MemoryForwarding()
_forwarding: PerLoop[RedisForwarding] = PerLoop()


def get_forwarding() -> MemoryForwarding | RedisForwarding:
    return shared_or_memory(MEMORY, _forwarding, RedisForwarding)
