"""What one connection knows of its matches: the current one, and its last few (for late reports)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

# A report may name a match that has just ended: the stranger's Next can cross the report on the wire,
# and someone who exposes themselves tends to press Next at once. Both sides remember this many of
# their last matches, for this long.
REPORT_AFTER_END_SECONDS = 60.0
RECENT_MATCHES_KEPT = 8


@dataclass(frozen=True)
class CurrentMatch:
    match_id: str
    partner_channel: str


class RecentMatches:
    """The matches this connection was in lately, newest last, for reports that arrive after the end."""

    def __init__(self) -> None:
        self._ended: deque[tuple[CurrentMatch, float]] = deque(maxlen=RECENT_MATCHES_KEPT)

    def add(self, match: CurrentMatch) -> None:
        self._ended.append((match, time.monotonic()))

    @property
    def last_id(self) -> str:
        return self._ended[-1][0].match_id if self._ended else ""

    def find(self, match_id: str) -> CurrentMatch | None:
        since = time.monotonic() - REPORT_AFTER_END_SECONDS
        return next((match for match, at in self._ended if match.match_id == match_id and at >= since), None)

    def reportable_ids(self) -> list[str]:
        since = time.monotonic() - REPORT_AFTER_END_SECONDS
        return [match.match_id for match, at in self._ended if at >= since]
