"""The figures staff watch: live counts from the matchmaking state, history from match events."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callstats.connection_stats import connection_figures
from callstats.events import QUICK_NEXT_SECONDS, WAIT_BINS
from callstats.models import MatchEvent, MinuteBucket
from matchmaking import Snapshot
from moderation.service import reports_since

WINDOWS = {"hour": datetime.timedelta(hours=1), "day": datetime.timedelta(days=1)}
WAIT_BIN_LABELS = (_("under 1 s"), _("1 to 5 s"), _("5 to 15 s"), _("15 to 60 s"), _("over 60 s"))


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class WindowFigures:
    matches: int
    wait_median: float | None
    wait_p95: float | None
    call_median: float | None
    quick_next_share: float | None
    interest_share: float | None
    language_share: float | None
    reports: int


def window_figures(since: datetime.datetime) -> WindowFigures:
    rows = list(
        MatchEvent.objects.filter(started_at__gte=since).values_list(
            "wait_seconds",
            "partner_wait_seconds",
            "duration_seconds",
            "end_reason",
            "interest_matched",
            "language_matched",
        )
    )
    waits = [wait for row in rows for wait in row[:2]]
    quick = sum(1 for row in rows if row[3] == MatchEvent.EndReason.NEXT and row[2] < QUICK_NEXT_SECONDS)
    return WindowFigures(
        matches=len(rows),
        wait_median=percentile(waits, 0.5),
        wait_p95=percentile(waits, 0.95),
        call_median=percentile([row[2] for row in rows], 0.5),
        quick_next_share=share(quick, len(rows)),
        interest_share=share(sum(1 for row in rows if row[4]), len(rows)),
        language_share=share(sum(1 for row in rows if row[5]), len(rows)),
        reports=reports_since(since),
    )


def _series(
    counts: dict[datetime.datetime, int], start: datetime.datetime, step: datetime.timedelta, n: int
) -> list[dict[str, Any]]:
    return [{"t": (start + step * i).isoformat(), "matches": counts.get(start + step * i, 0)} for i in range(n)]


def charts(now: datetime.datetime) -> dict[str, Any]:
    this_minute = now.replace(second=0, microsecond=0)
    first_minute = this_minute - datetime.timedelta(minutes=59)
    per_minute = dict(MinuteBucket.objects.filter(minute__gte=first_minute).values_list("minute", "matches"))
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    first_hour = this_hour - datetime.timedelta(hours=23)
    per_hour = {
        row["hour"]: row["matches"]
        for row in MinuteBucket.objects.filter(minute__gte=first_hour)
        .annotate(hour=TruncHour("minute"))
        .values("hour")
        .annotate(matches=Sum("matches"))
    }
    bins = MinuteBucket.objects.filter(minute__gte=now - WINDOWS["day"]).aggregate(
        **{name: Sum(name) for _, name in WAIT_BINS}
    )
    return {
        "per_minute": _series(per_minute, first_minute, datetime.timedelta(minutes=1), 60),
        "per_hour": _series(per_hour, first_hour, datetime.timedelta(hours=1), 24),
        "wait_histogram": [
            {"label": str(label), "count": bins[name] or 0}
            for label, (_, name) in zip(WAIT_BIN_LABELS, WAIT_BINS, strict=True)
        ],
    }


def live_stats(snapshot: Snapshot | None, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Everything the Live stats page, its JSON and /metrics show. ``snapshot`` None: Redis unreachable."""
    now = now or timezone.now()
    return {
        "generated_at": now.isoformat(),
        "live": asdict(snapshot) if snapshot else None,
        "windows": {name: asdict(window_figures(now - span)) for name, span in WINDOWS.items()},
        "charts": charts(now),
        "connections": {name: connection_figures(now - span) for name, span in WINDOWS.items()},
    }
