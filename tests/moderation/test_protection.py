"""Protection that works while staff sleep: the automatic ban by different reporters, the report
quota per reporter, and bans that close connections already open, on every process."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import websockets
from channels.db import database_sync_to_async
from django.utils.crypto import salted_hmac

from conftest import REDIS_URL
from meet import protocol
from moderation.addresses import HASH_SALT, address_hash
from moderation.decisions import decide
from moderation.models import Ban, Decision, Report, ReportedAddress
from moderation.reports import Filing, allow_report, file_report, reporter_key
from tests.moderation.test_evidence import noisy_jpeg
from tests.moderation.test_moderation import ALICE_IP, BOB_IP
from tests.operator_shell import ban_from_another_process, run_once
from tests.protocol_client import Peer, matched_pair
from tests.servers import migrate, server_env, servers

REPORTER_IPS = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
CAROL_IP = "192.0.2.44"

pytestmark = pytest.mark.django_db(transaction=True)


async def expect_banned(peer: Peer) -> dict:
    message = await peer.expect("error", code=protocol.BANNED)
    closed = await peer.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_BANNED}
    return message


async def test_three_different_reporters_ban_at_once_and_escalate(backend, settings):
    bob = await Peer.connect(client=BOB_IP)
    for number, ip in enumerate(REPORTER_IPS, start=1):
        reporter = await Peer.connect(client=ip)
        await reporter.send({"type": "join"})
        await reporter.expect("waiting")
        await bob.send({"type": "join"})
        match_id = (await bob.expect("matched"))["match_id"]
        await reporter.expect("matched", match_id=match_id)
        await reporter.send({"type": "report", "match_id": match_id, "reason": "nudity"})
        await reporter.expect("reported", match_id=match_id)
        await bob.expect("partner_left", match_id=match_id)
        await reporter.close()
        if number < len(REPORTER_IPS):
            assert not await database_sync_to_async(Ban.objects.exists)()
    message = await expect_banned(bob)
    assert "banned" in message["message"]
    ban = await database_sync_to_async(Ban.objects.get)()
    assert ban.ip_hash == address_hash(BOB_IP)
    hours = (ban.until - ban.created_at).total_seconds() / 3600
    assert abs(hours - settings.MODERATION["AUTO_BAN_HOURS"]) < 0.01
    escalated = await database_sync_to_async(lambda: list(Report.objects.values_list("escalated", flat=True)))()
    assert escalated == [True, True, True]
    decision = await database_sync_to_async(Decision.objects.get)()
    assert decision.action == Decision.Action.AUTO_BAN and decision.decided_by is None
    # The stored reports say nothing of who reported.
    stored = json.dumps(await database_sync_to_async(lambda: list(Report.objects.values("chat", "reason")))())
    assert not any(ip in stored for ip in REPORTER_IPS)


async def test_one_reporter_alone_never_bans(backend):
    key = reporter_key(address_hash(ALICE_IP))
    for _ in range(5):
        await file_report(address_hash(BOB_IP), Filing(reason="spam", reporter_key=key))
    # Reporters whose address is unknown never count either.
    for _ in range(3):
        await file_report(address_hash(BOB_IP), Filing(reason="spam"))
    assert await database_sync_to_async(Report.objects.count)() == 8
    assert not await database_sync_to_async(Ban.objects.exists)()
    for ip in REPORTER_IPS[:2]:
        await file_report(address_hash(BOB_IP), Filing(reason="spam", reporter_key=reporter_key(address_hash(ip))))
    assert await database_sync_to_async(Ban.objects.count)() == 1


async def test_reporters_are_told_apart_without_naming_them(settings):
    first, second = reporter_key(address_hash(ALICE_IP)), reporter_key(address_hash(CAROL_IP))
    assert first and second and first != second
    assert first == reporter_key(address_hash(ALICE_IP))
    assert first not in address_hash(ALICE_IP) and ALICE_IP not in first
    assert reporter_key("") == ""


async def test_reporter_quota_within_the_window(backend, settings):
    settings.MODERATION = {**settings.MODERATION, "REPORTS_PER_REPORTER": 2}
    key = reporter_key(address_hash(ALICE_IP))
    assert [await allow_report(key) for _ in range(3)] == [True, True, False]
    assert await allow_report(reporter_key(address_hash(CAROL_IP)))


async def test_extra_reports_are_rate_limited_and_file_nothing(backend, settings):
    settings.MODERATION = {**settings.MODERATION, "REPORTS_PER_REPORTER": 1}
    alice = await Peer.connect(client=ALICE_IP)
    await alice.send({"type": "join"})
    await alice.expect("waiting")
    for number, ip in enumerate((BOB_IP, CAROL_IP)):
        stranger = await Peer.connect(client=ip)
        await stranger.send({"type": "join"})
        match_id = (await stranger.expect("matched"))["match_id"]
        await alice.expect("matched", match_id=match_id)
        await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
        if number == 0:
            await alice.expect("reported", match_id=match_id)
            await alice.expect("waiting")
            # The stranger's own connection files the report before it hears the call ended.
            await stranger.expect("partner_left", match_id=match_id)
        else:
            refused = await alice.expect("error", code=protocol.RATE_LIMITED)
            assert "Too many reports" in refused["message"]
            # Nothing was reported and the call goes on: the stranger's next frame is Alice's signal.
            await alice.send({"type": "signal", "match_id": match_id, "data": {"still": "here"}})
            await stranger.expect("signal", match_id=match_id, data={"still": "here"})
        await stranger.close()
    hashes = await database_sync_to_async(lambda: list(ReportedAddress.objects.values_list("ip_hash", flat=True)))()
    assert hashes == [address_hash(BOB_IP)]
    await alice.close()


async def test_a_ban_closes_every_open_connection_of_the_address(backend):
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    bob_again = await Peer.connect(client=BOB_IP)  # a second tab, not in a call
    await alice.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await alice.expect("reported", match_id=match_id)
    await alice.expect("waiting")
    await alice.send({"type": "leave"})
    await bob.expect("partner_left", match_id=match_id)
    await bob.send({"type": "join"})
    await bob.expect("waiting")
    address = await database_sync_to_async(ReportedAddress.objects.get)()
    await database_sync_to_async(decide)(address, Decision.Action.BAN_7, None)
    for peer in (bob, bob_again):
        message = await expect_banned(peer)
        assert message["until"]
    # Alice's own connection is untouched.
    await alice.send({"type": "join"})
    await alice.expect("waiting")
    await alice.close()


async def test_a_ban_mid_call_frees_the_partner(backend):
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    address = await database_sync_to_async(ReportedAddress.objects.create)(ip_hash=address_hash(BOB_IP))
    await database_sync_to_async(decide)(address, Decision.Action.BAN_PERMANENT, None)
    message = await expect_banned(bob)
    assert "permanently" in message["message"]
    await alice.expect("partner_left", match_id=match_id)
    await alice.close()


@pytest.mark.slow
@pytest.mark.redis
async def test_a_ban_closes_open_connections_on_every_process(redis_prefix, tmp_path):

    environ = server_env(tmp_path, REDIS_URL=REDIS_URL, REDIS_PREFIX=redis_prefix, TRUSTED_PROXIES="127.0.0.1")
    migrate(environ)
    with servers(2, environ, tmp_path) as (one, two):
        bobs = [await Peer.connect_to(server.ws_url, forwarded_for=BOB_IP) for server in (one, two)]
        carol = await Peer.connect_to(one.ws_url, forwarded_for=CAROL_IP)
        ban_from_another_process(environ, BOB_IP)
        for bob in bobs:
            refused = await bob.expect("error", code="banned")
            assert refused["until"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(bob.connection.recv(), 10)
            assert closed.value.rcvd.code == protocol.CLOSE_BANNED
        # Carol, on the same process, stays connected and can still join.
        await carol.send({"type": "join"})
        await carol.expect("waiting")
        await carol.close()


@pytest.mark.slow
@pytest.mark.redis
async def test_evidence_crosses_processes_intact(redis_prefix, tmp_path):

    environ = server_env(tmp_path, REDIS_URL=REDIS_URL, REDIS_PREFIX=redis_prefix, TRUSTED_PROXIES="127.0.0.1")
    migrate(environ)
    with servers(2, environ, tmp_path) as (one, two):
        alice = await Peer.connect_to(one.ws_url, forwarded_for=ALICE_IP)
        bob = await Peer.connect_to(two.ws_url, forwarded_for=BOB_IP)
        await alice.send({"type": "join"})
        await alice.expect("waiting")
        await bob.send({"type": "join"})
        match_id = (await bob.expect("matched"))["match_id"]
        await alice.expect("matched", match_id=match_id)
        # A noisy picture: the frame is larger than the normal frame limit, as real snapshots are.
        snapshot = noisy_jpeg()
        assert len(snapshot) * 4 / 3 > protocol.MAX_FRAME_BYTES
        evidence = {
            "snapshot": base64.b64encode(snapshot).decode(),
            "chat": [{"from": "stranger", "text": "rude"}],
        }
        await alice.send({"type": "report", "match_id": match_id, "reason": "nudity", "evidence": evidence})
        await alice.expect("reported", match_id=match_id)
        await bob.expect("partner_left", match_id=match_id)
        code = (
            "from moderation.models import Report; from PIL import Image; import io; r = Report.objects.get(); "
            "i = Image.open(io.BytesIO(bytes(r.snapshot))); "
            "print(r.address.ip_hash, i.size, r.chat, b'SecretCameraMaker' in bytes(r.snapshot))"
        )
        printed = run_once(environ, code)

        bob_hash = salted_hmac(HASH_SALT, BOB_IP, secret=environ["DJANGO_SECRET_KEY"], algorithm="sha256").hexdigest()
        assert (
            printed.strip().splitlines()[-1] == f"{bob_hash} (480, 360) [{{'from': 'reported', 'text': 'rude'}}] False"
        )
        await alice.close()
        await bob.close()
