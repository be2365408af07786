"""Reports and bans through the consumer; which client address is believed."""

import asyncio
import datetime
import json

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from meet import protocol
from moderation.addresses import address_hash, client_ip
from moderation.models import Ban, Report, ReportedAddress
from tests.protocol_client import Peer, matched_pair

pytestmark = pytest.mark.django_db(transaction=True)

ALICE_IP, BOB_IP = "198.51.100.7", "203.0.113.8"


async def test_report_files_the_partners_hash_and_moves_the_reporter_on(backend):
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await alice.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await alice.expect("reported", match_id=match_id)
    await alice.expect("waiting")
    await bob.expect("partner_left", match_id=match_id, reason="next")
    report = await database_sync_to_async(lambda: Report.objects.select_related("address").get())()
    assert report.reason == "harassment"
    assert report.address.ip_hash == address_hash(BOB_IP) != address_hash(ALICE_IP)
    assert report.address.report_count == 1
    stored = json.dumps(await database_sync_to_async(lambda: list(ReportedAddress.objects.values()))(), default=str)
    assert BOB_IP not in stored and ALICE_IP not in stored
    await alice.close()
    await bob.close()


async def test_a_stranger_who_pressed_next_first_is_still_reported(backend):
    """The stranger's Next crosses the report on the wire (or they skip on at once): it is filed all the same."""
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.send({"type": "next"})
    await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id, reason="next")
    await alice.send({"type": "report", "match_id": match_id, "reason": "nudity"})
    await alice.expect("reported", match_id=match_id)
    await alice.nothing()  # the match is over already: nothing more to end, and no queueing she did not ask for

    assert await filed_hashes() == [address_hash(BOB_IP)]
    await alice.close()
    await bob.close()


async def filed_hashes() -> list[str]:
    """The reported address hashes, once the report that is on its way has been filed."""
    for _ in range(50):
        found = await database_sync_to_async(lambda: list(Report.objects.values_list("address__ip_hash", flat=True)))()
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def test_a_stranger_who_closed_the_tab_at_once_is_still_reported(backend):
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.close()
    await alice.expect("partner_left", match_id=match_id, reason="disconnect")
    await alice.send({"type": "report", "match_id": match_id, "reason": "nudity"})
    await alice.expect("reported", match_id=match_id)
    assert await filed_hashes() == [address_hash(BOB_IP)]
    await alice.close()


async def test_a_stranger_whose_socket_is_down_mid_call_is_still_reported(backend):
    """Their socket broke, and the server holds the call for them to resume: the report still lands."""
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP), resume=True)
    await bob.communicator.disconnect(code=1006)
    await alice.nothing(0.3)  # held for the grace: nobody has told her anything
    await alice.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await alice.expect("reported", match_id=match_id)
    await alice.expect("waiting")
    assert await filed_hashes() == [address_hash(BOB_IP)]
    await alice.close()


async def test_one_report_per_match_from_each_side(backend):
    """A second report of one call would only inflate the stranger's count; each side may report the other."""
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.send({"type": "next"})
    await bob.expect("waiting")
    await alice.expect("partner_left", match_id=match_id)
    await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
    await alice.expect("reported", match_id=match_id)
    await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
    await alice.expect("error", code="not_matched")
    await bob.send({"type": "report", "match_id": match_id, "reason": "harassment"})
    await bob.expect("reported", match_id=match_id)
    for _ in range(50):
        if await database_sync_to_async(Report.objects.count)() >= 2:
            break
        await asyncio.sleep(0.1)
    hashes = await database_sync_to_async(lambda: sorted(Report.objects.values_list("address__ip_hash", flat=True)))()
    assert hashes == sorted([address_hash(BOB_IP), address_hash(ALICE_IP)])
    await alice.close()
    await bob.close()


def test_a_stranger_skipped_many_times_a_minute_is_still_reportable():
    """Being skipped by others is not held to the Next limit: no count of matches pushes one out early."""
    from meet.session.matches import CurrentMatch, RecentMatches

    recent = RecentMatches()
    for number in range(100):
        recent.add(CurrentMatch(f"m{number}", f"channel-{number}"))
    assert recent.find("m0") == CurrentMatch("m0", "channel-0")
    assert recent.knows("m0") and len(recent.reportable_ids()) == 100
    recent.reported("m0")
    assert recent.find("m0") is None and recent.knows("m0")


async def test_a_match_long_over_can_no_longer_be_reported(backend, monkeypatch):
    from meet.session import matches

    monkeypatch.setattr(matches, "REPORT_AFTER_END_SECONDS", 0.0)
    alice, bob, match_id = await matched_pair(addresses=(ALICE_IP, BOB_IP))
    await bob.send({"type": "next"})
    await alice.expect("partner_left", match_id=match_id)
    await asyncio.sleep(0.01)
    await alice.send({"type": "report", "match_id": match_id, "reason": "spam"})
    await alice.expect("error", code="not_matched")
    assert await database_sync_to_async(Report.objects.count)() == 0
    await alice.close()
    await bob.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "report", "match_id": "nope", "reason": "spam"}, "not_matched"),
        ({"type": "report", "match_id": "m", "reason": "rude"}, "bad_message"),
        ({"type": "report", "reason": "spam"}, "bad_message"),
    ],
)
async def test_bad_reports_are_refused(backend, frame, code):
    peer = await Peer.connect(client=ALICE_IP)
    await peer.send(frame)
    await peer.expect("error", code=code)
    assert await database_sync_to_async(Report.objects.count)() == 0
    await peer.close()


async def test_banned_address_is_refused_at_connect_until_the_ban_ends(backend):
    until = timezone.now() + datetime.timedelta(hours=2)
    await database_sync_to_async(Ban.objects.create)(ip_hash=address_hash(BOB_IP), reason="spam", until=until)
    refused = await Peer.connect(client=BOB_IP, greeted=False)
    message = refused.hello
    assert message["type"] == "error" and message["code"] == protocol.BANNED
    assert message["until"] == until.isoformat()
    assert "banned" in message["message"]
    closed = await refused.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_BANNED}
    # Someone else is welcome.
    other = await Peer.connect(client=ALICE_IP)
    await other.close()


async def test_expired_ban_lets_the_address_back(backend):
    past = timezone.now() - datetime.timedelta(minutes=1)
    await database_sync_to_async(Ban.objects.create)(ip_hash=address_hash(BOB_IP), reason="old", until=past)
    peer = await Peer.connect(client=BOB_IP)
    assert peer.hello["type"] == "hello"
    await peer.close()


def test_client_ip_trusts_forwarded_for_only_from_listed_proxies(settings):
    headers = [(b"x-forwarded-for", b"198.51.100.7, 10.0.0.2")]
    settings.TRUSTED_PROXIES = []
    assert client_ip({"client": ("10.0.0.1", 1), "headers": headers}) == "10.0.0.1"
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert client_ip({"client": ("10.0.0.1", 1), "headers": headers}) == "198.51.100.7"
    assert client_ip({"client": ("192.0.2.1", 1), "headers": headers}) == "192.0.2.1"
    assert client_ip({"client": ("10.0.0.1", 1), "headers": [(b"x-forwarded-for", b"garbage")]}) is None
    assert client_ip({"client": ("10.0.0.1", 1), "headers": []}) == "10.0.0.1"
    assert client_ip({"headers": headers}) is None


def test_address_hash_is_keyed_and_stable(settings):
    first = address_hash("198.51.100.7")
    assert first == address_hash("198.51.100.7") and len(first) == 64
    assert "198.51.100.7" not in first
    settings.SECRET_KEY = "another-key"
    assert address_hash("198.51.100.7") != first
    assert address_hash(None) == ""
