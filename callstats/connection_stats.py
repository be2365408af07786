"""Anonymous connection reports: how calls connect (direct or through which relay) and how fast.

Each browser reports its own side once per call (``connection_report``, docs/protocol.md).
Only per-minute counts are kept (``ConnectionBucket``), with the time to connect in bins:
nothing says which call, which visitor, or exactly how long one call took. Reports are
written in batches by the runtime, as match events are.
"""

from __future__ import annotations

import collections
import datetime
import logging
import time

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from callstats.models import ConnectionBucket
from callstats.outcomes import MAX_CONNECT_MS, OUTCOME_FIELDS

logger = logging.getLogger("alienmeet.meet")

# Calls whose stranger's picture froze (decoded, not shown) and the page brought it back (picture_recovered).
PICTURE_RECOVERED = "picture_recovered"
# Upper bounds (seconds) of the time-to-connect bins and the ConnectionBucket field counting each.
CONNECT_BINS = (
    (1, "connected_under_1s"),
    (2, "connected_under_2s"),
    (5, "connected_under_5s"),
    (10, "connected_under_10s"),
    (30, "connected_under_30s"),
    (MAX_CONNECT_MS / 1000, "connected_over_30s"),
)


def connect_bin(connect_ms: int) -> str:
    return next((name for bound, name in CONNECT_BINS if connect_ms / 1000 < bound), CONNECT_BINS[-1][1])


def _add_to_bucket(minute: datetime.datetime, counts: collections.Counter[str]) -> None:
    increments = {name: F(name) + count for name, count in counts.items()}
    if not ConnectionBucket.objects.filter(minute=minute).update(**increments):
        try:
            with transaction.atomic():  # a savepoint: a lost race must not undo the rest
                ConnectionBucket.objects.create(minute=minute)
        except IntegrityError:
            pass  # another process created it first
        ConnectionBucket.objects.filter(minute=minute).update(**increments)


def save_reports(per_minute: dict[datetime.datetime, collections.Counter[str]]) -> None:
    with transaction.atomic():
        for minute, counts in sorted(per_minute.items()):
            _add_to_bucket(minute, counts)


class ConnectionReportBuffer:
    """Reports received by this process, counted per minute until the next flush."""

    def __init__(self) -> None:
        self.pending: dict[datetime.datetime, collections.Counter[str]] = collections.defaultdict(collections.Counter)

    def add(self, outcome: str, connect_ms: int | None, now: float | None = None) -> None:
        at = datetime.datetime.fromtimestamp(now if now is not None else time.time(), tz=datetime.UTC)
        counts = self.pending[at.replace(second=0, microsecond=0)]
        counts[outcome] += 1
        if outcome != "failed" and connect_ms is not None:
            counts[connect_bin(connect_ms)] += 1

    def add_picture_recovery(self, now: float | None = None) -> None:
        at = datetime.datetime.fromtimestamp(now if now is not None else time.time(), tz=datetime.UTC)
        self.pending[at.replace(second=0, microsecond=0)][PICTURE_RECOVERED] += 1

    async def flush(self) -> None:
        batch, self.pending = self.pending, collections.defaultdict(collections.Counter)
        if not batch:
            return
        try:
            await database_sync_to_async(save_reports)(dict(batch))
        except Exception:
            # Counted, never fatal: statistics must not take calls down with them.
            logger.exception("event=connection_reports_not_saved minutes=%d", len(batch))


def _bin_percentile(counts: list[int], fraction: float) -> float | None:
    """The upper bound (seconds) of the bin holding that fraction of the times: "within N s"; None for no times."""
    total = sum(counts)
    if not total:
        return None
    running = 0
    for count, (bound, _) in zip(counts, CONNECT_BINS, strict=True):
        running += count
        if running >= fraction * total:
            return float(bound)
    return None


def connection_figures(since: datetime.datetime) -> dict[str, float | int | None]:
    names = [*OUTCOME_FIELDS, *(name for _, name in CONNECT_BINS), PICTURE_RECOVERED]
    sums = ConnectionBucket.objects.filter(minute__gte=since).aggregate(**{name: Sum(name) for name in names})
    counts = {name: sums[name] or 0 for name in names}
    reports = sum(counts[name] for name in OUTCOME_FIELDS)
    times = [counts[name] for _, name in CONNECT_BINS]
    figures: dict[str, float | int | None] = {"reports": reports}
    for name in OUTCOME_FIELDS:
        figures[f"{name}_share"] = counts[name] / reports if reports else None
    figures["connect_p50_within"] = _bin_percentile(times, 0.5)
    figures["connect_p95_within"] = _bin_percentile(times, 0.95)
    figures["picture_recoveries"] = counts[PICTURE_RECOVERED]
    return figures
