"""Each matchmaking test runs against both backends, with the signaling fixtures."""

from __future__ import annotations

from tests.meet.conftest import backend, stop_background_tasks

__all__ = ["backend", "stop_background_tasks"]
