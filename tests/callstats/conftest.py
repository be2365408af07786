"""Statistics come from calls: the signaling fixtures (both matchmaking backends) serve here too."""

from __future__ import annotations

from tests.meet.conftest import backend, stop_background_tasks

__all__ = ["backend", "stop_background_tasks"]
