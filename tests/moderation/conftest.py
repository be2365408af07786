"""The signaling fixtures (both matchmaking backends), and the moderation windows emptied per test."""

from __future__ import annotations

import pytest

from moderation.windows import MEMORY
from tests.meet.conftest import backend, stop_background_tasks

__all__ = ["backend", "stop_background_tasks"]


@pytest.fixture(autouse=True)
def empty_windows():
    MEMORY.clear()
    yield
    MEMORY.clear()
