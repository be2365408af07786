"""Redis matchmaking: shared by every server process, each step one atomic Lua script.

Liveness: each process holds a lease in ``procs`` and renews it every
heartbeat, together with the keys of its connected peers. When a process dies,
the next heartbeat of any live process reaps its peers: they leave the queue,
their matches end, and the partners are told (reason ``disconnect``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from matchmaking.base import (
    DEFAULT_REPORT_BLOCK,
    ENDED_BY_DISCONNECT,
    Busy,
    EndedMatch,
    Gone,
    JoinResult,
    Matched,
    MatchmakerUnavailable,
    Moved,
    Queued,
    Snapshot,
)
from transport.batched import BatchedCommands
from transport.redis_connection import REDIS_ERRORS, QuickWriteConnection

LUA_DIR = Path(__file__).with_name("lua")
SCAN_LIMIT = 32
# Renew the served peers' keys, and drop the others, every this many heartbeats; the keys'
# expiry is only a backstop for when no process is left to reap.
PEER_RENEW_EVERY = 5

P = ParamSpec("P")
T = TypeVar("T")


def _script_source(name: str) -> str:
    parts = ["common", *(["matching"] if name in ("join", "next") else []), name]
    return "\n".join((LUA_DIR / f"{part}.lua").read_text(encoding="utf-8") for part in parts)


SCRIPTS = {
    name: _script_source(name)
    for name in (
        "register",
        "unregister",
        "take_over",
        "join",
        "next",
        "end",
        "keep_apart",
        "leave_queue",
        "heartbeat",
        "snapshot",
        "shutdown",
    )
}


def _unavailable_on_redis_errors(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        # Any Redis error (ResponseError for out of memory or read-only included) means unavailable.
        except REDIS_ERRORS as error:
            raise MatchmakerUnavailable(str(error)) from error

    return wrapper


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Fields of one ended match as the scripts return it (common.lua's end_match).
ENDED_FIELDS = 10


def _csv(value: str) -> tuple[str, ...]:
    return tuple(value.split(",")) if value else ()


def _ended(fields: list[Any], reason: str) -> EndedMatch:
    _, mid, other, other_channel, start, end, wait_a, wait_b, shared, spoken = (_text(f) for f in fields)
    return EndedMatch(
        match_id=mid,
        other_id=other,
        other_channel=other_channel,
        reason=reason,
        started_at=int(start) / 1000,
        ended_at=int(end) / 1000,
        waits=(int(wait_a) / 1000, int(wait_b) / 1000),
        interest_matched=shared == "1",
        language_matched=spoken == "1",
    )


class RedisMatchmaker:
    def __init__(
        self,
        url: str,
        prefix: str,
        interest_wait: float,
        rematch_cooldown: float,
        lease: float,
        report_block: float = DEFAULT_REPORT_BLOCK,
    ) -> None:
        # A blocking pool queues bursts (hundreds of sockets joining at once)
        # instead of failing them, and bounds this process's Redis connections.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=5,
            socket_timeout=2,
            socket_connect_timeout=2,
            health_check_interval=5,
            connection_class=QuickWriteConnection,  # kept for redis:// only; rediss:// and unix:// choose their own
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self.prefix = prefix
        self.interest_wait_ms = int(interest_wait * 1000)
        self.cooldown_ms = int(rematch_cooldown * 1000)
        self.report_block_ms = int(report_block * 1000)
        self.lease_ms = int(lease * 1000)
        self.peer_ttl_ms = self.lease_ms * 6
        self.process_id = secrets.token_hex(8)
        self.beats = 0
        # The peers this process serves, each with the channel serving it: the heartbeat drops every
        # other peer listed under this process (one whose unregister failed).
        self.serving: dict[str, str] = {}
        self.registrations = 0
        self.scripts = {name: self.client.register_script(source) for name, source in SCRIPTS.items()}
        # Every join and Next is a script: those of one turn of the event loop share one write and one read.
        self.batched = BatchedCommands(self.client)

    async def _run(self, name: str, *args: Any) -> Any:
        script = self.scripts[name]
        try:
            return await self.batched.execute("EVALSHA", script.sha, 0, self.prefix, *args)
        except NoScriptError:
            # Redis lost its scripts (a restart, a failover, SCRIPT FLUSH): load it and run it again, as
            # redis-py's own Script does. A script that was not there did nothing.
            script.sha = await self.client.script_load(script.script)
            return await self.batched.execute("EVALSHA", script.sha, 0, self.prefix, *args)

    @_unavailable_on_redis_errors
    async def register(self, peer_id: str, channel_name: str, address: str = "") -> None:
        self.registrations += 1
        self.serving[peer_id] = channel_name
        await self._run(
            "register",
            peer_id,
            channel_name,
            self.process_id,
            self.peer_ttl_ms,
            self.lease_ms,
            self.registrations,
            address,
        )

    @_unavailable_on_redis_errors
    async def unregister(self, peer_id: str, channel: str = "") -> EndedMatch | None:
        # Forgotten here first: should Redis fail now, the next sweep removes the peer there.
        if not channel or self.serving.get(peer_id) == channel:
            self.serving.pop(peer_id, None)
        result = await self._run("unregister", peer_id, self.process_id, channel)
        return _ended(result, ENDED_BY_DISCONNECT) if _text(result[0]) == "ended" else None

    @_unavailable_on_redis_errors
    async def take_over(
        self, peer_id: str, match_id: str, channel: str, replaced_id: str, verify: Callable[[str], bool]
    ) -> Moved | None:
        state, current, holder = await self.client.hmget(f"{self.prefix}peer:{peer_id}", ["st", "mid", "ch"])
        if _text(state or "") != "m" or _text(current or "") != match_id or not holder or not verify(_text(holder)):
            return None
        self.registrations += 1
        result = await self._run(
            "take_over",
            peer_id,
            match_id,
            _text(holder),
            channel,
            self.process_id,
            self.peer_ttl_ms,
            self.registrations,
            replaced_id,
        )
        if _text(result[0]) != "moved":
            return None  # the match ended or moved in between
        if replaced_id != peer_id:
            self.serving.pop(replaced_id, None)
        self.serving[peer_id] = channel
        _, old_channel, partner_channel, polite, shared, spoken, interests, languages, partner = (
            _text(f) for f in result
        )
        return Moved(
            match_id,
            old_channel,
            partner_channel,
            polite == "1",
            _csv(shared),
            _csv(spoken),
            _csv(interests),
            _csv(languages),
            partner,
        )

    @_unavailable_on_redis_errors
    async def join(
        self, peer_id: str, ticket: str, interests: tuple[str, ...], languages: tuple[str, ...] = ()
    ) -> JoinResult:
        match_id = secrets.token_urlsafe(12)
        # Language subtags are letters only (meet.protocol), so a comma list is unambiguous.
        spoken = ",".join(languages)
        result = await self._run(
            "join", peer_id, ticket, self.interest_wait_ms, match_id, SCAN_LIMIT, self.peer_ttl_ms, spoken, *interests
        )
        return self._joined(result, match_id)

    @_unavailable_on_redis_errors
    async def next(
        self,
        peer_id: str,
        match_id: str,
        reason: str,
        ticket: str,
        interests: tuple[str, ...],
        languages: tuple[str, ...] = (),
    ) -> tuple[EndedMatch | None, JoinResult]:
        new_match_id = secrets.token_urlsafe(12)
        ended, joined = await self._run(
            "next",
            peer_id,
            match_id,
            reason,
            self.cooldown_ms,
            ticket,
            self.interest_wait_ms,
            new_match_id,
            SCAN_LIMIT,
            self.peer_ttl_ms,
            ",".join(languages),
            *interests,
        )
        return (_ended(ended, reason) if _text(ended[0]) == "ended" else None), self._joined(joined, new_match_id)

    @staticmethod
    def _joined(result: list[Any], match_id: str) -> JoinResult:
        outcome = _text(result[0])
        if outcome == "waiting":
            return Queued()
        if outcome == "busy":
            _, mid, channel, my_ticket, polite, shared, both_speak, partner = (_text(f) for f in result)
            return Busy(mid, channel, my_ticket, polite == "1", _csv(shared), _csv(both_speak), partner)
        if outcome == "gone":
            return Gone()
        _, partner, channel, partner_ticket, shared, wait, both_speak = (_text(f) for f in result)
        return Matched(match_id, partner, channel, partner_ticket, _csv(shared), int(wait) / 1000, _csv(both_speak))

    @_unavailable_on_redis_errors
    async def end(self, peer_id: str, match_id: str | None, reason: str, keep_apart: bool = False) -> EndedMatch | None:
        block_ms = max(self.report_block_ms, 1) if keep_apart else 0
        result = await self._run("end", peer_id, match_id or "", reason, self.cooldown_ms, block_ms)
        return _ended(result, reason) if _text(result[0]) == "ended" else None

    @_unavailable_on_redis_errors
    async def keep_apart(self, peer_id: str, other_peer_id: str = "", other_address: str = "") -> None:
        await self._run("keep_apart", peer_id, other_peer_id, other_address, max(self.report_block_ms, 1))

    @_unavailable_on_redis_errors
    async def leave_queue(self, peer_id: str) -> None:
        await self._run("leave_queue", peer_id)

    @_unavailable_on_redis_errors
    async def snapshot(self) -> Snapshot:
        online, waiting, in_calls = await self._run("snapshot")
        return Snapshot(int(online), int(waiting), int(in_calls))

    @_unavailable_on_redis_errors
    async def heartbeat(self) -> list[EndedMatch]:
        sweep = self.beats % PEER_RENEW_EVERY == 0
        self.beats += 1
        serving = list(self.serving) if sweep else []
        flat = await self._run(
            "heartbeat", self.process_id, self.lease_ms, self.peer_ttl_ms, int(sweep), self.registrations, *serving
        )
        return [_ended(flat[i : i + ENDED_FIELDS], ENDED_BY_DISCONNECT) for i in range(0, len(flat), ENDED_FIELDS)]

    async def shutdown(self) -> None:
        try:
            await self._run("shutdown", self.process_id)
            await self.client.aclose()
        except REDIS_ERRORS:
            pass
