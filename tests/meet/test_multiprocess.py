"""Two real server processes sharing one Redis: matching, relay, death of a process, churn."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time

import pytest
import redis

from conftest import REDIS_URL
from tests.protocol_client import Peer, matched_pair, measured
from tests.servers import migrate, server_env, servers

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def cluster_env(redis_prefix, tmp_path):
    environ = server_env(
        tmp_path,
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=redis_prefix,
        MATCH_LEASE="3",
        MATCH_INTEREST_WAIT="1",
        MEET_RATE_BURST="500",
        MEET_RATE_PER_SECOND="500",
    )
    migrate(environ)
    return environ


@pytest.fixture
def two_servers(cluster_env, tmp_path):
    with servers(2, cluster_env, tmp_path) as started:
        yield started
    for server in started:
        log = server.log_text()
        assert "Traceback" not in log, log


async def test_match_relay_and_disconnect_across_processes(two_servers, capsys):
    one, two = two_servers
    alice = await Peer.connect_to(one.ws_url)
    bob = await Peer.connect_to(two.ws_url)
    await alice.send({"type": "join"})
    await alice.expect("waiting")
    started = time.perf_counter()
    await bob.send({"type": "join"})
    matched = await bob.expect("matched", polite=False)
    match_ms = (time.perf_counter() - started) * 1000
    await alice.expect("matched", polite=True, match_id=matched["match_id"])
    match_id = matched["match_id"]

    relay_ms = []
    for index in range(20):
        sender, receiver = (alice, bob) if index % 2 else (bob, alice)
        data = {"candidate": {"candidate": f"candidate:{index}", "sdpMid": "0"}}
        started = time.perf_counter()
        await sender.send({"type": "signal", "match_id": match_id, "data": data})
        await receiver.expect("signal", data=data)
        relay_ms.append((time.perf_counter() - started) * 1000)
    relay_ms.sort()
    measured(
        capsys, f"cross-process match {match_ms:.1f} ms, relay median {relay_ms[10]:.2f} ms max {relay_ms[-1]:.2f} ms"
    )

    await bob.close()
    await alice.expect("partner_left", match_id=match_id, reason="disconnect")
    await alice.close()


async def test_a_broken_socket_resumes_its_match_on_the_other_process(two_servers):
    one, two = two_servers
    alice = await Peer.connect_to(one.ws_url)
    await alice.send({"type": "join", "resume": True})
    await alice.expect("waiting")
    bob = await Peer.connect_to(two.ws_url)
    await bob.send({"type": "join", "resume": True})
    matched = await bob.expect("matched")
    match_id = matched["match_id"]
    await alice.expect("matched", match_id=match_id)

    # Bob's network drops his socket without a close; he comes back through the other process.
    bob.connection.transport.abort()
    bob_again = await Peer.connect_to(one.ws_url)
    await bob_again.send({"type": "resume", "match_id": match_id, "token": matched["resume"]})
    resumed = await bob_again.expect("resumed", match_id=match_id, polite=False)
    await alice.expect("partner_resumed", match_id=match_id)
    for n, (sender, receiver) in enumerate([(alice, bob_again), (bob_again, alice)]):
        await sender.send({"type": "signal", "match_id": match_id, "data": {"n": n}})
        await receiver.expect("signal", match_id=match_id, data={"n": n})

    # Alice's socket looks open to her server while her new one resumes on the other process:
    # the old one is closed with 4010, and the call goes on.
    alice_again = await Peer.connect_to(two.ws_url)
    token = alice.last("matched")["resume"]
    await alice_again.send({"type": "resume", "match_id": match_id, "token": token})
    await alice_again.expect("resumed", match_id=match_id, polite=True)
    await bob_again.expect("partner_resumed", match_id=match_id)
    await asyncio.wait_for(alice.connection.wait_closed(), 10)
    assert alice.connection.close_code == 4010
    await bob_again.send({"type": "next"})
    await alice_again.expect("partner_left", match_id=match_id, reason="next")
    assert resumed["resume"] != matched["resume"]
    for peer in (alice_again, bob_again):
        await peer.close()


async def test_killed_process_partners_are_told_and_state_is_cleaned(cluster_env, tmp_path, redis_prefix, capsys):
    with servers(2, cluster_env, tmp_path) as (one, two):
        alice, bob, match_id = await matched_pair(one.ws_url, two.ws_url)
        waiting_on_two = await Peer.connect_to(two.ws_url)
        await waiting_on_two.send({"type": "join"})
        await waiting_on_two.expect("waiting")

        killed_at = time.perf_counter()
        two.kill()
        await alice.expect("partner_left", match_id=match_id, reason="disconnect", timeout=15)
        told_s = time.perf_counter() - killed_at
        measured(capsys, f"partner_left after SIGKILL of the partner's process: {told_s:.2f} s (lease 3 s)")
        assert told_s < 15

        # Nothing of the dead process is left, and the dead waiting peer is never matched.
        client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        for dead in (bob, waiting_on_two):
            assert not client.exists(f"{redis_prefix}peer:{dead.hello['peer_id']}")
        assert client.zcard(f"{redis_prefix}q:any") == 0
        assert client.scard(f"{redis_prefix}matches") == 0
        assert client.zcard(f"{redis_prefix}procs") == 1

        await alice.send({"type": "join"})
        await alice.expect("waiting")
        carol = await Peer.connect_to(one.ws_url)
        await carol.send({"type": "join"})
        again = await carol.expect("matched")
        await alice.expect("matched", match_id=again["match_id"])
        await alice.close()
        await carol.close()
    assert "Traceback" not in one.log_text()


async def test_hundreds_join_and_next_across_two_processes(two_servers, capsys):
    """200 clients each meet three strangers, pressing Next between them; every match must be mutual,
    except one whose other side left the queue as it was made: that side never hears of it, and this
    side is told at once with partner_left (docs/protocol.md, leave)."""
    rng = random.Random(7)
    urls = [server.ws_url for server in two_servers]
    peers = await asyncio.gather(*(Peer.connect_to(urls[i % 2]) for i in range(200)))
    sides: dict[str, list[tuple[int, bool]]] = collections.defaultdict(list)
    current: dict[int, str | None] = dict.fromkeys(range(len(peers)))
    told_left: dict[str, list[int]] = collections.defaultdict(list)
    overlaps = []
    finished = 0
    everyone_nearly_done = asyncio.Event()

    def saw_match(index: int, message: dict) -> None:
        if current[index] is not None:
            overlaps.append((index, current[index], message["match_id"]))
        current[index] = message["match_id"]
        sides[message["match_id"]].append((index, message["polite"]))

    async def drive(index: int, peer: Peer) -> None:
        nonlocal finished
        await peer.send({"type": "join"})
        meetings = 0
        while meetings < 3 and not everyone_nearly_done.is_set():
            try:
                message = await peer.receive(timeout=0.5)
            except TimeoutError:
                continue
            if message["type"] == "matched":
                saw_match(index, message)
                meetings += 1
                await asyncio.sleep(rng.random() * 0.05)
                if current[index] == message["match_id"]:
                    current[index] = None
                    await peer.send({"type": "next" if meetings < 3 else "leave"})
            elif message["type"] == "partner_left":
                told_left[message["match_id"]].append(index)
                if message["match_id"] == current[index]:
                    current[index] = None
                    await peer.send({"type": "join"})
        await peer.send({"type": "leave"})
        finished += 1
        if finished >= 190:
            everyone_nearly_done.set()

    async def drain(index: int, peer: Peer) -> None:
        """Read what was already on its way when the client stopped, until it has been quiet a while
        (on a loaded machine a notice published just before the end can take over a second)."""
        with contextlib.suppress(TimeoutError):
            while True:
                message = await peer.receive(timeout=3)
                if message["type"] == "matched":
                    saw_match(index, message)
                elif message["type"] == "partner_left":
                    told_left[message["match_id"]].append(index)
                    if message["match_id"] == current[index]:
                        current[index] = None

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(drive(i, p) for i, p in enumerate(peers))), 60)
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(drain(i, p) for i, p in enumerate(peers)))
    await asyncio.gather(*(p.close() for p in peers))

    assert not overlaps
    assert len(sides) >= 250
    one_sided = {match_id: members for match_id, members in sides.items() if len(members) == 1}
    for match_id, [(only, _polite)] in one_sided.items():
        assert only in told_left[match_id], (match_id, "one side never saw it and the other was not told")
    assert len(one_sided) <= len(sides) // 20, one_sided
    for match_id, members in sides.items():
        if match_id in one_sided:
            continue
        assert len(members) == 2, (match_id, members)
        (a, polite_a), (b, polite_b) = members
        assert a != b
        assert polite_a != polite_b
    measured(capsys, f"{len(sides)} matches among 200 clients on 2 processes in {elapsed:.1f} s, all mutual")
