"""A stranger reported after the call, whose connection still lives, is never matched with the reporter again.

The report names a match the stranger's Next already ended; the stranger is still on the site and
waiting. That the two are not paired is shown by what happens next rather than by a quiet wait: two
more visitors join, each is paired with one of the two, and the reporter's partner is never the
stranger.
"""

from __future__ import annotations

import pytest

from tests.protocol_client import Peer

pytestmark = pytest.mark.django_db(transaction=True)

ALICE_IP, BOB_IP, CAROL_IP, DAVE_IP = "198.51.100.17", "203.0.113.18", "192.0.2.19", "192.0.2.20"


async def _joined(ip: str) -> tuple[Peer, dict]:
    peer = await Peer.connect(client=ip)
    await peer.send({"type": "join"})
    return peer, await peer.receive()


async def test_a_stranger_reported_after_the_call_is_paired_with_others_never_with_the_reporter(backend, settings):
    # Only the report may keep them apart: no cooldown between two who just met.
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}
    alice, first = await _joined(ALICE_IP)
    assert first["type"] == "waiting", first
    bob, matched = await _joined(BOB_IP)
    assert matched["type"] == "matched", matched
    match_id = matched["match_id"]
    await alice.expect("matched", match_id=match_id)
    # Bob skips on at once and waits for someone else; his connection lives.
    await bob.send({"type": "next"})
    await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id)
    await alice.send({"type": "report", "match_id": match_id, "reason": "nudity"})
    await alice.expect("reported", match_id=match_id)
    # Bob is the only one waiting: were they not kept apart, Alice would be paired with him here.
    await alice.send({"type": "join"})
    await alice.expect("waiting")
    carol, carols = await _joined(CAROL_IP)
    dave, daves = await _joined(DAVE_IP)
    assert carols["type"] == daves["type"] == "matched", (carols, daves)
    newcomers = {carols["match_id"], daves["match_id"]}
    alices = (await alice.expect("matched"))["match_id"]
    bobs = (await bob.expect("matched"))["match_id"]
    assert alices != bobs and {alices, bobs} == newcomers
    for peer in (alice, bob, carol, dave):
        await peer.close()
