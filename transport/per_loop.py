"""One object per event loop and configuration.

Redis connections belong to the event loop that opened them, and tests (or a settings change)
may swap the configuration, so shared Redis-backed helpers are kept per loop and per config.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(self) -> None:
        self._by_loop: dict[int, tuple[asyncio.AbstractEventLoop, Hashable, T]] = {}

    def get(self, config: Hashable, make: Callable[[], T]) -> T:
        """The object made for this loop with this config, made now if there is none yet."""
        loop = asyncio.get_running_loop()
        cached = self._by_loop.get(id(loop))
        if cached and cached[0] is loop and cached[1] == config:
            return cached[2]
        for key, (old_loop, _, _) in list(self._by_loop.items()):
            if old_loop.is_closed():
                del self._by_loop[key]
        made = make()
        self._by_loop[id(loop)] = (loop, config, made)
        return made

    def pop(self) -> T | None:
        """Forget this loop's object and hand it back (to be closed)."""
        cached = self._by_loop.pop(id(asyncio.get_running_loop()), None)
        return None if cached is None else cached[2]
