"""Anonymous match events: what the admin's statistics are built from."""

from __future__ import annotations

import datetime
import logging

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import F

from meet.matchmaking import EndedMatch
from meet.models import MatchEvent, MinuteBucket

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


def _add_to_bucket(ended: EndedMatch) -> None:
    minute = _at(ended.started_at).replace(second=0, microsecond=0)
    increments: dict[str, F] = {"matches": F("matches") + 1}
    if ended.reason == MatchEvent.EndReason.NEXT and ended.duration < QUICK_NEXT_SECONDS:
        increments["quick_nexts"] = F("quick_nexts") + 1
    if ended.interest_matched:
        increments["interest_matched"] = F("interest_matched") + 1
    for wait in ended.waits:
        name = wait_bin(wait)
        increments[name] = increments[name] + 1 if name in increments else F(name) + 1
    if not MinuteBucket.objects.filter(minute=minute).update(**increments):
        try:
            with transaction.atomic():
                MinuteBucket.objects.create(minute=minute)
        except IntegrityError:
            pass  # another process created it first
        MinuteBucket.objects.filter(minute=minute).update(**increments)


logger = logging.getLogger("alienmeet.meet")


def _at(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


@database_sync_to_async
def _save(ended: EndedMatch) -> None:
    MatchEvent.objects.create(
        started_at=_at(ended.started_at),
        ended_at=_at(ended.ended_at),
        wait_seconds=max(ended.waits),
        partner_wait_seconds=min(ended.waits),
        duration_seconds=ended.duration,
        end_reason=ended.reason,
        interest_matched=ended.interest_matched,
    )
    _add_to_bucket(ended)


async def record_match(ended: EndedMatch) -> None:
    """Store the event; a database hiccup is logged and never reaches the visitor."""
    try:
        await _save(ended)
    except Exception:
        logger.exception("event=match_event_not_saved reason=%s", ended.reason)
