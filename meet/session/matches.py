"""What one connection knows of its matches: the current one, and its last few (for late reports)."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

# A report may name a match that has just ended: the stranger's Next can cross the report on the wire,
# and someone who exposes themselves tends to press Next at once. Both sides remember their matches
# for this long...
REPORT_AFTER_END_SECONDS = 60.0
# ...however many: a stranger skipped by others is not held to the Next limit. This only bounds memory.
RECENT_MATCHES_KEPT = 256
# The reported side learns of an ending first and hears of a report last: it keeps its matches this
# much longer than a report of them is accepted, so a report that was accepted finds it remembering.
REPORTED_SIDE_MARGIN_SECONDS = 15.0


@dataclass(frozen=True)
class CurrentMatch:
    match_id: str
    partner_channel: str
    partner_id: str = ""  # the partner's peer id, where the step that made the match told it


class RecentMatches:
    """The matches this connection was in lately, for reports that arrive after the end."""

    def __init__(self) -> None:
        # match_id -> (match, ended at, reported by this side already), oldest first
        self._ended: OrderedDict[str, tuple[CurrentMatch, float, bool]] = OrderedDict()

    def _trim(self, now: float) -> None:
        while self._ended:
            _match, at, _reported = next(iter(self._ended.values()))
            kept = REPORT_AFTER_END_SECONDS + REPORTED_SIDE_MARGIN_SECONDS
            if at >= now - kept and len(self._ended) <= RECENT_MATCHES_KEPT:
                break
            self._ended.popitem(last=False)

    def add(self, match: CurrentMatch) -> None:
        now = time.monotonic()
        self._ended[match.match_id] = (match, now, False)
        self._trim(now)

    @property
    def last_id(self) -> str:
        return next(reversed(self._ended)) if self._ended else ""

    def find(self, match_id: str) -> CurrentMatch | None:
        """The match, if it ended recently enough to be reported and this side has not reported it."""
        now = time.monotonic()
        self._trim(now)
        match, at, reported = self._ended.get(match_id, (None, 0.0, True))
        return None if reported or at < now - REPORT_AFTER_END_SECONDS else match

    def knows(self, match_id: str) -> bool:
        """Whether the match ended recently enough for a report of it to be filed against this side
        (a little longer than ``find`` accepts one)."""
        self._trim(time.monotonic())
        return match_id in self._ended

    def reported(self, match_id: str, done: bool = True) -> None:
        """One report per match and reporter: more would only inflate the stranger's count. A report
        that could not be filed (``done=False``) leaves the match reportable, so the visitor may send it again."""
        if match_id in self._ended:
            match, at, _ = self._ended[match_id]
            self._ended[match_id] = (match, at, done)

    def reportable_ids(self) -> list[str]:
        self._trim(time.monotonic())
        return list(self._ended)
