"""Resuming a match on a new connection (docs/protocol.md), through the real ASGI app, on both backends."""

from __future__ import annotations

import asyncio
import time

import pytest

from matchmaking import get_matchmaker
from meet.session import resume_tokens
from tests.protocol_client import Peer, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)

UNCLEAN = 1006  # the socket broke without a close frame: what a network change looks like


async def resumable_pair() -> tuple[Peer, Peer, str, str]:
    """Two matched peers that both opted in: (waiting one, joining one, match_id, the joining one's token)."""
    first, second, match_id = await matched_pair(resume=True)
    matched, other = second.last("matched"), first.last("matched")
    assert other["resume"] != matched["resume"]
    return first, second, match_id, matched["resume"]


async def relays(sender: Peer, receiver: Peer, match_id: str, n: int) -> None:
    await sender.send({"type": "signal", "match_id": match_id, "data": {"n": n}})
    await receiver.expect("signal", match_id=match_id, data={"n": n})


async def test_matched_carries_a_token_only_for_a_client_that_opted_in(backend):
    first = await Peer.connect()
    await first.send({"type": "join"})
    await first.expect("waiting")
    second = await Peer.connect()
    await second.send({"type": "join", "resume": True})
    mine = await second.expect("matched")
    theirs = await first.expect("matched")
    assert "resume" not in theirs
    assert resume_tokens.peer_of(mine["resume"]) == second.hello["peer_id"]
    for peer in (first, second):
        await peer.close()


async def test_a_dropped_socket_resumes_its_match_on_a_new_one(backend):
    first, second, match_id, token = await resumable_pair()
    await second.communicator.disconnect(code=UNCLEAN)
    # Within the grace the stranger is told nothing: the call may come back.
    await first.nothing(0.5)
    again = await Peer.connect()
    await again.send({"type": "resume", "match_id": match_id, "token": token})
    resumed = await again.expect("resumed", match_id=match_id, polite=False)
    assert resumed["ice_servers"] == [] and resumed["interests"] == [] and resumed["languages"] == []
    await first.expect("partner_resumed", match_id=match_id)
    await relays(again, first, match_id, 1)
    await relays(first, again, match_id, 2)
    # Online: the two of them, not the new connection's own short-lived identity as well.
    assert (await get_matchmaker().snapshot()).online == 2

    # The token was good once; the one `resumed` carried serves the next drop.
    stranger = await Peer.connect()
    await stranger.send({"type": "resume", "match_id": match_id, "token": token})
    await stranger.expect("error", code="resume_failed")
    await again.communicator.disconnect(code=UNCLEAN)
    third = await Peer.connect()
    await third.send({"type": "resume", "match_id": match_id, "token": resumed["resume"]})
    await third.expect("resumed", match_id=match_id)
    await first.expect("partner_resumed", match_id=match_id)
    await relays(first, third, match_id, 3)
    # A resumed connection is admitted: its Next needs no new proof of work, and ends the match as usual.
    await third.send({"type": "next", "pow": None})
    await first.expect("partner_left", match_id=match_id, reason="next")
    await third.expect("waiting")
    for peer in (first, third, stranger):
        await peer.close()


async def test_a_newer_socket_takes_over_from_one_that_still_looks_open(backend):
    first, second, match_id, token = await resumable_pair()
    # The server never saw the old socket break (its network vanished): the new one supersedes it.
    again = await Peer.connect()
    await again.send({"type": "resume", "match_id": match_id, "token": token})
    await again.expect("resumed", match_id=match_id)
    await first.expect("partner_resumed", match_id=match_id)
    closed = await second.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4010}
    # The old socket going away afterwards ends nothing.
    await second.communicator.disconnect(code=UNCLEAN)
    await relays(first, again, match_id, 1)
    await relays(again, first, match_id, 2)
    await first.nothing(0.3)
    for peer in (first, again):
        await peer.close()


async def test_the_grace_runs_out_and_the_stranger_is_told(backend, settings):
    settings.MEET = {**settings.MEET, "RESUME_GRACE": 0.3}
    first, second, match_id, token = await resumable_pair()
    await second.communicator.disconnect(code=UNCLEAN)
    await first.expect("partner_left", match_id=match_id, reason="disconnect", timeout=5)
    late = await Peer.connect()
    await late.send({"type": "resume", "match_id": match_id, "token": token})
    await late.expect("error", code="resume_failed")
    # Nothing changed for the late connection: it joins as usual.
    await late.send({"type": "join", "resume": True})
    await late.expect("waiting")
    await first.send({"type": "join"})
    await first.expect("matched")
    await late.expect("matched")
    for peer in (first, late):
        await peer.close()


@pytest.mark.parametrize("code", [1000, 1001])
async def test_a_clean_close_ends_the_match_at_once(backend, code):
    first, second, match_id, _ = await resumable_pair()
    await second.communicator.disconnect(code=code)
    await first.expect("partner_left", match_id=match_id, reason="disconnect", timeout=2)
    await first.close()


async def test_a_client_that_did_not_opt_in_is_not_held(backend):
    first = await Peer.connect()
    await first.send({"type": "join", "resume": True})
    await first.expect("waiting")
    second = await Peer.connect()
    await second.send({"type": "join"})
    match_id = (await second.expect("matched"))["match_id"]
    await first.expect("matched")
    await second.communicator.disconnect(code=UNCLEAN)
    await first.expect("partner_left", match_id=match_id, reason="disconnect", timeout=2)
    await first.close()


async def test_bad_resumes_are_refused_and_change_nothing(backend):
    first, second, match_id, token = await resumable_pair()
    peer_id = second.hello["peer_id"]
    other = await Peer.connect()
    forged = f"{peer_id}.{'A' * 43}"
    for frame in (
        {"type": "resume", "match_id": match_id, "token": "not a token"},
        {"type": "resume", "match_id": match_id, "token": forged},
        {"type": "resume", "match_id": "another-match", "token": token},
        # The partner's own token names the partner: it cannot take the other side's place.
        {"type": "resume", "match_id": match_id, "token": resume_tokens.mint(peer_id, match_id, "specific.elsewhere")},
    ):
        await other.send(frame)
        await other.expect("error", code="resume_failed")
    for frame in (
        {"type": "resume", "match_id": match_id},
        {"type": "resume", "match_id": match_id, "token": "x" * 201},
        {"type": "join", "resume": "yes"},
    ):
        await other.send(frame)
        await other.expect("error", code="bad_message")
    # Not on a connection that is in a call or queued.
    await first.send({"type": "resume", "match_id": match_id, "token": token})
    await first.expect("error", code="bad_message")
    await other.send({"type": "join"})
    await other.expect("waiting")
    await other.send({"type": "resume", "match_id": match_id, "token": token})
    await other.expect("error", code="bad_message")
    # The match goes on untouched.
    await relays(first, second, match_id, 1)
    await relays(second, first, match_id, 2)
    for peer in (first, second, other):
        await peer.close()


async def test_a_resume_racing_the_end_of_the_grace_either_wins_or_fails_cleanly(backend, settings):
    settings.MEET = {**settings.MEET, "RESUME_GRACE": 0.05}
    for _ in range(10):
        first, second, match_id, token = await resumable_pair()
        await second.communicator.disconnect(code=UNCLEAN)
        again = await Peer.connect()
        await again.send({"type": "resume", "match_id": match_id, "token": token})
        answer = await again.receive()
        if answer["type"] == "resumed":
            await first.expect("partner_resumed", match_id=match_id)
            await relays(first, again, match_id, 1)
        else:
            assert answer["code"] == "resume_failed", answer
            await first.expect("partner_left", match_id=match_id, reason="disconnect")
        await asyncio.sleep(0.1)  # past the grace: a release that lost the race must not end the resumed call
        await first.nothing(0.1)
        for peer in (first, again):
            await peer.close()


async def test_a_long_call_gets_fresh_turn_credentials_on_request(backend, settings):
    settings.MEET = {
        **settings.MEET,
        "TURN_URLS": ["turn:127.0.0.1:3478?transport=udp"],
        "TURN_SECRET": "s3cret",
        "TURN_TTL": 120,
    }
    lonely = await Peer.connect()
    await lonely.send({"type": "refresh_ice_servers"})
    await lonely.expect("error", code="not_matched")
    first, second, _, _ = await resumable_pair()
    await second.send({"type": "refresh_ice_servers"})
    fresh = (await second.expect("ice_servers"))["ice_servers"]
    assert fresh[0]["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
    assert int(fresh[0]["username"].split(":")[0]) >= time.time() + 110  # good for a whole TURN_TTL from now
    # Once per call-length credential is what a browser needs; a script asking in a loop is told to wait.
    await second.send({"type": "refresh_ice_servers"})
    refused = await second.expect("error", code="rate_limited")
    assert 0 < refused["retry_after"] <= 30
    for peer in (first, second, lonely):
        await peer.close()
