"""The short-lived counters behind the report quota and the automatic ban: distinct members within a window."""

from __future__ import annotations

import pytest
import redis

from conftest import REDIS_URL
from moderation import windows
from tests.meet.conftest import matchmaker_settings


@pytest.fixture(params=["memory", "redis"])
def store(request, settings, monkeypatch):
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(windows.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(windows.time, "time", lambda: clock["now"])
    prefix = request.getfixturevalue("redis_prefix") if request.param == "redis" else ""
    settings.MATCHMAKER = matchmaker_settings(request.param, prefix)
    return clock


async def test_members_count_once_and_leave_after_the_window(store):
    counter = windows.get_windows()
    assert await counter.add("k", "a", 60) == 1
    assert await counter.add("k", "a", 60) == 1
    store["now"] += 30
    assert await counter.add("k", "b", 60) == 2
    assert await counter.add("other", "a", 60) == 1
    store["now"] += 31  # "a" is now older than the window, "b" is not
    assert await counter.add("k", "c", 60) == 2


async def test_redis_keys_expire_with_their_window(redis_prefix, settings):
    settings.MATCHMAKER = matchmaker_settings("redis", redis_prefix)
    await windows.get_windows().add("reporters:h", "a", 3600)
    client = redis.Redis.from_url(REDIS_URL)
    ttl = client.ttl(f"{redis_prefix}mod:reporters:h")
    assert 0 < ttl <= 3600


async def test_memory_forgets_idle_keys(settings):
    windows.MEMORY.clear()
    settings.MATCHMAKER = matchmaker_settings("memory")
    await windows.MEMORY.add("old", "a", 0.0)
    await windows.MEMORY.add("new", "b", 60)
    assert set(windows.MEMORY._seen) == {"new"}
    windows.MEMORY.clear()
