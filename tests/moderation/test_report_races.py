"""Reports that race the end of their call, the stranger's connection closing, or each other.

Each race is made to happen, step by step, by holding a message at the point where it would
cross the report (the channel layer or the end-of-match notice), never by timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from meet import wiring
from meet.session import reports
from meet.session.matches import RecentMatches
from moderation.addresses import address_hash
from moderation.models import Report
from tests.moderation.test_moderation import ALICE_IP, BOB_IP, filed_hashes
from tests.protocol_client import Peer, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)

UNCLEAN = 1006


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def no_cooldown(settings):
    # Nobody else waits and no cooldown applies: only a report keeps the two apart.
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}


@pytest.fixture
def held_endings(monkeypatch) -> list[tuple[Any, ...]]:
    """The stranger's partner_left notices, held back: the report is read while they are on the wire."""
    held: list[tuple[Any, ...]] = []

    async def hold(*args: Any) -> None:
        held.append(args)

    monkeypatch.setattr(wiring, "announce_end", hold)
    return held


def on_send(monkeypatch, before: Callable[[str, dict[str, Any]], Awaitable[bool]]) -> None:
    """Run ``before`` ahead of every channel-layer send; it returns False to drop the message."""
    layer = get_channel_layer()
    original = layer.send

    async def send(channel: str, message: dict[str, Any]) -> None:
        if await before(channel, message):
            await original(channel, message)

    monkeypatch.setattr(layer, "send", send)


async def report_crossed_by(alice: Peer, bob: Peer, match_id: str, how: str, held: list) -> Peer:
    """The stranger ends the call in the shared state while its notice is still on its way to the
    reporter, whose report then names what is still her current call; the stranger waits again."""
    if how == "next":
        await bob.send({"type": "next"})
        await bob.expect("waiting")
    elif how == "leave":
        await bob.send({"type": "leave"})
        await until(lambda: bool(held))
        await bob.send({"type": "join"})
        await bob.expect("waiting")
    else:  # the tab closed; the same person is back at once
        await bob.close()
        await until(lambda: bool(held))
        bob = await Peer.connect(client=BOB_IP)
        await bob.send({"type": "join"})
        await bob.expect("waiting")
    await alice.send({"type": "report", "match_id": match_id, "reason": "nudity"})
    await alice.expect("reported", match_id=match_id)
    # With the stranger waiting and nothing else between them, this join would pair them at once.
    await alice.expect("waiting")
    return bob


@pytest.mark.parametrize("how", ["next", "leave", "closed the tab"])
async def test_a_report_crossed_by_the_end_of_the_call_keeps_the_two_apart(backend, no_cooldown, held_endings, how):
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    bob = await report_crossed_by(alice, bob, match_id, how, held_endings)
    assert await filed_hashes() == [address_hash(BOB_IP)]
    await bob.nothing(0.1)
    await alice.close()
    await bob.close()


async def test_a_report_of_a_resumed_call_keeps_the_two_apart(backend, no_cooldown, held_endings):
    """The reporter's socket broke and she resumed the call on a new one: she still knows who the stranger is."""
    bob = await Peer.connect(client=BOB_IP)
    await bob.send({"type": "join", "resume": True})
    await bob.expect("waiting")
    alice = await Peer.connect(client=ALICE_IP)
    await alice.send({"type": "join", "resume": True})
    found = await alice.expect("matched")
    match_id = found["match_id"]
    await bob.expect("matched", match_id=match_id)
    await alice.communicator.disconnect(code=UNCLEAN)
    alice = await Peer.connect(client=ALICE_IP)
    await alice.send({"type": "resume", "match_id": match_id, "token": found["resume"]})
    await alice.expect("resumed", match_id=match_id)
    await bob.expect("partner_resumed", match_id=match_id)
    bob = await report_crossed_by(alice, bob, match_id, "next", held_endings)
    assert await filed_hashes() == [address_hash(BOB_IP)]
    await alice.close()
    await bob.close()


async def test_a_report_of_a_call_taken_after_a_lost_notice_keeps_the_two_apart(
    backend, no_cooldown, held_endings, monkeypatch
):
    """The matched notice never came (pub/sub lost it): the waiting side took the match by itself."""
    lost: list[str] = []

    async def lose_matched_notice(channel: str, message: dict[str, Any]) -> bool:
        if message["type"] == "meet.matched" and not lost:
            lost.append(channel)
            return False
        return True

    on_send(monkeypatch, lose_matched_notice)
    alice = await Peer.connect(client=ALICE_IP)
    await alice.send({"type": "join"})
    await alice.expect("waiting")
    bob = await Peer.connect(client=BOB_IP)
    await bob.send({"type": "join"})
    match_id = (await bob.expect("matched"))["match_id"]
    await alice.expect("matched", match_id=match_id)  # taken by her retry loop
    assert lost
    bob = await report_crossed_by(alice, bob, match_id, "next", held_endings)
    assert await filed_hashes() == [address_hash(BOB_IP)]
    await alice.close()
    await bob.close()


async def test_a_report_is_filed_when_the_strangers_connection_closes_as_it_is_told(backend, monkeypatch):
    """The stranger pressed Next and closes the tab: their connection finishes closing after the
    report looked for a hash left behind and before it reads the report. Still filed."""
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.send({"type": "next"})
    await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id)
    closed: list[str] = []

    async def close_the_stranger_first(channel: str, message: dict[str, Any]) -> bool:
        if message["type"] == "meet.reported" and not closed:
            closed.append(channel)
            await bob.close()  # returns once that connection has cleaned up: nothing reads its channel now
        return True

    on_send(monkeypatch, close_the_stranger_first)
    await alice.send({"type": "report", "match_id": match_id, "reason": "nudity"})
    await alice.expect("reported", match_id=match_id)
    assert closed
    assert await filed_hashes() == [address_hash(BOB_IP)]
    await alice.close()


async def test_a_report_the_stranger_can_no_longer_file_is_not_answered_reported(backend, monkeypatch):
    """The stranger's connection no longer remembers the call (aged out): the reporter hears an error,
    and nothing is filed later behind her back."""
    monkeypatch.setattr(reports, "REPORT_ANSWER_SECONDS", 0.3)
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.send({"type": "next"})
    await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id)
    monkeypatch.setattr(RecentMatches, "reportable_ids", lambda self: [])
    monkeypatch.setattr(RecentMatches, "knows", lambda self, match_id: False)
    await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
    await alice.expect("error", code="unavailable", about="report")
    await bob.close()  # a connection that closes takes what was handed over to it, and files it
    await alice.close()
    assert await database_sync_to_async(Report.objects.count)() == 0


async def test_a_report_that_could_not_be_filed_can_be_sent_again(backend, monkeypatch):
    """The visitor heard it was not filed: the same report, sent again once the stranger can file it, is filed."""
    monkeypatch.setattr(reports, "REPORT_ANSWER_SECONDS", 0.3)
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.send({"type": "next"})
    await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id)
    with monkeypatch.context() as forgetful:
        forgetful.setattr(RecentMatches, "reportable_ids", lambda self: [])
        forgetful.setattr(RecentMatches, "knows", lambda self, match_id: False)
        await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
        await alice.expect("error", code="unavailable")
    await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
    await alice.expect("reported", match_id=match_id)
    assert await database_sync_to_async(Report.objects.count)() == 1
    await alice.close()
    await bob.close()


async def test_two_reports_of_one_call_crossing_are_both_filed(backend, monkeypatch):
    """Each side reports the other at the same moment: each waits for the other to file, and files for it."""
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    told: list[str] = []
    both = asyncio.Event()

    async def once_both_reported(channel: str, message: dict[str, Any]) -> bool:
        if message["type"] == "meet.reported":
            told.append(channel)
            if len(told) == 2:
                both.set()
            await asyncio.wait_for(both.wait(), 5)
        return True

    on_send(monkeypatch, once_both_reported)
    # Were each only waiting for the other, both would give up after this long and hear an error.
    monkeypatch.setattr(reports, "REPORT_ANSWER_SECONDS", 4.0)
    await alice.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await bob.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    for peer in (alice, bob):
        await peer.expect("reported", match_id=match_id, timeout=2.0)
        await peer.expect("waiting")
    hashes = await database_sync_to_async(lambda: sorted(Report.objects.values_list("address__ip_hash", flat=True)))()
    assert hashes == sorted([address_hash(ALICE_IP), address_hash(BOB_IP)])
    await alice.close()
    await bob.close()
