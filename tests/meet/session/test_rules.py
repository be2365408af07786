"""The call session's rules outside the races: the Next limit, relaying, ICE refresh, connection counts."""

from __future__ import annotations

import pytest

from meet import protocol
from meet.session import messages
from meet.session.next_limit import NextLimit
from tests.meet.session.conftest import World, relayed


@pytest.fixture
def two_a_minute(settings):
    settings.MEET = {**settings.MEET, "NEXT_PER_MINUTE": 2}


async def test_next_is_limited_per_minute_and_allowed_again_once_the_oldest_lapses(world: World, two_a_minute):
    alice = await world.visitor("alice")
    await alice.next()
    await alice.next()
    assert alice.types() == ["waiting", "waiting"]
    world.clock.advance(20)
    await alice.next()
    [refusal] = alice.take()
    assert (refusal["code"], refusal["retry_after"]) == (protocol.RATE_LIMITED, 40)
    assert "at most 2 a minute" in refusal["message"] and "in 40 seconds" in refusal["message"]
    world.clock.advance(40)
    await alice.next()
    assert alice.types() == ["waiting"]


async def test_leave_during_a_call_counts_as_a_skip_and_the_join_after_it_is_checked(world: World, two_a_minute):
    alice = await world.visitor("alice")
    for number in range(2):
        bob = await world.visitor(f"bob{number}")
        await world.pair(bob, alice)
        await alice.send(protocol.Leave())  # skips bob: counted
        assert alice.types() == []
        if number == 0:
            await alice.join()  # checked, not counted: one skip so far
            assert alice.types() == ["waiting"]
            await alice.send(protocol.Leave())  # out of the queue, no call: not counted
    await alice.join()  # two skips this minute: refused
    assert alice.types() == ["error:rate_limited"]
    world.clock.advance(60)
    await alice.join()
    assert alice.types() == ["waiting"]


def test_the_next_limit_counts_only_what_it_allows():
    limit = NextLimit()
    assert limit.allow(1, now=0.0) == 0
    assert limit.allow(1, now=0.5) == 60
    assert limit.allow(1, now=59.2) == 1
    assert limit.allow(1, now=60.0) == 0
    assert limit.allow(1, now=60.0, count=False) == 60


async def test_a_signal_reaches_only_the_partner_of_the_current_match(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    match_id = await world.pair(bob, alice)
    await alice.send(protocol.Signal("another", {"x": 1}))
    assert alice.types() == ["error:not_matched"]
    await alice.send(protocol.Signal(match_id, {"x": 2}))
    assert bob.waiting_for_me() == [relayed(match_id, {"x": 2})]
    # The receiving side, too, drops a signal naming another match than its current one.
    await bob.session.on_signal("another", relayed("another", {"x": 3})["frame"], backlog=0)
    await bob.session.on_signal(match_id, relayed(match_id, {"x": 2})["frame"], backlog=0)
    assert bob.take() == [protocol.signal(match_id, {"x": 2})]


async def test_a_browser_that_does_not_read_drops_signals_and_its_partner_is_told_once_a_second(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    match_id = await world.pair(bob, alice)
    over = protocol.MAX_QUEUED_BYTES + 1
    for _ in range(3):
        await bob.session.on_signal(match_id, relayed(match_id, {"x": 1})["frame"], backlog=over)
    assert bob.take() == []
    assert alice.waiting_for_me() == [messages.SignalDropped(match_id)]
    await alice.deliver()
    assert alice.types() == ["error:unavailable"]
    world.clock.advance(1.0)
    await bob.session.on_signal(match_id, relayed(match_id, {"x": 1})["frame"], backlog=over)
    assert alice.waiting_for_me() == [messages.SignalDropped(match_id)]
    await bob.session.on_signal(match_id, relayed(match_id, {"x": 2})["frame"], backlog=0)
    assert bob.take() == [protocol.signal(match_id, {"x": 2})]


async def test_ice_servers_are_refreshed_in_a_call_at_most_every_30_seconds(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await alice.send(protocol.RefreshIceServers())
    assert alice.types() == ["error:not_matched"]
    await world.pair(bob, alice)
    await alice.send(protocol.RefreshIceServers())
    assert alice.types() == ["ice_servers"]
    world.clock.advance(29.5)
    await alice.send(protocol.RefreshIceServers())
    [refusal] = alice.take()
    assert (refusal["code"], refusal["retry_after"]) == (protocol.RATE_LIMITED, 1)
    world.clock.advance(0.5)
    await alice.send(protocol.RefreshIceServers())
    assert alice.types() == ["ice_servers"]


async def test_how_a_call_connected_counts_once_for_the_current_or_the_last_match(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    first = await world.pair(bob, alice)
    await bob.next()  # crosses Alice's report of how it connected
    await alice.deliver()
    alice.take()
    await alice.send(protocol.ConnectionReport(first, "failed", None))
    await alice.send(protocol.ConnectionReport(first, "failed", None))
    await alice.send(protocol.ConnectionReport("unknown", "direct", 10))
    assert alice.types() == ["error:rate_limited", "error:not_matched"]
    assert alice.counts.outcomes == [("failed", None)]


async def test_a_report_during_the_call_keeps_the_two_apart(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    match_id = await world.pair(bob, alice)
    world.moderation.meanwhile = bob.deliver  # Bob's connection reads the report while Alice waits
    await alice.send(protocol.Report(match_id, "harassment"))
    assert alice.types() == ["reported", "waiting"]
    assert world.moderation.filed == [("hash-of-bob", "harassment")]
    await bob.deliver()
    assert bob.types() == ["partner_left"]
    # Both wait, nobody else does and no cooldown applies: only the report keeps them apart.
    await bob.join()
    assert world.matchmaker.store.peers[bob.session.peer_id].state == "waiting"
    assert world.matchmaker.store.peers[alice.session.peer_id].state == "waiting"
