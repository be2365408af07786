"""The relay fence: a signal reaches only the partner of the match it names, checked on both sides.

The sending connection refuses a signal whose match_id is not its current match (``CallSession._relay``), and
the receiving connection drops a relayed signal whose match_id is not its own current match
(``CallSession.on_signal``). Each side is tested on its own: the sender's by frames from a browser, the
receiver's by channel-layer messages put straight on its channel. That nothing arrived is shown
by a later signal arriving first: messages to one channel, and frames of one connection, keep their
order, so a fenced signal that got through would come before it.
"""

from __future__ import annotations

from typing import Any

import pytest

from meet import protocol
from meet.consumers import MeetConsumer
from tests.protocol_client import Peer, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consumers(monkeypatch) -> dict[str, MeetConsumer]:
    """Every connection's consumer, by the peer_id its hello gave: to reach its channel directly."""
    made: dict[str, MeetConsumer] = {}
    connect = MeetConsumer.connect

    async def recording_connect(self: MeetConsumer) -> None:
        await connect(self)
        made[self.session.peer_id] = self

    monkeypatch.setattr(MeetConsumer, "connect", recording_connect)
    return made


async def _signal_arrives_next(sender: Peer, receiver: Peer, match_id: str, data: dict[str, Any]) -> None:
    await sender.send({"type": "signal", "match_id": match_id, "data": data})
    received = await receiver.expect("signal", match_id=match_id)
    assert received["data"] == data, f"a fenced signal got through before {data}: {received}"


async def _close(*peers: Peer) -> None:
    for peer in peers:
        await peer.close()


# The sender's side.


async def test_a_signal_naming_an_ended_match_is_refused_and_reaches_nobody(backend):
    alice, bob, old_match = await matched_pair()
    carol = await Peer.connect()
    await carol.send({"type": "join", "interests": []})
    await carol.expect("waiting")
    # Alice moves on to Carol; Bob stays on the page.
    await alice.send({"type": "next"})
    new_match = (await alice.expect("matched"))["match_id"]
    await carol.expect("matched", match_id=new_match)
    await bob.expect("partner_left", match_id=old_match)
    await alice.send({"type": "signal", "match_id": old_match, "data": {"stale": True}})
    await alice.expect("error", code=protocol.NOT_MATCHED)
    # The new partner did not hear it (the old one is no longer on Alice's route at all).
    await _signal_arrives_next(alice, carol, new_match, {"after": 1})
    await _close(alice, bob, carol)


async def test_a_signal_naming_another_pairs_match_is_refused_and_reaches_nobody(backend):
    alice, bob, ours = await matched_pair()
    dave, erin, theirs = await matched_pair()
    await alice.send({"type": "signal", "match_id": theirs, "data": {"foreign": True}})
    await alice.expect("error", code=protocol.NOT_MATCHED)
    await _signal_arrives_next(alice, bob, ours, {"after": 1})
    # The other pair heard nothing either: each side's next signal is the other's real one.
    await _signal_arrives_next(dave, erin, theirs, {"after": 2})
    await _signal_arrives_next(erin, dave, theirs, {"after": 3})
    await _close(alice, bob, dave, erin)


async def test_the_refusal_comes_before_what_follows_it(backend):
    """The sender hears not_matched for the fenced signal, and in its place among its frames."""
    alice, bob, match_id = await matched_pair()
    await alice.send({"type": "signal", "match_id": "not-" + match_id, "data": {}})
    await bob.send({"type": "signal", "match_id": match_id, "data": {"reply": 1}})
    await alice.expect("error", code=protocol.NOT_MATCHED)
    assert (await alice.expect("signal", match_id=match_id))["data"] == {"reply": 1}
    await _close(alice, bob)


# The receiver's side: messages on the connection's channel, as a sender without the check would send.


@pytest.mark.parametrize("which", ["another pair's", "an ended one"])
async def test_a_relayed_signal_for_a_match_not_the_receivers_is_dropped(backend, consumers, which):
    alice, bob, old_match = await matched_pair()
    wrong = old_match
    if which == "another pair's":
        dave, erin, wrong = await matched_pair()
        current, sender, receiver = old_match, alice, bob
    else:
        carol = await Peer.connect()
        await carol.send({"type": "join", "interests": []})
        await carol.expect("waiting")
        await alice.send({"type": "next"})
        current = (await alice.expect("matched"))["match_id"]
        await carol.expect("matched", match_id=current)
        sender, receiver = alice, carol
    channel = consumers[receiver.hello["peer_id"]]
    assert channel.session.match is not None and channel.session.match.match_id == current
    await channel.channel_layer.send(
        channel.channel_name, {"type": "meet.signal", "match_id": wrong, "data": {"fenced": True}}
    )
    await _signal_arrives_next(sender, receiver, current, {"after": 1})
    await _close(alice, bob, *((dave, erin) if which == "another pair's" else (carol,)))


async def test_a_relayed_signal_reaches_a_receiver_without_a_match_never(backend, consumers):
    alice, bob, match_id = await matched_pair()
    await bob.send({"type": "leave"})
    await alice.expect("partner_left", match_id=match_id)
    receiver = consumers[alice.hello["peer_id"]]
    assert receiver.session.match is None
    await receiver.channel_layer.send(
        receiver.channel_name, {"type": "meet.signal", "match_id": match_id, "data": {"late": True}}
    )
    # Alice meets Carol; the first signal she hears is Carol's.
    await alice.send({"type": "join", "interests": []})
    await alice.expect("waiting")
    carol = await Peer.connect()
    await carol.send({"type": "join", "interests": []})
    new_match = (await carol.expect("matched"))["match_id"]
    await alice.expect("matched", match_id=new_match)
    await _signal_arrives_next(carol, alice, new_match, {"after": 1})
    await _close(alice, bob, carol)
