"""The call session's races, each made to happen by the order of its steps (see conftest.py).

Report vs Next: the stranger's Next, leave or closed tab ends the call while the report is on the wire.
Leave vs match: a waiting visitor leaves while a newcomer's join is matching them.
Resume vs grace: the resume and the end of the grace come in one order or the other.
Outage during join: matchmaking or the channel layer is away while joining, then back.
Ban mid-call: a ban arrives in a call, or while a retry's join is under way.
"""

from __future__ import annotations

import asyncio
import datetime

import pytest

from meet import protocol
from meet.session import messages
from tests.meet.session.conftest import World, relayed

UNCLEAN = 1006


# Report vs Next.


@pytest.mark.parametrize("how", ["next", "leave", "closed the tab"])
async def test_a_report_crossed_by_the_end_of_the_call_keeps_the_two_apart(world: World, how: str):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    match_id = await world.pair(bob, alice)
    if how == "next":
        await bob.next()
    elif how == "leave":
        await bob.send(protocol.Leave())
    else:
        await bob.session.closed(1001, by_server=False)
    # Bob's partner_left is still on its way to Alice: her report names what is still her call.
    assert [type(message) for message in alice.waiting_for_me()] == [messages.PartnerLeft]
    assert alice.session.match is not None and alice.session.match.match_id == match_id
    if how == "closed the tab":
        bob = await world.visitor("bob")  # the same person is back at once, from the same address
    world.moderation.meanwhile = bob.deliver  # Bob's connection reads the report while Alice waits
    await alice.send(protocol.Report(match_id, "nudity"))
    assert alice.types() == ["reported", "waiting"]
    assert world.moderation.filed == [("hash-of-bob", "nudity")]
    await alice.deliver()  # the late partner_left changes nothing
    assert alice.types() == []
    # Nobody else waits and no cooldown applies: only the report keeps them apart.
    if how != "next":
        await bob.join()
    assert world.matchmaker.store.peers[bob.session.peer_id].state == "waiting"
    assert world.matchmaker.store.peers[alice.session.peer_id].state == "waiting"


async def test_a_report_the_stranger_never_files_is_not_answered_reported_and_may_be_sent_again(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    match_id = await world.pair(bob, alice)
    await bob.next()
    await alice.deliver()
    assert alice.types() == ["partner_left"]
    # Bob's connection never reads the report: the wait runs out and the report is taken back.
    await alice.send(protocol.Report(match_id, "spam"))
    frames = alice.take()
    assert [(frame["type"], frame.get("code"), frame.get("about")) for frame in frames] == [
        ("error", protocol.UNAVAILABLE, "report")
    ]
    await bob.deliver()
    assert world.moderation.filed == []
    world.moderation.meanwhile = bob.deliver
    await alice.send(protocol.Report(match_id, "spam"))
    assert alice.types() == ["reported"]
    assert world.moderation.filed == [("hash-of-bob", "spam")]


# Leave vs match.


async def test_leave_while_a_match_is_made_frees_the_newcomer_at_once(world: World):
    leaver, joiner = await world.visitor("leaver"), await world.visitor("joiner")
    await leaver.join()
    assert leaver.types() == ["waiting"]
    await joiner.join()
    match_id = joiner.take()[-1]["match_id"]
    # The matched notice is on its way to the leaver, who leaves before reading it.
    assert [type(message) for message in leaver.waiting_for_me()] == [messages.Matched]
    await leaver.send(protocol.Leave())
    # The newcomer hears at once that the match is over, not only once the notice reaches the leaver.
    await joiner.deliver()
    assert joiner.take() == [protocol.partner_left(match_id, protocol.LEFT_LEAVE)]
    await leaver.deliver()  # the stale notice is ignored
    assert leaver.types() == []
    assert world.matchmaker.store.matches == {}
    await leaver.join()
    assert leaver.types() in (["waiting"], ["matched"])


async def test_a_matched_notice_after_leave_is_ignored_and_its_match_ended(world: World):
    """The notice comes, and only then would the match end: it must not start a call on a page that left."""
    leaver, joiner = await world.visitor("leaver"), await world.visitor("joiner")
    await leaver.join()
    await joiner.join()
    match_id = joiner.take()[-1]["match_id"]
    await leaver.send(protocol.Leave())
    await leaver.deliver()
    assert "matched" not in leaver.types()
    assert leaver.session.match is None and match_id not in world.matchmaker.store.matches


# Resume vs grace.


async def _broken_call(world: World) -> tuple[str, str, object, object]:
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await bob.join(resume=True)
    bob.take()
    await alice.join(resume=True)
    found = alice.take()[-1]
    await bob.deliver()
    bob.take()
    await alice.session.closed(UNCLEAN, by_server=False)  # her socket broke; she comes back on a new one
    return found["match_id"], found["resume"], alice, bob


async def test_a_resume_within_the_grace_keeps_the_call(world: World):
    match_id, token, alice, bob = await _broken_call(world)
    assert bob.waiting_for_me() == [] and alice.timers.releases  # held, not ended
    again = await world.visitor("alice")
    await again.send(protocol.Resume(match_id, token))
    resumed = again.take()
    assert [frame["type"] for frame in resumed] == ["resumed"]
    assert resumed[0]["resume"] != token  # a new token: the old one was for the old socket
    await bob.deliver()
    assert bob.take() == [protocol.partner_resumed(match_id)]
    # The grace runs out just after: the held peer moved on, so nothing ends.
    await world.release_held(alice)
    await bob.deliver()
    assert bob.take() == []
    assert again.session.match is not None and again.session.match.match_id == match_id
    # And signals go to the new socket.
    await bob.send(protocol.Signal(match_id, {"sdp": "x"}))
    assert again.waiting_for_me() == [relayed(match_id, {"sdp": "x"})]


async def test_a_resume_after_the_grace_fails_and_the_partner_was_told(world: World):
    match_id, token, alice, bob = await _broken_call(world)
    await world.release_held(alice)  # the grace ran out first
    await bob.deliver()
    assert bob.take() == [protocol.partner_left(match_id, protocol.LEFT_DISCONNECT)]
    again = await world.visitor("alice")
    await again.send(protocol.Resume(match_id, token))
    assert again.types() == ["error:resume_failed"]
    assert again.session.match is None
    await again.join()  # that connection goes on as a new one
    assert again.types() == ["waiting"]


async def test_a_closed_tab_is_not_held_for_a_resume(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await bob.join(resume=True)
    await alice.join(resume=True)
    match_id = alice.take()[-1]["match_id"]
    await alice.session.closed(1001, by_server=False)
    assert alice.timers.releases == []
    await bob.deliver()
    assert bob.take()[-1] == protocol.partner_left(match_id, protocol.LEFT_DISCONNECT)


# Outage during join, and the retry after it.


async def test_a_join_during_an_outage_is_retried_once_matchmaking_is_back(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await bob.join()
    world.matchmaker.down = True
    await alice.join()
    assert alice.types() == ["error:unavailable"]
    assert alice.timers.retrying  # the visitor is never left waiting unnoticed
    assert not await alice.session.retry()  # still down: try again later
    world.matchmaker.down = False
    assert await alice.session.retry()
    match_id = alice.take()[-1]["match_id"]
    await bob.deliver()
    assert bob.types()[-1] == "matched" and alice.session.match.match_id == match_id
    assert not alice.timers.retrying


async def test_a_connection_opened_during_an_outage_registers_when_it_joins(world: World):
    world.matchmaker.down = True
    alice = await world.visitor("alice")
    assert alice.session.place.registered is False
    world.matchmaker.down = False
    await alice.join()
    assert alice.types() == ["waiting"]
    assert alice.session.peer_id in world.matchmaker.peers()


async def test_a_matched_notice_lost_in_an_outage_is_taken_by_the_retry(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await alice.join()
    alice.take()
    world.board.lose = lambda channel, message: isinstance(message, messages.Matched)
    await bob.join()
    match_id = bob.take()[-1]["match_id"]
    assert alice.waiting_for_me() == []
    assert await alice.session.retry()  # adopted: the match was made for her queue entry
    assert [(frame["type"], frame["match_id"], frame["polite"]) for frame in alice.take()] == [
        ("matched", match_id, True)
    ]


async def test_a_partner_that_cannot_be_told_ends_the_match_and_this_side_keeps_waiting(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await alice.join()
    alice.take()
    world.board.down = True
    await bob.join()
    assert bob.types() == ["error:unavailable"]
    assert bob.session.match is None and bob.session.place.ticket and bob.timers.retrying
    assert world.matchmaker.store.matches == {}
    world.board.down = False
    # Both try again: the first back in the queue waits, the other is matched with it.
    assert not await bob.session.retry()
    assert await alice.session.retry()
    match_id = alice.take()[-1]["match_id"]
    await bob.deliver()
    assert bob.take()[-1]["match_id"] == match_id


async def test_next_during_an_outage_leaves_the_visitor_out_of_the_queue(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    await world.pair(bob, alice)
    world.matchmaker.down = True
    await alice.next()
    assert alice.types() == ["error:unavailable"]
    assert alice.session.match is None and not alice.session.place.ticket and not alice.timers.retrying


# A ban.


async def test_a_ban_mid_call_frees_the_partner_and_closes(world: World):
    alice, bob = await world.visitor("alice"), await world.visitor("bob")
    match_id = await world.pair(bob, alice)
    until = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    await alice.session.banned(until)
    frames = alice.take()
    assert [(frame["type"], frame["code"], frame["until"]) for frame in frames] == [
        ("error", protocol.BANNED, until.isoformat())
    ]
    assert alice.outbox.closed == protocol.CLOSE_BANNED
    await bob.deliver()
    assert bob.take() == [protocol.partner_left(match_id, protocol.LEFT_DISCONNECT)]
    assert world.matchmaker.peers() == {bob.session.peer_id}
    # The closing that follows changes nothing more.
    await alice.session.closed(protocol.CLOSE_BANNED, by_server=True)
    assert world.matchmaker.peers() == {bob.session.peer_id}


async def test_a_ban_during_a_retry_waits_for_it_and_leaves_no_one_behind(world: World):
    alice = await world.visitor("alice")
    await alice.join()
    alice.take()
    world.matchmaker.held = asyncio.Event()
    retry = asyncio.ensure_future(alice.session.retry())
    await world.matchmaker.holding.wait()  # the retry's join is under way
    ban = asyncio.ensure_future(alice.session.banned(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)))
    await asyncio.sleep(0)  # one turn of the loop: the ban runs up to the step under way, and waits for it
    assert not ban.done()
    assert alice.session.peer_id in world.matchmaker.peers()
    world.matchmaker.held.set()
    await asyncio.gather(retry, ban)
    assert world.matchmaker.peers() == set()
    assert alice.outbox.closed == protocol.CLOSE_BANNED
    assert await alice.session.retry()  # nothing is left to retry...
    assert world.matchmaker.peers() == set()  # ...and nothing registers again
