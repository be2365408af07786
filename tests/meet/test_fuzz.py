"""Property-based fuzzing of frames: the server answers per docs/protocol.md and never raises."""

import json
import logging

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from meet import protocol
from tests.meet.conftest import Peer

pytestmark = pytest.mark.django_db(transaction=True)

SERVER_TYPES = {"hello", "waiting", "matched", "signal", "partner_left", "online", "error"}
ERROR_CODES = {"bad_json", "bad_message", "too_large", "not_matched", "rate_limited", "unavailable"}
ERROR_CODES |= {"rules_required", "pow_required", "pow_invalid", "pow_expired"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
message_types = st.sampled_from(["join", "signal", "next", "leave", "report", "hello", "", "JOIN"]) | st.text(
    max_size=8
)
messages = st.fixed_dictionaries(
    {"type": message_types},
    optional={
        "interests": st.lists(st.text(max_size=30), max_size=7) | json_values,
        "match_id": st.text(max_size=70) | json_values,
        "data": json_values,
        "reason": st.sampled_from(["spam", "nudity", "x"]) | json_values,
    },
)
frames = st.one_of(
    messages.map(json.dumps),
    json_values.map(json.dumps),
    # The test communicator cannot send an empty frame; a real socket's empty frame is bad_json like any other.
    st.text(min_size=1, max_size=60),
    st.binary(min_size=1, max_size=40),
)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames, min_size=1, max_size=8))
async def test_fuzzed_frames_are_answered_per_protocol(backend, caplog, batch):
    caplog.set_level(logging.WARNING)
    peer = await Peer.connect()
    for frame in batch:
        if isinstance(frame, bytes):
            await peer.communicator.send_to(bytes_data=frame)
        else:
            await peer.send(frame)
    # Whatever was sent, the connection is still open: an oversized probe (no fuzzed
    # frame is that large) is answered after every earlier frame's answer.
    await peer.send("x" * (protocol.MAX_FRAME_BYTES + 1))
    while True:
        message = await peer.receive()
        assert message["type"] in SERVER_TYPES, message
        if message["type"] == "error":
            assert message["code"] in ERROR_CODES, message
            assert isinstance(message["message"], str) and message["message"]
            if message["code"] == "too_large":
                break
    await peer.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
