"""Per-address limits on the signaling socket: how many at once, and how many new ones a minute.

The per-connection rate limit means nothing to someone who opens a hundred sockets, so
each address (its keyed hash, ``moderation.addresses``; an IPv6 /64 counts as one) may hold
``ADDRESS_MAX_CONNECTIONS`` sockets at once and open ``ADDRESS_CONNECTS_PER_MINUTE`` a
minute, counted across every server process. One interface, two backends: Redis when
the matchmaking state is in Redis, this process's memory otherwise.

Only the hash is a key, never an address. A process that dies without closing its sockets
cannot hold a household's places for ever: each place is a lease its process renews
(``renew``, from the runtime's tick) and that lapses after ``LEASE_SECONDS``.
When Redis cannot be reached, connections are let in: matchmaking refuses them anyway,
and a limit must not turn an outage into a lock-out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from django.conf import settings

from transport.per_loop import PerLoop
from transport.redis_connection import REDIS_ERRORS
from transport.shared_state import MEMORY, shared_redis

logger = logging.getLogger("alienmeet.meet")

LEASE_SECONDS = 90
RENEW_EVERY_SECONDS = 30
RATE_WINDOW_SECONDS = 60

# Both steps at once, so two processes never both take the last place.
# KEYS: places (sorted set: token -> lease end, ms), attempts in this minute (counter).
# ARGV: token, most places, most attempts a minute (0: no limit), lease ms, window seconds.
# Answers ok, connections or rate.
ADMIT_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local most_places, most_attempts = tonumber(ARGV[2]), tonumber(ARGV[3])
if most_attempts > 0 then
  local attempts = redis.call('INCR', KEYS[2])
  if attempts == 1 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]) * 2) end
  if attempts > most_attempts then return 'rate' end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if most_places > 0 and redis.call('ZCARD', KEYS[1]) >= most_places then
  return 'connections'
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 'ok'
"""

# KEYS: places keys; ARGV: lease ms, then the tokens, one per key.
RENEW_SCRIPT = """
local now_parts = redis.call('TIME')
local until_ms = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if redis.call('ZSCORE', key, ARGV[i + 1]) then
    redis.call('ZADD', key, until_ms, ARGV[i + 1])
    redis.call('PEXPIRE', key, tonumber(ARGV[1]))
  end
end
return #KEYS
"""


@dataclass(frozen=True)
class Refusal:
    """Why a connection was refused: ``connections`` (too many open) or ``rate`` (too many new)."""

    reason: str
    retry_after: int


class AddressLimits(Protocol):
    async def admit(self, address: str, token: str) -> Refusal | None:
        """Take a place for this connection, or say why not. ``address`` is the keyed hash."""

    async def release(self, address: str, token: str) -> None:
        """Give the place back (the connection closed)."""

    async def renew(self) -> None:
        """Keep this process's places from lapsing; called now and then by the runtime."""

    async def close(self) -> None: ...


def _limits() -> tuple[int, int]:
    conf = settings.MEET
    return int(conf.get("ADDRESS_MAX_CONNECTIONS", 0)), int(conf.get("ADDRESS_CONNECTS_PER_MINUTE", 0))


def _next_minute_in() -> int:
    """Seconds until the rate window starts afresh."""
    now = time.time()
    return int((now // RATE_WINDOW_SECONDS + 1) * RATE_WINDOW_SECONDS - now) + 1


class MemoryAddressLimits:
    """For a single process (no Redis): the counts live here."""

    def __init__(self) -> None:
        self.places: dict[str, set[str]] = {}
        self.attempts: dict[str, tuple[int, int]] = {}  # address -> (minute, attempts in it)

    async def admit(self, address: str, token: str) -> Refusal | None:
        most_places, most_attempts = _limits()
        now = time.time()
        minute = int(now // RATE_WINDOW_SECONDS)
        if most_attempts > 0:
            if len(self.attempts) > 10_000:  # forget finished minutes before they add up
                self.attempts = {key: value for key, value in self.attempts.items() if value[0] == minute}
            seen_minute, attempts = self.attempts.get(address, (minute, 0))
            attempts = attempts + 1 if seen_minute == minute else 1
            self.attempts[address] = (minute, attempts)
            if attempts > most_attempts:
                return Refusal("rate", _next_minute_in())
        places = self.places.setdefault(address, set())
        if most_places > 0 and len(places) >= most_places:
            return Refusal("connections", 0)
        places.add(token)
        return None

    async def release(self, address: str, token: str) -> None:
        places = self.places.get(address)
        if places is not None:
            places.discard(token)
            if not places:
                del self.places[address]

    async def renew(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisAddressLimits:
    """Shared by every process through Redis; this process remembers only which places are its own."""

    def __init__(self, url: str, prefix: str) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=16, timeout=2, socket_timeout=2, socket_connect_timeout=2
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self.prefix = f"{prefix}addr:"
        self.admit_script = self.client.register_script(ADMIT_SCRIPT)
        self.renew_script = self.client.register_script(RENEW_SCRIPT)
        self.own: dict[str, str] = {}  # token -> address hash
        self.renewed_at = time.monotonic()
        self.down = False

    def _keys(self, address: str) -> list[str]:
        minute = int(time.time() // RATE_WINDOW_SECONDS)
        return [f"{self.prefix}{address}:places", f"{self.prefix}{address}:attempts:{minute}"]

    async def admit(self, address: str, token: str) -> Refusal | None:
        most_places, most_attempts = _limits()
        try:
            verdict = await self.admit_script(
                keys=self._keys(address),
                args=[token, most_places, most_attempts, LEASE_SECONDS * 1000, RATE_WINDOW_SECONDS],
            )
        except REDIS_ERRORS:
            self._note_down()
            return None
        self.down = False
        verdict = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        if verdict == "ok":
            self.own[token] = address
            return None
        return Refusal(verdict, _next_minute_in() if verdict == "rate" else 0)

    async def release(self, address: str, token: str) -> None:
        self.own.pop(token, None)
        try:
            await self.client.zrem(self._keys(address)[0], token)
        except REDIS_ERRORS:
            self._note_down()  # the place lapses with its lease

    async def renew(self) -> None:
        if time.monotonic() - self.renewed_at < RENEW_EVERY_SECONDS:
            return
        self.renewed_at = time.monotonic()
        owned = list(self.own.items())
        try:
            for start in range(0, len(owned), 500):
                chunk = owned[start : start + 500]
                await self.renew_script(
                    keys=[self._keys(address)[0] for _, address in chunk],
                    args=[LEASE_SECONDS * 1000, *(token for token, _ in chunk)],
                )
        except REDIS_ERRORS:
            self._note_down()

    def _note_down(self) -> None:
        if not self.down:
            logger.warning("event=address_limits_unavailable")
        self.down = True

    async def close(self) -> None:
        await self.client.aclose()


_per_loop: PerLoop[AddressLimits] = PerLoop()


def get_address_limits() -> AddressLimits:
    # Memory limits are kept per loop too, so a test's fresh loop starts from no connections.
    where = shared_redis()
    if where is None:
        return _per_loop.get(MEMORY, MemoryAddressLimits)
    return _per_loop.get(where, lambda: RedisAddressLimits(*where))


async def close_address_limits() -> None:
    limits = _per_loop.pop()
    if limits is not None:
        await limits.close()
