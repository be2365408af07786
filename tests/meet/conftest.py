"""Fixtures for the signaling tests: each test runs against both matchmaking backends."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import REDIS_URL
from matchmaking.memory import STORE


def matchmaker_settings(backend: str, prefix: str = "", **overrides: Any) -> dict[str, Any]:
    return {
        "BACKEND": backend,
        "URL": REDIS_URL if backend == "redis" else "",
        "PREFIX": prefix,
        "INTEREST_WAIT": 0.4,
        "REMATCH_COOLDOWN": 60,
        "LEASE": 2,
        **overrides,
    }


@pytest.fixture(params=["memory", "redis"])
def backend(request, settings):
    """Configure the matchmaker for one backend; returns its name."""
    STORE.clear()
    prefix = ""
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
    settings.MATCHMAKER = matchmaker_settings(request.param, prefix)
    settings.MEET = {**settings.MEET, "RATE_BURST": 1000, "RATE_PER_SECOND": 1000}
    yield request.param
    STORE.clear()


@pytest.fixture(autouse=True)
async def stop_background_tasks():
    """Each test has its own event loop: stop that loop's runtime and close its Redis client."""
    yield
    from meet.runtime import stop_runtime

    await stop_runtime()
