"""The signaling fixtures (both matchmaking backends), and moderation's in-memory state emptied per test."""

from __future__ import annotations

import pytest

from moderation import forwarding, windows
from tests.meet.conftest import backend, stop_background_tasks

__all__ = ["backend", "stop_background_tasks"]


@pytest.fixture(autouse=True)
def empty_windows():
    windows.MEMORY.clear()
    forwarding.MEMORY.clear()
    yield
    windows.MEMORY.clear()
    forwarding.MEMORY.clear()
