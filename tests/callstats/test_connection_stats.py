"""Connection reports: strictly validated, once per match, kept only as per-minute counts, shown in Live stats."""

from __future__ import annotations

import asyncio
import datetime
import json

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from callstats.connection_stats import ConnectionReportBuffer, connect_bin, save_reports
from callstats.live import prometheus_text
from callstats.models import ConnectionBucket
from callstats.stats import live_stats
from meet import protocol
from meet.runtime import ensure_runtime
from tests.protocol_client import Peer, matched_pair


def frame(**fields) -> str:
    return json.dumps({"type": "connection_report", "match_id": "m1", **fields})


def test_valid_reports_parse():
    assert protocol.parse_frame(frame(outcome="direct", connect_ms=850)) == protocol.ConnectionReport(
        "m1", "direct", 850
    )
    assert protocol.parse_frame(frame(outcome="relay_tls", connect_ms=0)).outcome == "relay_tls"
    assert protocol.parse_frame(frame(outcome="failed")).connect_ms is None
    assert protocol.parse_frame(frame(outcome="failed", connect_ms=None)).connect_ms is None


@pytest.mark.parametrize(
    "fields",
    [
        {"outcome": "teleport", "connect_ms": 5},
        {"outcome": None, "connect_ms": 5},
        {"connect_ms": 5},
        {"outcome": "direct"},
        {"outcome": "direct", "connect_ms": True},
        {"outcome": "direct", "connect_ms": 1.5},
        {"outcome": "direct", "connect_ms": "5"},
        {"outcome": "direct", "connect_ms": -1},
        {"outcome": "direct", "connect_ms": protocol.MAX_CONNECT_MS + 1},
        {"outcome": "failed", "connect_ms": 10},
        {"outcome": "direct", "connect_ms": 5, "address": "198.51.100.7"},
        {"outcome": "direct", "connect_ms": 5, "match_id": 7},
    ],
)
def test_bad_reports_are_refused(fields):
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse_frame(frame(**fields))
    assert refused.value.code == protocol.BAD_MESSAGE


def test_bins():
    assert connect_bin(0) == "connected_under_1s"
    assert connect_bin(999) == "connected_under_1s"
    assert connect_bin(1000) == "connected_under_2s"
    assert connect_bin(9_999) == "connected_under_10s"
    assert connect_bin(29_000) == "connected_under_30s"
    assert connect_bin(protocol.MAX_CONNECT_MS) == "connected_over_30s"


@pytest.mark.django_db(transaction=True)
async def test_each_browser_reports_once_per_match_and_only_counts_are_kept(backend):
    first, second, match_id = await matched_pair()
    await first.send({"type": "connection_report", "match_id": match_id, "outcome": "direct", "connect_ms": 640})
    await second.send({"type": "connection_report", "match_id": match_id, "outcome": "relay_udp", "connect_ms": 1800})
    await first.send({"type": "connection_report", "match_id": match_id, "outcome": "failed"})
    await first.expect("error", code=protocol.RATE_LIMITED)
    await second.send({"type": "connection_report", "match_id": "another", "outcome": "failed"})
    await second.expect("error", code=protocol.NOT_MATCHED)

    async def counted() -> ConnectionBucket | None:
        return await database_sync_to_async(ConnectionBucket.objects.first)()

    deadline = asyncio.get_running_loop().time() + 5
    bucket = await counted()
    while bucket is None or bucket.direct + bucket.relay_udp < 2:
        assert asyncio.get_running_loop().time() < deadline, "reports never reached the database"
        await asyncio.sleep(0.1)
        bucket = await counted()
    assert (bucket.direct, bucket.relay_udp, bucket.failed) == (1, 1, 0)
    assert (bucket.connected_under_1s, bucket.connected_under_2s) == (1, 1)
    assert bucket.minute.second == 0 and bucket.minute.microsecond == 0

    # The next match may be reported again.
    await first.send({"type": "next"})
    await first.close()
    await second.close()


@pytest.mark.django_db(transaction=True)
async def test_a_report_crossing_the_end_of_its_match_still_counts(backend):
    first, second, match_id = await matched_pair()
    # The first page gave up a moment sooner; the second page's report was already on its way.
    await first.send({"type": "next"})
    await second.expect("partner_left", match_id=match_id)
    await second.send({"type": "connection_report", "match_id": match_id, "outcome": "failed"})
    await second.send({"type": "connection_report", "match_id": match_id, "outcome": "failed"})
    await second.expect("error", code=protocol.RATE_LIMITED)  # once per match, even late
    await second.send({"type": "connection_report", "match_id": "older", "outcome": "failed"})
    await second.expect("error", code=protocol.NOT_MATCHED)
    await first.close()
    await second.close()


@pytest.mark.django_db
def test_live_stats_show_shares_and_time_to_connect():
    now = timezone.now().replace(second=20, microsecond=0)
    empty = live_stats(None, now=now)["connections"]["hour"]
    assert empty["reports"] == 0 and empty["direct_share"] is None and empty["connect_p50_within"] is None
    buffer = ConnectionReportBuffer()
    recent = (now - datetime.timedelta(minutes=5)).timestamp()
    for outcome, connect_ms in [
        ("direct", 400),
        ("direct", 700),
        ("direct", 1500),
        ("relay_udp", 3000),
        ("relay_tls", 8000),
        ("failed", None),
    ]:
        buffer.add(outcome, connect_ms, now=recent)
    buffer.add("relay_tcp", 20_000, now=(now - datetime.timedelta(hours=5)).timestamp())  # in the day only
    save_reports(dict(buffer.pending))

    stats = live_stats(None, now=now)
    hour, day = stats["connections"]["hour"], stats["connections"]["day"]
    assert hour["reports"] == 6 and day["reports"] == 7
    assert hour["direct_share"] == 0.5
    assert hour["failed_share"] == pytest.approx(1 / 6)
    assert hour["relay_tcp_share"] == 0 and day["relay_tcp_share"] == pytest.approx(1 / 7)
    # Connected calls in the hour: 0.4, 0.7, 1.5, 3, 8 s; half within 2 s, 95 % within 10 s.
    assert (hour["connect_p50_within"], hour["connect_p95_within"]) == (2.0, 10.0)
    assert day["connect_p95_within"] == 30.0

    text = prometheus_text(stats)
    assert 'alienmeet_connection_ratio{window="hour",outcome="direct"} 0.5' in text
    assert 'alienmeet_connect_seconds_within{window="hour",quantile="0.95"} 10.0' in text
    assert 'alienmeet_connection_reports{window="day"} 7' in text


@pytest.mark.django_db(transaction=True)
async def test_switching_between_the_current_and_the_last_match_counts_each_once(backend):
    """Only the current and the last ended match may be reported; going back and forth between the two
    must not count either of them twice (the statistics staff read would be inflated)."""
    first, second, old_id = await matched_pair()
    await first.send({"type": "next"})
    await first.expect("waiting")
    await second.expect("partner_left", match_id=old_id)
    third = await Peer.connect()
    await third.send({"type": "join", "interests": []})
    new_id = (await third.expect("matched"))["match_id"]
    await first.expect("matched", match_id=new_id)
    for match_id in (old_id, new_id, old_id, new_id):
        await first.send({"type": "connection_report", "match_id": match_id, "outcome": "direct", "connect_ms": 500})
        await first.send({"type": "picture_recovered", "match_id": match_id})
    # Every frame above was handled before the refusal of this one comes back.
    await first.send({"type": "picture_recovered"})
    while (message := await first.receive())["code"] != protocol.BAD_MESSAGE:
        assert message["code"] == protocol.RATE_LIMITED, message  # the repeated connection reports
    deadline = asyncio.get_running_loop().time() + 5
    while (bucket := await database_sync_to_async(ConnectionBucket.objects.first)()) is None or (
        bucket.direct < 2 or bucket.picture_recovered < 2
    ):
        assert asyncio.get_running_loop().time() < deadline, "reports never reached the database"
        await asyncio.sleep(0.1)
    await ensure_runtime().connection_reports.flush()  # whatever is still counted in the process
    bucket = await database_sync_to_async(ConnectionBucket.objects.get)()
    assert (bucket.direct, bucket.picture_recovered) == (2, 2)
    for peer in (first, second, third):
        await peer.close()
