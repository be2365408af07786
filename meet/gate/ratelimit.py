from __future__ import annotations

import time
from collections import deque


class TokenBucket:
    """Allows ``burst`` frames at once and ``rate`` frames a second after that."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class FloodMeter:
    """Counts refused frames in a fixed window; a connection past the limit is closed."""

    def __init__(self, limit: int, window: float = 10.0) -> None:
        self.limit = limit
        self.window = window
        self.count = 0
        self.started = time.monotonic()
        self.last_warned = 0.0

    def refuse(self) -> bool:
        """Record one refused frame; True when the connection should be closed."""
        now = time.monotonic()
        if now - self.started > self.window:
            self.count, self.started = 0, now
        self.count += 1
        return self.count >= self.limit

    def should_warn(self) -> bool:
        """At most one rate_limited error a second, so refusals never amplify a flood."""
        now = time.monotonic()
        if now - self.last_warned >= 1.0:
            self.last_warned = now
            return True
        return False


class SlidingWindow:
    """Counts events over the last ``seconds``: how many there were, and how long until the oldest lapses.

    The caller gives the time (a monotonic clock), so the window can be driven step by step in tests.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.times: deque[float] = deque()

    def count(self, now: float) -> int:
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        return len(self.times)

    def add(self, now: float) -> None:
        self.count(now)
        self.times.append(now)

    def wait(self, now: float) -> float:
        """Seconds until the oldest event leaves the window (0 when the window is empty)."""
        return self.seconds - (now - self.times[0]) if self.count(now) else 0.0
