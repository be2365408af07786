"""The transport tests share the signaling fixtures: both matchmaking backends, and each loop's runtime stopped."""

from __future__ import annotations

from tests.meet.conftest import backend, stop_background_tasks

__all__ = ["backend", "stop_background_tasks"]
