"""The Redis matchmaker's scripts go out gathered per turn of the event loop and still behave as alone."""

from __future__ import annotations

import asyncio

import pytest

from conftest import REDIS_URL
from matchmaking import Matched, Queued
from matchmaking.redis import RedisMatchmaker

pytestmark = pytest.mark.redis


def make(prefix: str) -> RedisMatchmaker:
    return RedisMatchmaker(REDIS_URL, prefix, interest_wait=0.2, rematch_cooldown=60, lease=5)


async def test_joins_of_one_turn_pair_up_as_they_would_one_by_one(redis_prefix):
    matchmaker = make(redis_prefix)
    try:
        names = [f"p{n}" for n in range(6)]
        for name in names:
            await matchmaker.register(name, f"chan-{name}")
        results = await asyncio.gather(*(matchmaker.join(name, f"t-{name}", ()) for name in names))
        assert sum(isinstance(r, Matched) for r in results) == 3
        assert sum(isinstance(r, Queued) for r in results) == 3
        assert len({r.match_id for r in results if isinstance(r, Matched)}) == 3
    finally:
        await matchmaker.shutdown()


async def test_a_script_redis_lost_is_loaded_again(redis_prefix):
    """After a restart or a failover Redis knows none of the scripts: the first call loads its own."""
    matchmaker = make(redis_prefix)
    try:
        script = matchmaker.scripts["register"]
        real_sha = script.sha
        script.sha = "0" * 40  # as if Redis had lost it: NOSCRIPT
        await matchmaker.register("alice", "chan-alice")
        assert script.sha == real_sha
        assert (await matchmaker.snapshot()).online == 1
    finally:
        await matchmaker.shutdown()
