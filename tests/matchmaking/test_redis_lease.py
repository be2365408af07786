"""Liveness in the Redis backend: a process that stops renewing its lease is reaped by the others."""

import asyncio
import time

import pytest
import redis

from conftest import REDIS_URL
from matchmaking import Matched, MatchmakerUnavailable, Snapshot
from matchmaking.redis import PEER_RENEW_EVERY, RedisMatchmaker


def make(prefix: str, lease: float = 0.5, cooldown: float = 60, report_block: float = 3600) -> RedisMatchmaker:
    return RedisMatchmaker(
        REDIS_URL, prefix, interest_wait=0.2, rematch_cooldown=cooldown, lease=lease, report_block=report_block
    )


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
    from matchmaking import MatchmakerUnavailable

    broken = RedisMatchmaker("redis://127.0.0.1:1/0", "x:", interest_wait=1, rematch_cooldown=1, lease=1)
    with pytest.raises(MatchmakerUnavailable):
        await broken.register("a", "chan")
    with pytest.raises(MatchmakerUnavailable):
        await broken.snapshot()


async def test_zombie_peer_is_dropped_by_its_own_process(redis_prefix, monkeypatch):
    """A peer whose unregister failed (a Redis blip) is not renewed forever: the process's own
    heartbeat drops it and frees its partner."""
    mm = make(redis_prefix, lease=5)
    for name in ("zombie", "partner", "bystander"):
        await mm.register(name, f"chan-{name}")
    await mm.join("zombie", "t1", ())
    matched = await mm.join("partner", "t2", ())
    assert isinstance(matched, Matched)
    await mm.join("bystander", "t3", ("chess",))

    run = mm._run

    async def blip(name, *args):
        raise redis.exceptions.ConnectionError("blip")

    monkeypatch.setattr(mm, "_run", blip)
    with pytest.raises(MatchmakerUnavailable):
        await mm.unregister("zombie")
    monkeypatch.setattr(mm, "_run", run)

    reaped = []
    for _ in range(PEER_RENEW_EVERY + 1):
        reaped += await mm.heartbeat()
    assert [(e.match_id, e.other_id, e.other_channel, e.reason) for e in reaped] == [
        (matched.match_id, "partner", "chan-partner", "disconnect")
    ]
    snapshot = await mm.snapshot()
    assert (snapshot.online, snapshot.waiting, snapshot.in_calls) == (2, 1, 0)
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    assert not client.exists(f"{redis_prefix}peer:zombie")
    assert client.exists(f"{redis_prefix}peer:partner") and client.exists(f"{redis_prefix}peer:bystander")
    await mm.shutdown()


async def test_every_key_expires_when_every_process_is_down(redis_prefix):
    one, two = (make(redis_prefix, cooldown=1, report_block=1) for _ in range(2))
    for mm, names in ((one, ("a", "b", "c", "g", "h")), (two, ("d", "e", "f"))):
        for name in names:
            await mm.register(name, f"chan-{name}")
    await one.join("a", "t1", ())
    first = await two.join("d", "t2", ())
    await one.end("a", first.match_id, "next")  # a cooldown key
    await one.join("g", "t7", ())
    reported = await one.join("h", "t8", ())
    await one.end("g", reported.match_id, "next", keep_apart=True)  # a report: a keep-apart key
    await one.join("b", "t3", ())
    await two.join("e", "t4", ())  # b and e in a call
    await one.join("c", "t5", ("chess", "music"), ("es",))  # waiting, with interests and a language
    await two.join("f", "t6", ("art",), ("hi",))
    await one.heartbeat()
    await two.heartbeat()
    assert await one.snapshot() == Snapshot(online=8, waiting=2, in_calls=1)

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    keys = list(client.scan_iter(match=f"{redis_prefix}*"))
    kinds = {"peer", "q", "qi", "ql", "match", "matches", "cd", "ka", "procs", "procpeers"}
    assert {key.split(":")[1] for key in keys} >= kinds
    assert all(client.pttl(key) > 0 for key in keys), {key: client.pttl(key) for key in keys}

    # Both processes stop at once, without a word (SIGKILL, a host going down): nobody reaps.
    deadline = time.monotonic() + one.peer_ttl_ms / 1000 + 5
    while list(client.scan_iter(match=f"{redis_prefix}*")) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert list(client.scan_iter(match=f"{redis_prefix}*")) == []

    fresh = make(redis_prefix)
    await fresh.heartbeat()
    assert await fresh.snapshot() == Snapshot(online=0, waiting=0, in_calls=0)
    for mm in (one, two, fresh):
        await mm.shutdown()


async def test_counters_stay_true_when_records_expired_under_them(redis_prefix):
    """Keys expire one by one; the counts of people waiting and in calls follow."""
    mm = make(redis_prefix, lease=5)
    for name in ("a", "b", "c"):
        await mm.register(name, f"chan-{name}")
    await mm.join("a", "t1", ())
    await mm.join("b", "t2", ())
    await mm.join("c", "t3", ())
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.delete(*client.scan_iter(match=f"{redis_prefix}peer:*"), *client.scan_iter(match=f"{redis_prefix}match:*"))
    await mm.heartbeat()
    snapshot = await mm.snapshot()
    assert (snapshot.waiting, snapshot.in_calls) == (0, 0)
    await mm.shutdown()


async def test_a_match_taken_over_on_another_process_lives_on_that_process_lease(redis_prefix):
    first, second = make(redis_prefix), make(redis_prefix)
    await first.register("alice", "chan-alice")
    await first.register("bob", "chan-bob")
    await first.join("alice", "t1", ())
    matched = await first.join("bob", "t2", ())
    assert isinstance(matched, Matched)
    # Alice's socket broke; her new one landed on the second process.
    await second.register("fresh", "chan-fresh")
    moved = await second.take_over("alice", matched.match_id, "chan-fresh", "fresh", lambda ch: ch == "chan-alice")
    assert moved is not None and moved.partner_channel == "chan-bob"
    # The first process still lists her old connection until its grace ends; its sweeps and its late
    # release leave the moved peer alone.
    for _ in range(PEER_RENEW_EVERY + 1):
        assert await first.heartbeat() == []
        assert await second.heartbeat() == []
    assert await first.unregister("alice", "chan-alice") is None
    assert (await first.snapshot()).in_calls == 1
    # Now the first process dies: Bob goes with it, and Alice (on the second) hears it.
    await asyncio.sleep(0.6)
    reaped = []
    for _ in range(20):
        reaped += await second.heartbeat()
        if reaped:
            break
        await asyncio.sleep(0.1)
    assert [(ended.match_id, ended.other_channel) for ended in reaped] == [(matched.match_id, "chan-fresh")]
    await first.shutdown()
    await second.shutdown()
