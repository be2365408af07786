"""Anonymous match events: what the admin's statistics are built from."""

from __future__ import annotations

import datetime
import logging

from channels.db import database_sync_to_async

from meet.matchmaking import EndedMatch
from meet.models import MatchEvent

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


async def record_match(ended: EndedMatch) -> None:
    """Store the event; a database hiccup is logged and never reaches the visitor."""
    try:
        await _save(ended)
    except Exception:
        logger.exception("event=match_event_not_saved reason=%s", ended.reason)
