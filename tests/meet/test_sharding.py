"""Two processes on two Redis servers: the channel layer sharded over both, matchmaking on the first
(docs/scaling.md). Matching and relay across processes, the death of a process, and the loss of one shard."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import redis

from tests.protocol_client import Peer, matched_pair, measured
from tests.servers import migrate, server_env, servers
from tests.services import redis_server

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PREFIX = "shard-test:"


async def relays(sender: Peer, receiver: Peer, match_id: str, n: int) -> None:
    await sender.send({"type": "signal", "match_id": match_id, "data": {"n": n}})
    message = await receiver.expect("signal", match_id=match_id, timeout=5)
    assert message["data"] == {"n": n}


def channel_of(peer: Peer, match_state: redis.Redis) -> str:
    """The matchmaking state names each visitor's channel."""
    channel = match_state.hget(f"{PREFIX}peer:{peer.hello['peer_id']}", "ch")
    assert channel, peer.hello
    return channel


def shard_of(peer: Peer, match_state: redis.Redis, shards: list[redis.Redis]) -> int:
    """Which layer shard holds this visitor's channel (every shard must be up)."""
    channel = channel_of(peer, match_state)
    for index, shard in enumerate(shards):
        if channel in shard.pubsub_channels(channel):
            return index
    raise AssertionError(f"channel {channel!r} subscribed on no shard")


def subscribed_on(peer: Peer, match_state: redis.Redis, shard: redis.Redis) -> bool:
    channel = channel_of(peer, match_state)
    return channel in shard.pubsub_channels(channel)


async def test_two_processes_on_two_redis_shards(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with redis_server(tmp_path / "a") as redis_a, redis_server(tmp_path / "b") as redis_b:
        url_a, url_b = redis_a.url, redis_b.url
        environ = server_env(
            tmp_path,
            REDIS_URL=url_a,
            MATCH_REDIS_URL=url_a,
            CHANNEL_REDIS_URLS=f"{url_a},{url_b}",
            REDIS_PREFIX=PREFIX,
            MATCH_LEASE="2",
        )
        migrate(environ)
        state = redis.Redis.from_url(url_a, decode_responses=True)
        shards = [state, redis.Redis.from_url(url_b, decode_responses=True)]
        with servers(2, environ, tmp_path) as (one, two):
            # Matching and relay across the processes, with channels on both shards.
            pairs = [await matched_pair(one.ws_url, two.ws_url) for _ in range(8)]
            for n, (first, second, match_id) in enumerate(pairs):
                await relays(first, second, match_id, n)
                await relays(second, first, match_id, n)
            used = {shard_of(peer, state, shards) for first, second, _ in pairs for peer in (first, second)}
            assert used == {0, 1}, "eight pairs' channels all landed on one shard"

            # A process dies: its visitors' partners on the other process are told once its lease lapses.
            two.process.send_signal(signal.SIGKILL)
            started = time.perf_counter()
            for first, _, match_id in pairs:
                await first.expect("partner_left", match_id=match_id, reason="disconnect", timeout=10)
            measured(capsys, f"sharded layer: partners told {time.perf_counter() - started:.1f} s after SIGKILL")

            # One layer shard goes away: visitors whose channels live on the other carry on.
            survivors = [first for first, _, _ in pairs]
            on_a = [peer for peer in survivors if shard_of(peer, state, shards) == 0]
            on_b = [peer for peer in survivors if shard_of(peer, state, shards) == 1]
            while len(on_a) < 2 or len(on_b) < 1:
                peer = await Peer.connect_to(one.ws_url)
                (on_a if shard_of(peer, state, shards) == 0 else on_b).append(peer)
            # A call between a visitor on each shard, made before the loss.
            await on_b[0].send({"type": "join"})
            await on_b[0].expect("waiting")
            await on_a[1].send({"type": "join"})
            cross = (await on_a[1].expect("matched"))["match_id"]
            await on_b[0].expect("matched", match_id=cross)

            redis_b.stop()
            # Relay towards the lost shard: the sender hears `unavailable`, nothing is lost silently.
            await on_a[1].send({"type": "signal", "match_id": cross, "data": {"n": 1}})
            await on_a[1].expect("error", code="unavailable", timeout=5)
            # Two visitors on the surviving shard still meet and talk.
            third = await Peer.connect_to(one.ws_url)
            while not subscribed_on(third, state, state):
                await third.close()
                third = await Peer.connect_to(one.ws_url)
            await on_a[0].send({"type": "join"})
            await on_a[0].expect("waiting")
            await third.send({"type": "join"})
            fresh = (await third.expect("matched"))["match_id"]
            await on_a[0].expect("matched", match_id=fresh)
            await relays(third, on_a[0], fresh, 2)
            await relays(on_a[0], third, fresh, 3)

            # The shard comes back (empty): its channels are subscribed again and relay resumes.
            redis_b.start()
            back = time.perf_counter()
            deadline = time.monotonic() + 10
            while True:
                await on_a[1].send({"type": "signal", "match_id": cross, "data": {"n": 4}})
                try:
                    message = await on_b[0].receive(timeout=0.5)
                except TimeoutError:
                    assert time.monotonic() < deadline, "relay to the returned shard never resumed"
                    continue
                if message["type"] == "signal":
                    break
            measured(
                capsys, f"sharded layer: relay resumed {time.perf_counter() - back:.2f} s after the shard returned"
            )
            assert time.perf_counter() - back < 5
            assert one.process.poll() is None
            for peer in [*survivors, *on_a, *on_b, third]:
                await peer.close()
            await asyncio.sleep(0)
