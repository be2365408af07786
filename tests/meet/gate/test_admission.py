"""Admission to the queue: the rules version, the ALTCHA proof of work, and the Next limit."""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from altcha import create_challenge_v1

from conftest import REDIS_URL
from meet import protocol
from meet.gate.admission import hmac_key
from tests.admission_solver import solve
from tests.protocol_client import Peer, matched_pair
from tests.servers import migrate, server_env, servers

pytestmark = pytest.mark.django_db(transaction=True)


def raw(message: dict[str, Any]) -> str:
    """A frame sent exactly as written (the test peers otherwise add rules and a solution)."""
    return json.dumps(message)


def admitted(peer: Peer) -> dict[str, Any]:
    return {"rules": peer.hello["rules"], "pow": solve(peer.hello["challenge"])}


def admission_tag(peer: Peer) -> str:
    """The connection tag in the salt of the connection's challenge."""
    return parse_qs(peer.hello["challenge"]["salt"].split("?")[1])["conn"][0]


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def assert_not_queued(peer: Peer) -> None:
    """Nobody else is waiting: a newcomer who joins waits instead of meeting the refused peer."""
    other = await Peer.connect()
    await other.send({"type": "join"})
    await other.expect("waiting")
    await peer.nothing()
    await other.close()


async def test_hello_names_the_rules_and_carries_a_challenge(backend, settings):
    peer = await Peer.connect()
    assert peer.hello["rules"] == settings.ADMISSION["RULES_VERSION"]
    challenge = peer.hello["challenge"]
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxNumber"] == settings.ADMISSION["POW_MAX_NUMBER"]
    assert {"challenge", "salt", "signature"} <= challenge.keys()
    assert "expires=" in challenge["salt"]
    await peer.close()


@pytest.mark.parametrize("rules", [None, "", "2020-01-01"])
async def test_join_without_the_current_rules_is_refused_and_changes_nothing(backend, settings, rules):
    peer = await Peer.connect()
    message = {"type": "join", "pow": solve(peer.hello["challenge"])}
    if rules is not None:
        message["rules"] = rules
    await peer.send(raw(message))
    refused = await peer.expect("error", code=protocol.RULES_REQUIRED)
    assert refused["rules"] == settings.ADMISSION["RULES_VERSION"]
    assert "rules" in refused["message"] and "18" in refused["message"]
    await assert_not_queued(peer)
    # The solution was not spent by the refused join.
    await peer.send(raw({**message, "rules": peer.hello["rules"]}))
    await peer.expect("waiting")
    await peer.close()


async def test_next_before_admission_is_refused(backend):
    peer = await Peer.connect()
    await peer.send(raw({"type": "next"}))
    await peer.expect("error", code=protocol.RULES_REQUIRED)
    await peer.send(raw({"type": "next", "rules": peer.hello["rules"]}))
    await peer.expect("error", code=protocol.POW_REQUIRED)
    await assert_not_queued(peer)
    await peer.send(raw({"type": "next", **admitted(peer)}))
    await peer.expect("waiting")
    await peer.close()


async def test_every_join_names_the_rules_but_the_work_is_done_once(backend):
    peer = await Peer.connect()
    await peer.send(raw({"type": "join", **admitted(peer)}))
    await peer.expect("waiting")
    await peer.send(raw({"type": "join", "interests": ["chess"]}))
    await peer.expect("error", code=protocol.RULES_REQUIRED)
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "interests": ["chess"]}))
    await peer.expect("waiting")
    await peer.close()


async def test_join_without_a_solution_gets_pow_required_and_the_connections_challenge(backend):
    peer = await Peer.connect()
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"]}))
    refused = await peer.expect("error", code=protocol.POW_REQUIRED)
    # A refusal repeats the one challenge the connection holds: asking again gathers nothing new.
    assert refused["challenge"] == peer.hello["challenge"]
    await assert_not_queued(peer)
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solve(refused["challenge"])}))
    await peer.expect("waiting")
    await peer.close()


async def test_a_connection_holds_one_challenge_until_it_expires(backend, settings):
    settings.ADMISSION = {**settings.ADMISSION, "POW_EXPIRES": 5}
    peer = await Peer.connect()
    first = peer.hello["challenge"]
    for _ in range(3):
        await peer.send(raw({"type": "join", "rules": peer.hello["rules"]}))
        assert (await peer.expect("error", code=protocol.POW_REQUIRED))["challenge"] == first
    # Once it expired, and only then, the connection gets a new one, as tightly bound.
    expires = int(parse_qs(first["salt"].split("?")[1])["expires"][0])
    await until(lambda: time.time() > expires)
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solve(first)}))
    renewed = (await peer.expect("error", code=protocol.POW_EXPIRED))["challenge"]
    assert renewed["signature"] != first["signature"]
    assert parse_qs(renewed["salt"].split("?")[1])["conn"] == parse_qs(first["salt"].split("?")[1])["conn"]
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solve(renewed)}))
    await peer.expect("waiting")
    await peer.close()


async def test_a_challenge_admits_only_the_connection_it_was_issued_to(backend, settings):
    """Challenges gathered on one connection (cheap ones, before the address turned busy) admit no other."""
    settings.ADMISSION = {**settings.ADMISSION, "POW_BUSY_CONNECTS": 1, "POW_BUSY_MAX_NUMBER": 3000}
    address, other_address = (f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}" for _ in range(2))
    harvester = await Peer.connect(client=address)
    harvested = [harvester.hello["challenge"]]
    for _ in range(3):
        await harvester.send(raw({"type": "join", "rules": harvester.hello["rules"]}))
        harvested.append((await harvester.expect("error", code=protocol.POW_REQUIRED))["challenge"])
    solutions = [solve(challenge) for challenge in harvested]
    busy = await Peer.connect(client=address)
    assert busy.hello["challenge"]["maxNumber"] == 3000 > harvested[0]["maxNumber"]
    elsewhere = await Peer.connect(client=other_address)
    for peer, solution in ((busy, solutions[1]), (elsewhere, solutions[2])):
        await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solution}))
        await peer.expect("error", code=protocol.POW_INVALID)
    await assert_not_queued(busy)
    await assert_not_queued(elsewhere)
    # Each gets in with the challenge issued to it, the busy one with its harder one. One after the
    # other: sent together, either join may reach the queue first, and the second is matched at once.
    await busy.send(raw({"type": "join", **admitted(busy)}))
    await busy.expect("waiting")
    await elsewhere.send(raw({"type": "join", **admitted(elsewhere)}))
    await elsewhere.expect("matched")
    for peer in (harvester, busy, elsewhere):
        await peer.close()


async def test_asking_for_refusals_over_and_over_is_closed_as_a_flood(backend, settings):
    settings.MEET = {**settings.MEET, "FLOOD_CLOSE_AFTER": 5}
    peer = await Peer.connect()
    for _ in range(4):
        await peer.send(raw({"type": "join", "rules": peer.hello["rules"]}))
        await peer.expect("error", code=protocol.POW_REQUIRED)
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"]}))
    closed = await peer.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_FLOODING}


def tampered(solution: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**solution, **changes}


@pytest.mark.parametrize(
    "change",
    [
        "wrong_number",
        "forged_signature",
        "other_algorithm",
        "number_as_text",
        "missing_field",
        "huge_salt",
    ],
)
async def test_wrong_solution_gets_pow_invalid_and_changes_nothing(backend, change):
    peer = await Peer.connect()
    good = solve(peer.hello["challenge"])
    bad = {
        "wrong_number": lambda: tampered(good, number=good["number"] + 1),
        "forged_signature": lambda: tampered(good, signature="0" * 64),
        "other_algorithm": lambda: tampered(good, algorithm="SHA-1"),
        "number_as_text": lambda: tampered(good, number=str(good["number"])),
        "missing_field": lambda: {k: v for k, v in good.items() if k != "salt"},
        "huge_salt": lambda: tampered(good, salt="a" * 5000),
    }[change]()
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": bad}))
    refused = await peer.expect("error", code=protocol.POW_INVALID)
    assert refused["message"]
    await assert_not_queued(peer)
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": good}))
    await peer.expect("waiting")
    await peer.close()


async def test_a_challenge_signed_with_another_key_is_invalid(backend):
    peer = await Peer.connect()
    foreign = create_challenge_v1(
        max_number=100,
        hmac_key="not-our-key",
        expires=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5),
    ).to_dict()
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solve(foreign)}))
    await peer.expect("error", code=protocol.POW_INVALID)
    await peer.close()


async def test_expired_solution_gets_pow_expired(backend):
    peer = await Peer.connect()
    old = create_challenge_v1(
        max_number=100,
        hmac_key=hmac_key(),
        expires=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5),
        params={"conn": admission_tag(peer)},
    ).to_dict()
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solve(old)}))
    refused = await peer.expect("error", code=protocol.POW_EXPIRED)
    await assert_not_queued(peer)
    await peer.send(raw({"type": "join", "rules": peer.hello["rules"], "pow": solve(refused["challenge"])}))
    await peer.expect("waiting")
    await peer.close()


async def test_a_solution_opens_one_connection_only(backend):
    """Replayed on a second consumer (sharing Redis on the redis backend), a solution is refused."""
    first = await Peer.connect()
    solution = admitted(first)
    await first.send(raw({"type": "join", **solution}))
    await first.expect("waiting")
    second = await Peer.connect()
    await second.send(raw({"type": "join", **solution}))
    refused = await second.expect("error", code=protocol.POW_INVALID)
    assert refused["message"]
    # Its own challenge lets it in, and the first it hears of anyone is this match.
    await second.send(raw({"type": "join", **admitted(second)}))
    match_id = (await second.expect("matched"))["match_id"]
    await first.expect("matched", match_id=match_id)
    await first.close()
    await second.close()


async def test_difficulty_rises_for_an_address_that_connects_unusually_often(backend, settings):
    settings.ADMISSION = {**settings.ADMISSION, "POW_BUSY_CONNECTS": 3}
    address, other_address = (f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}" for _ in range(2))
    sizes = []
    for _ in range(5):
        peer = await Peer.connect(client=address)
        sizes.append(peer.hello["challenge"]["maxNumber"])
        await peer.close()
    normal, busy = settings.ADMISSION["POW_MAX_NUMBER"], settings.ADMISSION["POW_BUSY_MAX_NUMBER"]
    assert sizes == [normal, normal, normal, busy, busy]
    # Another address is not affected.
    other = await Peer.connect(client=other_address)
    assert other.hello["challenge"]["maxNumber"] == normal
    await other.close()


async def test_too_many_next_presses_are_refused_in_words_and_change_nothing(backend, settings):
    settings.MEET = {**settings.MEET, "NEXT_PER_MINUTE": 1}
    first = await Peer.connect()
    await first.send({"type": "join"})
    await first.expect("waiting")
    await first.send({"type": "next"})
    await first.expect("waiting")
    second = await Peer.connect()
    await second.send({"type": "join"})
    match_id = (await second.expect("matched"))["match_id"]
    await first.expect("matched", match_id=match_id)
    await first.send({"type": "next"})
    refused = await first.expect("error", code=protocol.RATE_LIMITED)
    assert "slow down" in refused["message"].lower()
    assert 0 < refused["retry_after"] <= 60
    await second.nothing()
    # The call goes on.
    await first.send({"type": "signal", "match_id": match_id, "data": {"candidate": None}})
    await second.expect("signal", match_id=match_id)
    # The other side was not limited by it.
    await second.send({"type": "next"})
    await first.expect("partner_left", reason="next")
    await first.close()
    await second.close()


async def test_leave_then_join_counts_as_next_towards_the_limit(backend, settings):
    settings.MEET = {**settings.MEET, "NEXT_PER_MINUTE": 1}
    first, second, match_id = await matched_pair()
    # Skipping by leave: the stranger is freed at once, as always.
    await first.send({"type": "leave"})
    await second.expect("partner_left", match_id=match_id, reason="leave")
    await first.send({"type": "leave"})  # leaving while not matched counts nothing
    # Joining again straight away would skip past the limit.
    await first.send({"type": "join"})
    refused = await first.expect("error", code=protocol.RATE_LIMITED)
    assert 0 < refused["retry_after"] <= 60
    # The stranger who was left behind may join again: being skipped never counts.
    await second.send({"type": "join"})
    await second.expect("waiting")
    await first.close()
    await second.close()


@pytest.mark.slow
@pytest.mark.redis
async def test_a_solution_is_refused_on_a_second_server_process(redis_prefix, tmp_path):
    environ = server_env(tmp_path, REDIS_URL=REDIS_URL, REDIS_PREFIX=redis_prefix, MATCH_LEASE="3")
    migrate(environ)
    with servers(2, environ, tmp_path) as (one, two):
        alice = await Peer.connect_to(one.ws_url)
        solution = {"rules": alice.hello["rules"], "pow": solve(alice.hello["challenge"])}
        await alice.send({"type": "join", **solution})
        await alice.expect("waiting")
        bob = await Peer.connect_to(two.ws_url)
        await bob.send({"type": "join", **solution})
        await bob.expect("error", code=protocol.POW_INVALID)
        await bob.send({"type": "join"})
        await bob.expect("matched")
        await alice.close()
        await bob.close()
