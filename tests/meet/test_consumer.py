"""The protocol, message by message, through the real ASGI app, on both backends."""

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from alienmeet_site.asgi import application
from callstats.models import MatchEvent
from matchmaking import Matched, get_matchmaker
from meet import protocol
from tests.protocol_client import Peer, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)


async def test_hello(backend):
    peer = await Peer.connect()
    hello = peer.hello
    assert hello["protocol"] == 1
    assert len(hello["peer_id"]) >= 20
    assert hello["online"] >= 1
    assert hello["ice_servers"] == []
    other = await Peer.connect()
    assert other.hello["peer_id"] != hello["peer_id"]
    await peer.close()
    await other.close()


def _check_turn_credential(turn: dict, secret: bytes, ttl: int) -> str:
    assert turn["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
    expiry, label = turn["username"].split(":")
    assert ttl - 10 <= int(expiry) - time.time() <= ttl + 1
    expected = base64.b64encode(hmac.new(secret, turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
    return label


TURN_SETTINGS = {
    "STUN_URLS": ["stun:127.0.0.1:3478"],
    "TURN_URLS": ["turn:127.0.0.1:3478?transport=udp"],
    "TURN_SECRET": "s3cret",
    "TURN_TTL": 120,
}


async def test_every_match_mints_fresh_turn_credentials(backend, settings):
    settings.MEET = {**settings.MEET, **TURN_SETTINGS}
    stun = {"urls": ["stun:127.0.0.1:3478"]}
    labels = []
    first, second = await Peer.connect(), await Peer.connect()
    await first.send({"type": "join"})
    await first.expect("waiting")
    await second.send({"type": "join"})
    for side in (second, first):
        servers = (await side.expect("matched"))["ice_servers"]
        assert servers[0] == stun
        labels.append(_check_turn_credential(servers[1], b"s3cret", 120))
        # Nothing in the credential (which coturn sees and may log) names the signaling connection.
        assert side.hello["peer_id"] not in servers[1]["username"]
    # The next match brings yet another credential.
    await second.send({"type": "next"})
    await first.expect("partner_left")
    third = await Peer.connect()
    await third.send({"type": "join"})
    again = await third.expect("matched")
    labels.append(_check_turn_credential(again["ice_servers"][1], b"s3cret", 120))
    assert len(set(labels)) == len(labels), "a credential was handed out twice"
    for peer in (first, second, third):
        await peer.close()


async def test_a_socket_that_was_never_admitted_never_gets_a_turn_credential(backend, settings):
    """hello says a relay is offered and carries STUN only; the relay's credentials come once admitted."""
    settings.MEET = {**settings.MEET, **TURN_SETTINGS}
    peer = await Peer.connect()
    assert peer.hello["ice_servers"] == [{"urls": ["stun:127.0.0.1:3478"]}]
    assert peer.hello["relay"] is True
    frames = [peer.hello]
    await peer.send({"type": "refresh_ice_servers"})
    frames.append(await peer.expect("error", code=protocol.NOT_MATCHED))
    await peer.send(json.dumps({"type": "join", "rules": peer.hello["rules"]}))
    frames.append(await peer.expect("error", code=protocol.POW_REQUIRED))
    await peer.send(json.dumps({"type": "join", "rules": peer.hello["rules"], "pow": {"number": 1}}))
    frames.append(await peer.expect("error", code=protocol.POW_INVALID))
    await peer.send({"type": "refresh_ice_servers"})
    frames.append(await peer.expect("error", code=protocol.NOT_MATCHED))
    assert not any("username" in json.dumps(frame) or "turn:" in json.dumps(frame) for frame in frames), frames
    await peer.close()
    # Without a relay configured, hello says so.
    settings.MEET = {**settings.MEET, "TURN_URLS": []}
    other = await Peer.connect()
    assert other.hello["relay"] is False
    await other.close()


async def test_match_and_relay_both_ways(backend):
    first, second, match_id = await matched_pair()
    offer = {"description": {"type": "offer", "sdp": "v=0\r\n…ünïcode"}}
    await second.send({"type": "signal", "match_id": match_id, "data": offer})
    assert await first.expect("signal", match_id=match_id) == {"type": "signal", "match_id": match_id, "data": offer}
    answer = {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}}
    await first.send({"type": "signal", "match_id": match_id, "data": answer})
    await second.expect("signal", data=answer)
    await first.close()
    await second.close()


async def test_interests_are_normalized_and_shared_ones_reported(backend):
    first, second, _ = await matched_pair(interests=["  Music ", "CHESS", "music"])
    await first.close()
    await second.close()
    a = await Peer.connect()
    await a.send({"type": "join", "interests": ["Chess", "art"]})
    await a.expect("waiting")
    b = await Peer.connect()
    await b.send({"type": "join", "interests": [" chess", "music"]})
    matched = await b.expect("matched", interests=["chess"])
    await a.expect("matched", interests=["chess"], match_id=matched["match_id"])
    await a.close()
    await b.close()


async def test_next_tells_partner_and_requeues(backend):
    first, second, match_id = await matched_pair()
    await second.send({"type": "next"})
    await first.expect("partner_left", match_id=match_id, reason="next")
    await second.expect("waiting")
    # A late signal for the old match never reaches anyone.
    await first.send({"type": "signal", "match_id": match_id, "data": {"candidate": None}})
    await first.expect("error", code="not_matched")
    await second.nothing()
    third = await Peer.connect()
    await third.send({"type": "join"})
    matched = await third.expect("matched")
    await second.expect("matched", match_id=matched["match_id"], polite=True)
    for peer in (first, second, third):
        await peer.close()


async def test_leave_ends_match_and_stays_connected(backend):
    first, second, match_id = await matched_pair()
    await first.send({"type": "leave"})
    await second.expect("partner_left", match_id=match_id, reason="leave")
    await second.send({"type": "signal", "match_id": match_id, "data": {}})
    await second.expect("error", code="not_matched")
    await first.send({"type": "join"})
    await first.expect("waiting")
    await first.send({"type": "leave"})
    await first.nothing()
    third = await Peer.connect()
    await third.send({"type": "join"})
    await third.expect("waiting")
    for peer in (first, second, third):
        await peer.close()


async def test_disconnect_tells_partner(backend):
    first, second, match_id = await matched_pair()
    await second.close()
    await first.expect("partner_left", match_id=match_id, reason="disconnect")
    await first.close()


async def test_join_during_call_is_refused(backend):
    first, second, _ = await matched_pair()
    await first.send({"type": "join"})
    await first.expect("error", code="bad_message")
    await first.close()
    await second.close()


async def test_match_events_are_recorded_without_identifiers(backend):
    first, second, _ = await matched_pair(interests=["space"])
    await first.send({"type": "next"})
    await second.expect("partner_left", reason="next")
    await first.expect("waiting")
    await first.close()
    await second.close()
    # Events are written in batches, about once a second.
    for _ in range(50):
        events = [event async for event in MatchEvent.objects.all()]
        if events:
            break
        await asyncio.sleep(0.1)
    assert len(events) == 1
    event = events[0]
    assert event.end_reason == "next" and event.interest_matched is True
    assert event.duration_seconds >= 0 and event.wait_seconds >= event.partner_wait_seconds >= 0
    row = json.dumps({f.name: str(getattr(event, f.name)) for f in MatchEvent._meta.fields})
    assert first.hello["peer_id"] not in row and second.hello["peer_id"] not in row


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("{", "bad_json"),
        ("[1, 2]", "bad_message"),
        ('"join"', "bad_message"),
        ("{}", "bad_message"),
        ('{"type": 5}', "bad_message"),
        ('{"type": "dance"}', "bad_message"),
        ('{"type": "join", "interests": "music"}', "bad_message"),
        ('{"type": "join", "interests": ["a", "b", "c", "d", "e", "f"]}', "bad_message"),
        ('{"type": "join", "interests": ["   "]}', "bad_message"),
        ('{"type": "join", "interests": ["' + "x" * 25 + '"]}', "bad_message"),
        ('{"type": "join", "interests": [7]}', "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": "sdp"}', "bad_message"),
        ('{"type": "signal", "data": {}}', "bad_message"),
        ('{"type": "signal", "match_id": 3, "data": {}}', "bad_message"),
        ('{"type": "signal", "match_id": "nope", "data": {}}', "not_matched"),
        # Past the limits every hop between the browsers can carry (docs/protocol.md).
        ('{"type": "signal", "match_id": "m", "data": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}", "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": ' + "[" * 20000 + "]" * 20000 + "}", "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"a": ' + "[" * 15 + "]" * 15 + "}}", "bad_message"),
        ('{"type": "join", "interests": ["music", "\\ud800"]}', "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"sdp": "v=0\\udfff"}}', "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"\\ud800": 1}}', "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"n": 9007199254740992}}', "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"n": -' + "9" * 5000 + "}}", "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"n": 1e999}}', "bad_message"),
        ('{"type": "signal", "match_id": "m", "data": {"n": NaN}}', "bad_json"),
        ('{"type": "signal", "match_id": "m", "data": {"n": -Infinity}}', "bad_json"),
        ('{"type": "signal", "match_id": "m", "data": 12}', "bad_message"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_stays(backend, frame, code):
    peer = await Peer.connect()
    await peer.send(frame)
    error = await peer.expect("error", code=code)
    assert error["message"]
    await peer.send({"type": "join"})
    await peer.expect("waiting")
    await peer.close()


async def test_too_large_and_binary_frames(backend):
    peer = await Peer.connect()
    big = {"type": "signal", "match_id": "m", "data": {"sdp": "x" * protocol.MAX_FRAME_BYTES}}
    await peer.send(big)
    await peer.expect("error", code="too_large")
    await peer.send("é" * (protocol.MAX_FRAME_BYTES // 2 + 10))
    await peer.expect("error", code="too_large")
    await peer.communicator.send_to(bytes_data=b"\x00\x01")
    await peer.expect("error", code="bad_message")
    await peer.send({"type": "join"})
    await peer.expect("waiting")
    await peer.close()


async def test_largest_allowed_signal_is_relayed(backend):
    first, second, match_id = await matched_pair()
    envelope = len(json.dumps({"type": "signal", "match_id": match_id, "data": {"sdp": ""}}))
    data = {"sdp": "y" * (protocol.MAX_FRAME_BYTES - envelope)}
    await second.send({"type": "signal", "match_id": match_id, "data": data})
    assert (await first.expect("signal"))["data"] == data
    await first.close()
    await second.close()


async def test_rate_limit_then_close_for_flooding(backend, settings):
    settings.MEET = {**settings.MEET, "RATE_BURST": 5, "RATE_PER_SECOND": 1, "FLOOD_CLOSE_AFTER": 30}
    peer = await Peer.connect()
    for _ in range(5):
        await peer.send({"type": "signal", "match_id": "m", "data": {}})
        await peer.expect("error", code="not_matched")
    await peer.send({"type": "signal", "match_id": "m", "data": {}})
    await peer.expect("error", code="rate_limited")
    for _ in range(40):
        await peer.send({"type": "leave"})
    closed = await peer.communicator.receive_output(timeout=5)
    while closed["type"] != "websocket.close":
        closed = await peer.communicator.receive_output(timeout=5)
    assert closed["code"] == protocol.CLOSE_FLOODING


async def test_foreign_origin_is_refused(backend):
    communicator = WebsocketCommunicator(application, "/ws/meet/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
    await communicator.disconnect()


async def test_online_count_is_pushed(backend):
    first = await Peer.connect()
    second = await Peer.connect()
    seen = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = json.loads(await first.communicator.receive_from(timeout=5))
        if message["type"] == "online":
            seen = message["count"]
            if seen == 2:
                break
    assert seen == 2
    await second.close()
    await first.close()


async def test_data_within_the_limits_is_relayed_unchanged(backend):
    first, second, match_id = await matched_pair()
    # The frame's object, data, 13 arrays and the innermost object: 16 levels, the most allowed.
    deep = {"n": 9007199254740991, "m": -9007199254740991}
    for _ in range(13):
        deep = [deep]
    data = {"a": deep, "alien": "👽"}  # sent as the paired escape "\ud83d\udc7d"
    await second.send({"type": "signal", "match_id": match_id, "data": data})
    assert (await first.expect("signal"))["data"] == data
    await first.close()
    await second.close()


async def test_a_failing_handler_is_answered_and_cleanup_still_runs(backend, monkeypatch, caplog):
    """Whatever raises inside a handler, the connection stays, and its disconnect frees the partner."""
    first, second, match_id = await matched_pair()
    layer = get_channel_layer()
    original = layer.send

    async def broken_send(channel, message):
        if message["type"] == "meet.signal":
            raise RuntimeError("unexpected")
        await original(channel, message)

    monkeypatch.setattr(layer, "send", broken_send)
    await second.send({"type": "signal", "match_id": match_id, "data": {"candidate": None}})
    await second.expect("error", code="bad_message")
    assert "event=handler_failed" in caplog.text
    await second.close()
    await first.expect("partner_left", match_id=match_id, reason="disconnect")
    await first.close()
    snapshot = await get_matchmaker().snapshot()
    assert (snapshot.online, snapshot.waiting, snapshot.in_calls) == (0, 0, 0)


async def test_a_failing_report_hand_over_at_close_still_frees_the_partner(backend, monkeypatch, caplog):
    """Leaving the address hash behind for late reports may fail (a database or Redis error): the partner
    is still told at once and the closing side leaves the shared state."""
    from moderation import service as moderation

    async def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(moderation, "leave_hash_behind", broken)
    monkeypatch.setattr(moderation, "take_reports", broken)
    first, second, match_id = await matched_pair()
    await second.close()
    await first.expect("partner_left", match_id=match_id, reason="disconnect")
    assert "event=report_forwarding_failed" in caplog.text
    await first.close()
    snapshot = await get_matchmaker().snapshot()
    assert (snapshot.online, snapshot.waiting, snapshot.in_calls) == (0, 0, 0)


async def test_cleanup_runs_even_when_the_handler_is_cancelled(backend):
    first, second, match_id = await matched_pair()
    # The server gives up on the application (as daphne does once a socket is long gone).
    second.communicator.future.cancel()
    await first.expect("partner_left", match_id=match_id, reason="disconnect")
    assert (await get_matchmaker().snapshot()).online == 1
    await first.close()


async def test_leave_racing_a_match_ends_that_match(backend):
    """A waiting visitor leaves at the very moment a newcomer's join matches them: the newcomer is
    never left in a call with nobody, and the leaver's next join is answered."""
    for trial in range(40):
        leaver = await Peer.connect()
        await leaver.send({"type": "join"})
        await leaver.expect("waiting")
        joiner = await Peer.connect()
        # Vary which side's frame the server reaches first, around the instant of the match.
        first, second = (leaver, joiner) if trial % 2 else (joiner, leaver)
        frames = {leaver: {"type": "leave"}, joiner: {"type": "join"}}
        await first.send(frames[first])
        for _ in range(trial % 4):
            await asyncio.sleep(0)
        await second.send(frames[second])
        answer = await joiner.receive()
        if answer["type"] == "matched":
            await joiner.expect("partner_left", match_id=answer["match_id"], reason="leave", timeout=3)
        else:
            assert answer["type"] == "waiting", answer
        await leaver.send({"type": "join"})
        reply = await leaver.receive(timeout=3)
        assert reply["type"] in {"waiting", "matched"}, reply
        await joiner.close()
        await leaver.close()
        snapshot = await get_matchmaker().snapshot()
        assert (snapshot.online, snapshot.waiting, snapshot.in_calls) == (0, 0, 0)


async def test_reported_stranger_is_not_matched_again_after_reconnecting(backend):
    reporter, reported, match_id = await matched_pair(addresses=("198.51.100.7", "203.0.113.9"))
    await reporter.send({"type": "report", "match_id": match_id, "reason": "spam"})
    await reporter.expect("reported", match_id=match_id)
    await reporter.expect("waiting")
    await reported.expect("partner_left", match_id=match_id, reason="next")
    # A new socket from the same address is the same stranger.
    await reported.close()
    reported = await Peer.connect(client="203.0.113.9")
    await reported.send({"type": "join"})
    await reported.expect("waiting")
    # Both wait, apart: two newcomers are paired one with each, never the two of them together.
    newcomers = []
    for address in ("192.0.2.1", "192.0.2.2"):
        newcomer = await Peer.connect(client=address)
        await newcomer.send({"type": "join"})
        newcomers.append((newcomer, (await newcomer.expect("matched"))["match_id"]))
    reporters = (await reporter.expect("matched"))["match_id"]
    reporteds = (await reported.expect("matched"))["match_id"]
    assert reporters != reporteds and {reporters, reporteds} == {match for _, match in newcomers}
    for peer in (reporter, reported, *(newcomer for newcomer, _ in newcomers)):
        await peer.close()


async def test_a_matched_notice_that_never_comes_does_not_strand_the_visitor(backend):
    """Matched in the shared state, but the partner's notice was lost (published while this
    visitor's channel was not subscribed, as right after a Redis outage): the visitor takes the
    match by itself, as the polite side, and relays to the partner."""
    waiting = await Peer.connect()
    await waiting.send({"type": "join", "interests": ["chess"]})
    await waiting.expect("waiting")
    mm = get_matchmaker()
    # A channel of its own: on Redis, a channel outlives a test run for a while.
    partner_channel = f"silent-partner-{time.time_ns()}"
    await mm.register("silent", partner_channel)
    result = await mm.join("silent", "t", ("chess",))
    assert isinstance(result, Matched)
    await waiting.expect("matched", timeout=5, match_id=result.match_id, polite=True, interests=["chess"])
    await waiting.send({"type": "signal", "match_id": result.match_id, "data": {"candidate": None}})
    # Relayed: it is on the partner's channel.
    relayed = await asyncio.wait_for(get_channel_layer().receive(partner_channel), 5)
    assert relayed["type"] == "meet.signal" and relayed["match_id"] == result.match_id
    # Not refused: the next frame is the answer to what follows (a join while in a call), not not_matched.
    await waiting.send({"type": "join"})
    await waiting.expect("error", code=protocol.BAD_MESSAGE)
    await waiting.close()
