"""The Next limit: how many strangers a visitor may skip a minute.

Next skips a stranger; so does leave followed by join, so a leave during a call counts and the join
after it is checked without counting (the skip was counted at the leave).
"""

from __future__ import annotations

import math

from meet.gate.ratelimit import SlidingWindow

WINDOW_SECONDS = 60.0


class NextLimit:
    def __init__(self) -> None:
        self.skips = SlidingWindow(WINDOW_SECONDS)

    def allow(self, limit: int, now: float, count: bool = True) -> int:
        """0 when one more skip is allowed (counted, unless ``count`` is False); otherwise the whole
        seconds to wait before it would be."""
        if self.skips.count(now) < limit:
            if count:
                self.skips.add(now)
            return 0
        return max(1, math.ceil(self.skips.wait(now)))

    def count(self, now: float) -> None:
        """A skip that is not refused (leave during a call)."""
        self.skips.add(now)
