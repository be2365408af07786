"""Liveness in the Redis backend: a process that stops renewing its lease is reaped by the others."""

import asyncio

import pytest
import redis

from conftest import REDIS_URL
from meet.matchmaking import Matched
from meet.matchmaking.redis import RedisMatchmaker


def make(prefix: str, lease: float = 0.5) -> RedisMatchmaker:
    return RedisMatchmaker(REDIS_URL, prefix, interest_wait=0.2, rematch_cooldown=60, lease=lease)


async def test_dead_process_is_reaped_and_partner_reported(redis_prefix):
    alive, dead = make(redis_prefix), make(redis_prefix)
    await alive.register("alice", "chan-alice")
    await dead.register("bob", "chan-bob")
    await dead.register("carol", "chan-carol")
    await alive.join("alice", "t1", ())
    matched = await dead.join("bob", "t2", ())
    assert isinstance(matched, Matched)
    await dead.join("carol", "t3", ())
    assert (await alive.snapshot()).online == 3

    await asyncio.sleep(0.6)  # the dead process's lease (0.5 s) runs out; it never beats again
    reaped = []
    for _ in range(20):
        reaped += await alive.heartbeat()
        if reaped:
            break
        await asyncio.sleep(0.1)
    assert len(reaped) == 1
    ended = reaped[0]
    assert (ended.match_id, ended.other_id, ended.other_channel, ended.reason) == (
        matched.match_id,
        "alice",
        "chan-alice",
        "disconnect",
    )
    snapshot = await alive.snapshot()
    assert (snapshot.online, snapshot.waiting, snapshot.in_calls) == (1, 0, 0)
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    left = sorted(client.scan_iter(match=f"{redis_prefix}*"))
    assert left == sorted(
        [f"{redis_prefix}peer:alice", f"{redis_prefix}procpeers:{alive.process_id}", f"{redis_prefix}procs"]
    ), left
    await alive.shutdown()
    await dead.shutdown()


async def test_nobody_is_matched_with_a_reaped_peer(redis_prefix):
    alive, dead = make(redis_prefix), make(redis_prefix)
    await dead.register("ghost", "chan-ghost")
    await dead.join("ghost", "t1", ())
    await asyncio.sleep(0.6)
    await alive.register("newcomer", "chan-new")
    await alive.heartbeat()
    assert not isinstance(await alive.join("newcomer", "t2", ()), Matched)
    await alive.shutdown()
    await dead.shutdown()


async def test_unreachable_redis_raises_unavailable():
    from meet.matchmaking import MatchmakerUnavailable

    broken = RedisMatchmaker("redis://127.0.0.1:1/0", "x:", interest_wait=1, rematch_cooldown=1, lease=1)
    with pytest.raises(MatchmakerUnavailable):
        await broken.register("a", "chan")
    with pytest.raises(MatchmakerUnavailable):
        await broken.snapshot()
