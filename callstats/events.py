"""Anonymous match events: what the admin's statistics are built from.

Ended matches are written in batches (the runtime flushes every second), so
neither Next nor the relay ever waits for the database, and a busy site makes
one transaction a second instead of one per match.
"""

from __future__ import annotations

import collections
import datetime
import logging

from channels.db import database_sync_to_async
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from callstats.models import MatchEvent, MinuteBucket
from matchmaking import EndedMatch

logger = logging.getLogger("alienmeet.meet")

QUICK_NEXT_SECONDS = 10
# Upper bounds of the wait bins and the MinuteBucket field counting each.
WAIT_BINS = (
    (1, "wait_under_1s"),
    (5, "wait_under_5s"),
    (15, "wait_under_15s"),
    (60, "wait_under_60s"),
    (float("inf"), "wait_over_60s"),
)


def wait_bin(seconds: float) -> str:
    return next(name for bound, name in WAIT_BINS if seconds < bound)


def _at(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def _bucket_counts(ended: EndedMatch) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter(matches=1)
    if ended.reason == MatchEvent.EndReason.NEXT and ended.duration < QUICK_NEXT_SECONDS:
        counts["quick_nexts"] += 1
    if ended.interest_matched:
        counts["interest_matched"] += 1
    for wait in ended.waits:
        counts[wait_bin(wait)] += 1
    return counts


def _add_to_bucket(minute: datetime.datetime, counts: collections.Counter[str]) -> None:
    increments = {name: F(name) + count for name, count in counts.items()}
    if not MinuteBucket.objects.filter(minute=minute).update(**increments):
        try:
            with transaction.atomic():  # a savepoint: a lost race must not undo the events
                MinuteBucket.objects.create(minute=minute)
        except IntegrityError:
            pass  # another process created it first
        MinuteBucket.objects.filter(minute=minute).update(**increments)


_EVENT_COLUMNS = (
    "started_at",
    "ended_at",
    "wait_seconds",
    "partner_wait_seconds",
    "duration_seconds",
    "end_reason",
    "interest_matched",
    "language_matched",
)


def _insert_events_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(MatchEvent._meta.get_field(name).column) for name in _EVENT_COLUMNS)
    values = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    return f"INSERT INTO {quote(MatchEvent._meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608


def save_events(batch: list[EndedMatch]) -> None:
    """Write ended matches and their per-minute summaries in one transaction."""
    per_minute: dict[datetime.datetime, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for ended in batch:
        per_minute[_at(ended.started_at).replace(second=0, microsecond=0)] += _bucket_counts(ended)
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            adapt(_at(ended.started_at)),
            adapt(_at(ended.ended_at)),
            max(ended.waits),
            min(ended.waits),
            ended.duration,
            ended.reason,
            ended.interest_matched,
            ended.language_matched,
        )
        for ended in batch
    ]
    with transaction.atomic():
        # One INSERT run over the rows, not bulk_create: a model instance and a compiled insert per
        # ended match were most of this write, and under churn it is written for every match.
        with connection.cursor() as cursor:
            cursor.executemany(_insert_events_sql(), rows)
        for minute, counts in sorted(per_minute.items()):
            _add_to_bucket(minute, counts)


class EventBuffer:
    """Ended matches of this process, waiting for the next flush."""

    def __init__(self) -> None:
        self.pending: list[EndedMatch] = []

    def add(self, ended: EndedMatch) -> None:
        self.pending.append(ended)

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            await database_sync_to_async(save_events)(batch)
        except Exception:
            # Counted, never fatal: statistics must not take calls down with them.
            logger.exception("event=match_events_not_saved count=%d", len(batch))
