"""The channel-layer messages between connections: each one defined once, read back as sent, and handled."""

from __future__ import annotations

import typing

import pytest

from meet import protocol
from meet.consumers import MeetConsumer
from meet.session import messages

EXAMPLES = [
    messages.Matched("m1", "t1", "channel.a", "peer-a", ("chess",), ("es",)),
    messages.SignalDropped("m1"),
    messages.PartnerLeft("m1", "next"),
    messages.Reported("m1"),
    messages.Reported("m1", {"reason": "spam"}),
    messages.PartnerMoved("m1", "channel.b"),
    messages.Superseded("peer-a"),
    messages.Online(12),
    messages.Shutdown(),
    messages.Banned("2030-01-01T00:00:00+00:00"),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda message: f"{message.type}")
def test_a_message_reads_back_as_it_was_sent(message):
    encoded = message.encode()
    assert encoded["type"] == message.type
    assert type(message).decode(encoded) == message


def test_every_message_has_an_example_and_a_handler_on_the_consumer():
    kinds = set(typing.get_args(messages.Message))
    assert {type(message) for message in EXAMPLES} == kinds
    for kind in kinds:
        assert callable(getattr(MeetConsumer, kind.type.replace(".", "_"), None)), kind.type
    assert callable(getattr(MeetConsumer, messages.SIGNAL.replace(".", "_"), None))


def test_a_relayed_signal_carries_its_frame_encoded_once():
    data = {"sdp": "v=0", "candidates": [1, 2]}
    frame = protocol.dumps(protocol.signal("m1", data))
    message = messages.signal("m1", frame)
    assert message == {"type": "meet.signal", "match_id": "m1", "frame": frame}
    assert messages.signal_frame(message) is frame


def test_a_relayed_signal_from_an_older_process_still_reads():
    data = {"sdp": "v=0", "candidates": [1, 2]}
    old = {"type": "meet.signal", "match_id": "m1", "data": data}
    assert messages.signal_frame(old) == protocol.dumps(protocol.signal("m1", data))


def test_a_matched_notice_from_an_older_process_still_reads():
    old = {"type": "meet.matched", "match_id": "m1", "ticket": "t1", "partner_channel": "c", "interests": []}
    assert messages.Matched.decode(old) == messages.Matched("m1", "t1", "c")
