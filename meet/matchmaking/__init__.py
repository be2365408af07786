"""Random matchmaking behind one interface, with an in-memory and a Redis backend.

``get_matchmaker()`` picks the backend from settings: Redis when
``MATCHMAKER["BACKEND"] == "redis"`` (the default whenever REDIS_URL is set),
otherwise the in-memory store, which only serves one process.
"""

from __future__ import annotations

import asyncio

from django.conf import settings

from meet.matchmaking.base import (
    DEFAULT_REPORT_BLOCK,
    Busy,
    EndedMatch,
    Gone,
    Matched,
    Matchmaker,
    MatchmakerUnavailable,
    Queued,
    Snapshot,
)

__all__ = [
    "Busy",
    "EndedMatch",
    "Gone",
    "Matched",
    "Matchmaker",
    "MatchmakerUnavailable",
    "Queued",
    "Snapshot",
    "get_matchmaker",
]

# One matchmaker per event loop: Redis connections cannot cross loops.
_by_loop: dict[int, tuple[asyncio.AbstractEventLoop, tuple[object, ...], Matchmaker]] = {}


def _config() -> tuple[object, ...]:
    conf = settings.MATCHMAKER
    return (
        conf["BACKEND"],
        conf.get("URL"),
        conf.get("PREFIX"),
        conf["INTEREST_WAIT"],
        conf["REMATCH_COOLDOWN"],
        conf.get("REPORT_BLOCK", DEFAULT_REPORT_BLOCK),
    )


def get_matchmaker() -> Matchmaker:
    loop = asyncio.get_running_loop()
    config = _config()
    cached = _by_loop.get(id(loop))
    if cached and cached[0] is loop and cached[1] == config:
        return cached[2]
    for key, (old_loop, _, _) in list(_by_loop.items()):
        if old_loop.is_closed():
            del _by_loop[key]
    conf = settings.MATCHMAKER
    matchmaker: Matchmaker
    if conf["BACKEND"] == "redis":
        from meet.matchmaking.redis import RedisMatchmaker

        matchmaker = RedisMatchmaker(
            url=conf["URL"],
            prefix=conf["PREFIX"],
            interest_wait=conf["INTEREST_WAIT"],
            rematch_cooldown=conf["REMATCH_COOLDOWN"],
            lease=conf["LEASE"],
            report_block=conf.get("REPORT_BLOCK", DEFAULT_REPORT_BLOCK),
        )
    else:
        from meet.matchmaking.memory import MemoryMatchmaker

        matchmaker = MemoryMatchmaker(
            interest_wait=conf["INTEREST_WAIT"],
            rematch_cooldown=conf["REMATCH_COOLDOWN"],
            report_block=conf.get("REPORT_BLOCK", DEFAULT_REPORT_BLOCK),
        )
    _by_loop[id(loop)] = (loop, config, matchmaker)
    return matchmaker
