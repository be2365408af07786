"""A reported stranger is never matched with the reporter again: reported during the call, or after it
while the stranger's connection still lives (the report names a match the stranger's Next ended), or
after the stranger closed the tab and came back on a new connection.

That the two are not paired is shown by what happens next rather than by a quiet wait: with no
cooldown between two who just met, only the report keeps them apart; both wait, two more visitors
join, and each of the two is paired with a newcomer, never with the other.
"""

from __future__ import annotations

import pytest

from tests.protocol_client import Peer, joined, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)

ALICE_IP, BOB_IP, CAROL_IP, DAVE_IP = "198.51.100.17", "203.0.113.18", "192.0.2.19", "192.0.2.20"


async def each_meets_a_newcomer(one: Peer, other: Peer) -> None:
    """Both wait: two visitors join, and each of the two is paired with one of them, not with the other."""
    carol, carols = await joined(CAROL_IP)
    dave, daves = await joined(DAVE_IP)
    assert carols["type"] == daves["type"] == "matched", (carols, daves)
    ones = (await one.expect("matched"))["match_id"]
    others = (await other.expect("matched"))["match_id"]
    assert ones != others and {ones, others} == {carols["match_id"], daves["match_id"]}
    for peer in (one, other, carol, dave):
        await peer.close()


@pytest.mark.parametrize("how_they_left", ["next", "closed the tab"])
async def test_a_stranger_reported_after_the_call_is_paired_with_others_never_with_the_reporter(
    backend, settings, how_they_left
):
    # Only the report may keep them apart: no cooldown between two who just met.
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    if how_they_left == "next":  # Bob skips on at once and waits for someone else; his connection lives
        await bob.send({"type": "next"})
        await bob.expect("waiting")
    else:  # Bob closes the tab and comes back on a new connection from the same address
        await bob.close()
        bob = await Peer.connect(client=BOB_IP)
        await bob.send({"type": "join"})
        await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id)
    await alice.send({"type": "report", "match_id": match_id, "reason": "nudity"})
    await alice.expect("reported", match_id=match_id)
    # Bob is the only one waiting: were they not kept apart, Alice would be paired with him here.
    await alice.send({"type": "join"})
    await alice.expect("waiting")
    await each_meets_a_newcomer(alice, bob)


@pytest.mark.parametrize("reporter", ["first", "second"])
async def test_a_stranger_reported_mid_call_is_paired_with_others_never_with_the_reporter(backend, settings, reporter):
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    accuser, accused = (alice, bob) if reporter == "first" else (bob, alice)
    await accuser.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await accuser.expect("reported", match_id=match_id)
    await accuser.expect("waiting")
    await accused.expect("partner_left", match_id=match_id)
    # The reporter waits again at once; the reported one joins again: the only two waiting.
    await accused.send({"type": "join"})
    await accused.expect("waiting")
    await each_meets_a_newcomer(accuser, accused)
