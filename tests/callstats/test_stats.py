"""Stats figures from known events: empty periods, one event, several, and the charts' buckets."""

import datetime

import pytest
from django.utils import timezone

from callstats.events import save_events
from callstats.live import prometheus_text
from callstats.models import MatchEvent, MinuteBucket
from callstats.stats import live_stats, percentile
from matchmaking import EndedMatch, Snapshot
from moderation.models import Report, ReportedAddress

pytestmark = pytest.mark.django_db

# Fixed within the minute, so events a minute or so ago land in a known bucket.
NOW = timezone.now().replace(second=15, microsecond=0)


def event(
    minutes_ago: float, duration: float, reason: str = "next", waits=(2.0, 0.0), interest=False, language=False
) -> None:
    started = (NOW - datetime.timedelta(minutes=minutes_ago)).timestamp()
    save_events([EndedMatch("m", "", "", reason, started, started + duration, waits, interest, language)])


def test_percentile():
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.5) == 4.0
    assert percentile([4.0], 0.95) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile(list(map(float, range(101))), 0.95) == pytest.approx(95.0)


def test_empty_periods():
    stats = live_stats(Snapshot(0, 0, 0), now=NOW)
    for window in ("hour", "day"):
        figures = stats["windows"][window]
        assert figures == {
            "matches": 0,
            "wait_median": None,
            "wait_p95": None,
            "call_median": None,
            "quick_next_share": None,
            "interest_share": None,
            "language_share": None,
            "reports": 0,
        }
    assert sum(p["matches"] for p in stats["charts"]["per_minute"]) == 0
    assert len(stats["charts"]["per_minute"]) == 60 and len(stats["charts"]["per_hour"]) == 24
    assert stats["live"] == {"online": 0, "waiting": 0, "in_calls": 0}


def test_one_event():
    event(minutes_ago=5, duration=42, reason="leave", waits=(3.0, 1.0), interest=True)
    hour = live_stats(None, now=NOW)["windows"]["hour"]
    assert hour["matches"] == 1
    assert hour["wait_median"] == 2.0
    assert hour["wait_p95"] == pytest.approx(2.9)
    assert hour["call_median"] == 42
    assert hour["quick_next_share"] == 0
    assert hour["interest_share"] == 1


def test_windows_and_shares():
    event(minutes_ago=10, duration=5, reason="next", waits=(1.0, 0.0), language=True)  # quick next
    event(minutes_ago=20, duration=8, reason="next", waits=(3.0, 0.0), interest=True, language=True)  # quick next
    event(minutes_ago=30, duration=300, reason="next", waits=(5.0, 0.0), language=True)
    event(minutes_ago=40, duration=60, reason="disconnect", waits=(7.0, 0.0))
    event(minutes_ago=120, duration=100, reason="leave", waits=(100.0, 0.0))  # only in the day window
    event(minutes_ago=60 * 30, duration=1, reason="next", waits=(1.0, 0.0))  # in neither
    address = ReportedAddress.objects.create(ip_hash="h" * 64)
    Report.objects.create(address=address, reason="spam")
    stats = live_stats(None, now=NOW)
    hour, day = stats["windows"]["hour"], stats["windows"]["day"]
    assert (hour["matches"], day["matches"]) == (4, 5)
    assert hour["quick_next_share"] == 0.5 and day["quick_next_share"] == 0.4
    assert hour["interest_share"] == 0.25
    assert hour["language_share"] == 0.75 and day["language_share"] == 0.6
    assert hour["call_median"] == 34.0  # of 5, 8, 60, 300
    assert hour["wait_median"] == 0.5  # of 0,0,0,0,1,3,5,7
    assert (hour["reports"], day["reports"]) == (1, 1)
    assert stats["live"] is None


def test_buckets_feed_the_charts():
    event(minutes_ago=1, duration=5, waits=(0.5, 0.2))
    event(minutes_ago=1.2, duration=5, waits=(7.0, 0.1))
    event(minutes_ago=90, duration=5, waits=(70.0, 20.0))
    assert MinuteBucket.objects.count() == 2
    charts = live_stats(None, now=NOW)["charts"]
    assert [p["matches"] for p in charts["per_minute"]][-3:] == [0, 2, 0]
    assert sum(p["matches"] for p in charts["per_minute"]) == 2
    assert sum(p["matches"] for p in charts["per_hour"]) == 3
    assert {b["label"]: b["count"] for b in charts["wait_histogram"]} == {
        "under 1 s": 3,
        "1 to 5 s": 0,
        "5 to 15 s": 1,
        "15 to 60 s": 1,
        "over 60 s": 1,
    }


def test_prometheus_text():
    event(minutes_ago=5, duration=3, waits=(1.0, 0.0), language=True)
    text = prometheus_text(live_stats(Snapshot(7, 2, 3), now=NOW))
    assert "alienmeet_online 7\n" in text
    assert "alienmeet_calls_in_progress 3\n" in text
    assert 'alienmeet_matches{window="hour"} 1\n' in text
    assert 'alienmeet_wait_seconds{window="day",quantile="0.5"} 0.5\n' in text
    assert "# TYPE alienmeet_waiting gauge" in text
    assert 'alienmeet_language_matched_ratio{window="hour"} 1.0\n' in text
    down = prometheus_text(live_stats(None, now=NOW))
    assert "alienmeet_up 0\n" in down and "alienmeet_online NaN\n" in down


def test_event_rows_hold_nothing_but_timing():
    event(minutes_ago=1, duration=1)
    fields = {f.name for f in MatchEvent._meta.fields}
    assert fields == {
        "id",
        "started_at",
        "ended_at",
        "wait_seconds",
        "partner_wait_seconds",
        "duration_seconds",
        "end_reason",
        "interest_matched",
        "language_matched",
    }


def test_a_batch_adds_up_in_its_minute_bucket():
    started = (NOW - datetime.timedelta(minutes=3)).timestamp()
    save_events(
        [
            EndedMatch("a", "", "", "next", started, started + 4, (0.5, 0.1), True),
            EndedMatch("b", "", "", "leave", started + 1, started + 90, (20.0, 3.0), False),
        ]
    )
    bucket = MinuteBucket.objects.get()
    assert (bucket.matches, bucket.quick_nexts, bucket.interest_matched) == (2, 1, 1)
    assert (bucket.wait_under_1s, bucket.wait_under_5s, bucket.wait_under_60s) == (2, 1, 1)
    assert MatchEvent.objects.count() == 2
