"""Random matchmaking behind one interface, with an in-memory and a Redis backend.

``get_matchmaker()`` picks the backend from settings: Redis when
``MATCHMAKER["BACKEND"] == "redis"`` (the default whenever REDIS_URL is set),
otherwise the in-memory store, which only serves one process.
"""

from __future__ import annotations

from django.conf import settings

from matchmaking.base import (
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
from transport.per_loop import PerLoop
from transport.shared_state import shared_redis

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

_matchmakers: PerLoop[Matchmaker] = PerLoop()


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
    return _matchmakers.get(_config(), _make_matchmaker)


def _make_matchmaker() -> Matchmaker:
    conf = settings.MATCHMAKER
    matchmaker: Matchmaker
    where = shared_redis()
    if where is not None:
        from matchmaking.redis import RedisMatchmaker

        matchmaker = RedisMatchmaker(
            url=where[0],
            prefix=where[1],
            interest_wait=conf["INTEREST_WAIT"],
            rematch_cooldown=conf["REMATCH_COOLDOWN"],
            lease=conf["LEASE"],
            report_block=conf.get("REPORT_BLOCK", DEFAULT_REPORT_BLOCK),
        )
    else:
        from matchmaking.memory import MemoryMatchmaker

        matchmaker = MemoryMatchmaker(
            interest_wait=conf["INTEREST_WAIT"],
            rematch_cooldown=conf["REMATCH_COOLDOWN"],
            report_block=conf.get("REPORT_BLOCK", DEFAULT_REPORT_BLOCK),
        )
    return matchmaker
