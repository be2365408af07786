"""A stranger reported during the call is never matched with the reporter again.

Shown, as for a late report (test_late_report_keep_apart.py), by what happens next: with no cooldown
between two who just met, only the report keeps them apart, so when both wait again and two more
visitors join, each of the two is paired with a newcomer and never with the other.
"""

from __future__ import annotations

import pytest

from tests.protocol_client import Peer

pytestmark = pytest.mark.django_db(transaction=True)

ALICE_IP, BOB_IP, CAROL_IP, DAVE_IP = "198.51.100.27", "203.0.113.28", "192.0.2.29", "192.0.2.30"


async def _joined(ip: str) -> tuple[Peer, dict]:
    peer = await Peer.connect(client=ip)
    await peer.send({"type": "join"})
    return peer, await peer.receive()


@pytest.mark.parametrize("reporter", ["first", "second"])
async def test_a_stranger_reported_mid_call_is_paired_with_others_never_with_the_reporter(backend, settings, reporter):
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}
    alice, first = await _joined(ALICE_IP)
    assert first["type"] == "waiting", first
    bob, matched = await _joined(BOB_IP)
    assert matched["type"] == "matched", matched
    match_id = matched["match_id"]
    await alice.expect("matched", match_id=match_id)
    accuser, accused = (alice, bob) if reporter == "first" else (bob, alice)
    await accuser.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await accuser.expect("reported", match_id=match_id)
    await accuser.expect("waiting")
    await accused.expect("partner_left", match_id=match_id)
    # The reporter waits again at once; the reported one joins again. Were they not kept apart, they
    # would be paired with each other here, the only two waiting.
    await accused.send({"type": "join"})
    await accused.expect("waiting")
    carol, carols = await _joined(CAROL_IP)
    dave, daves = await _joined(DAVE_IP)
    assert carols["type"] == daves["type"] == "matched", (carols, daves)
    accusers = (await accuser.expect("matched"))["match_id"]
    accuseds = (await accused.expect("matched"))["match_id"]
    assert accusers != accuseds and {accusers, accuseds} == {carols["match_id"], daves["match_id"]}
    for peer in (alice, bob, carol, dave):
        await peer.close()
