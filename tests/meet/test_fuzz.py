"""Property-based fuzzing of frames: the server answers per docs/protocol.md and never raises.

Hostile frames (deep nesting, lone surrogates, huge numbers, data that is no object) are fuzzed
on both matchmaking backends and through the Redis channel layer, whose msgpack encoding is
stricter than JSON.
"""

import base64
import json
import logging

import pytest
from channels.layers import get_channel_layer
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from conftest import REDIS_URL
from matchmaking.memory import STORE
from meet import protocol
from tests.meet.conftest import matchmaker_settings
from tests.protocol_client import Peer, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)

SERVER_TYPES = {"hello", "waiting", "matched", "signal", "partner_left", "online", "error", "reported"}
SERVER_TYPES |= {"resumed", "partner_resumed", "ice_servers"}
ERROR_CODES = {"bad_json", "bad_message", "too_large", "not_matched", "rate_limited", "unavailable"}
ERROR_CODES |= {"rules_required", "pow_required", "pow_invalid", "pow_expired", "resume_failed"}
REFUSALS = {"bad_json", "bad_message", "too_large"}
MATCH = "MATCH-ID"  # replaced by the pair's real match_id

# Text with lone UTF-16 surrogates mixed in; json.dumps writes them as "\ud800" escapes.
hostile_text = st.text(
    alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010) | st.sampled_from('ab\\"é👽'), max_size=12
)
huge_numbers = (
    st.integers(min_value=2**53 - 2, max_value=2**70)
    | st.integers(min_value=-(2**70), max_value=-(2**53) + 2)
    | st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308, -1e-308])
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | hostile_text
    | huge_numbers
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | hostile_text, inner, max_size=4),
    max_leaves=10,
)


@st.composite
def deeply_nested(draw: st.DrawFn) -> str:
    """JSON text nested far past the limit (and past Python's recursion limit), built as text."""
    depth = draw(st.sampled_from([16, 17, 600, 1000, 5000]))  # the documented limit is 16
    opener, closer = draw(st.sampled_from([('{"a":', "}"), ("[", "]")]))
    return opener * depth + draw(st.sampled_from(["1", '"x"', "{}"])) + closer * depth


def signal_text(match_id: str, data: str) -> str:
    return f'{{"type":"signal","match_id":{json.dumps(match_id)},"data":{data}}}'


data_texts = (
    json_values.map(json.dumps)
    | deeply_nested()
    | st.integers(min_value=17, max_value=4500).map(lambda digits: "9" * digits)
)
FRAME_TYPES = ("join", "signal", "next", "leave", "report", "resume", "connection_report", "refresh_ice_servers")
message_types = st.sampled_from([*FRAME_TYPES, "hello", "", "JOIN"]) | st.text(max_size=8)
# A report's evidence: a snapshot (base64 of anything, or not base64 at all) and chat lines.
evidence = (
    st.fixed_dictionaries(
        {},
        optional={
            "snapshot": st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode())
            | hostile_text
            | json_values,
            "chat": st.lists(
                st.fixed_dictionaries(
                    {"side": st.sampled_from(["me", "stranger", "x"]) | json_values, "text": scalars}
                ),
                max_size=22,
            )
            | json_values,
        },
    )
    | json_values
)
messages = st.fixed_dictionaries(
    {"type": message_types},
    optional={
        "interests": st.lists(st.text(max_size=30) | hostile_text, max_size=7) | json_values,
        "languages": st.lists(st.sampled_from(["es", "pt-BR", "zh-Hant-TW", "x", "en_US"]) | hostile_text, max_size=5)
        | json_values,
        "match_id": st.text(max_size=70) | json_values,
        "data": json_values,
        "reason": st.sampled_from(["spam", "nudity", "x"]) | json_values,
        "evidence": evidence,
        "token": st.text(max_size=120) | hostile_text | json_values,
        "resume": st.booleans() | json_values,
        "outcome": st.sampled_from(["direct", "relayed", "failed", "x"]) | json_values,
        "connect_ms": st.integers(min_value=-5, max_value=200_000) | huge_numbers | json_values,
    },
)
frames = st.one_of(
    messages.map(json.dumps),
    json_values.map(json.dumps),
    st.builds(signal_text, st.text(max_size=10), data_texts),
    st.builds(lambda i: json.dumps({"type": "join", "interests": ["music", i]}), hostile_text),
    deeply_nested(),
    # The test communicator cannot send an empty frame; a real socket's empty frame is bad_json like any other.
    st.text(min_size=1, max_size=60),
    st.binary(min_size=1, max_size=40),
)
# Signals for the pair's own match: the ones the server accepts are relayed through the channel layer.
signals = st.builds(signal_text, st.just(MATCH), data_texts) | st.builds(
    lambda data: json.dumps({"type": "signal", "match_id": MATCH, "data": data}), json_values
)


@pytest.fixture(params=["memory", "redis", "redis+layer"])
async def stack(request, settings):
    """Both matchmaking backends, and the Redis backend behind the Redis (pub/sub, msgpack) channel layer."""
    STORE.clear()
    backend, _, layer = request.param.partition("+")
    prefix = request.getfixturevalue("redis_prefix") if backend == "redis" else ""
    settings.MATCHMAKER = matchmaker_settings(backend, prefix)
    settings.MEET = {**settings.MEET, "RATE_BURST": 100_000, "RATE_PER_SECOND": 100_000}
    if layer:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "transport.layer.ResilientRedisChannelLayer",
                "CONFIG": {"hosts": [{"address": REDIS_URL}], "prefix": f"{prefix}asgi"},
            }
        }
    yield request.param
    if layer:
        await get_channel_layer().flush()
    STORE.clear()


def parsed_data(text: str) -> object:
    try:
        return json.loads(text)["data"]
    except (ValueError, RecursionError):
        return None


def no_errors_logged(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames, min_size=1, max_size=8))
async def test_fuzzed_frames_are_answered_per_protocol(stack, caplog, batch):
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
    no_errors_logged(caplog)


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(signals, min_size=1, max_size=6))
async def test_fuzzed_signals_are_relayed_intact_or_refused(stack, caplog, batch):
    """Every signal for the current match reaches the partner unchanged or is refused with a documented
    code; either way both connections and the match survive, and a disconnect still frees the partner."""
    caplog.set_level(logging.WARNING)
    first, second, match_id = await matched_pair()
    try:
        texts = [frame.replace(MATCH, match_id) for frame in batch]
        for text in texts:
            await second.send(text)
        probe = {"candidate": {"candidate": "probe", "sdpMid": "0"}}
        await second.send({"type": "signal", "match_id": match_id, "data": probe})
        await second.send("x" * (protocol.MAX_FRAME_BYTES + 1))
        # Answers come in order: each frame is either refused to its sender or relayed to the partner.
        refused = []
        while (message := await second.receive())["type"] != "error" or message["code"] != "too_large":
            assert message["type"] == "error" and message["code"] in REFUSALS, message
            refused.append(message["code"])
        relayed = []
        while (message := await first.receive()) != {"type": "signal", "match_id": match_id, "data": probe}:
            assert message["type"] == "signal" and message["match_id"] == match_id, message
            relayed.append(message["data"])
        assert len(refused) + len(relayed) == len(texts)
        # What was relayed is exactly what the sender's accepted frames carried, in order.
        remaining = iter(texts)
        for data in relayed:
            assert any(parsed_data(text) == data for text in remaining), data
        await second.close()
        await first.expect("partner_left", match_id=match_id, reason="disconnect")
    finally:
        await first.close()
        await second.close()
    no_errors_logged(caplog)
