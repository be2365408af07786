"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.utils import translation

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str) -> None:
    """Skip a test whose service is missing, except under CI where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


# In one process (TEST_WORKERS=0), each module's tests together (pytest-django would otherwise move
# some ahead, and a module's server would start twice), the longest modules first. Under workers,
# pytest-xdist hands out whole modules in its own order (the Makefile says why that order is kept).
_LONGEST_FIRST = ("netlab", "browser", "slow")


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def weight(item: pytest.Item) -> int:
        marks = {mark.name for mark in item.iter_markers()}
        return next((rank for rank, mark in enumerate(_LONGEST_FIRST) if mark in marks), len(_LONGEST_FIRST))

    # A module's tests stay together, in their order: a module is ranked by its heaviest test.
    module_rank: dict[str, tuple[int, int]] = {}
    for index, item in enumerate(items):
        module = item.nodeid.split("::")[0]
        rank, first = module_rank.get(module, (len(_LONGEST_FIRST), index))
        module_rank[module] = (min(rank, weight(item)), first)
    items.sort(key=lambda item: module_rank[item.nodeid.split("::")[0]])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from tests.browser import session

    session.stop_unless_used_by(item.fixturenames)


def pytest_sessionfinish() -> None:
    from tests.browser import session

    session.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's, with the browser session stopped before the test database goes: Playwright's
    loop, still this thread's running loop after a last browser test, made Django refuse the
    teardown (SynchronousOnlyOperation): a warning in the run, and on PostgreSQL a test database
    left behind."""
    yield
    from tests.browser import session

    session.stop()


@pytest.fixture(autouse=True)
def _no_language_left_behind() -> Iterator[None]:
    """LocaleMiddleware activates the request's language and nothing deactivates it, so a test that
    fetched a Spanish page would leave every later test in the same thread speaking Spanish."""
    yield
    translation.deactivate()


WriteArticle = Callable[..., Path]


@pytest.fixture
def articles_dir(tmp_path: Path, settings: pytest.FixtureRequest) -> Iterator[Path]:
    directory = tmp_path / "content"
    directory.mkdir()
    settings.ARTICLES_DIR = directory
    yield directory


@pytest.fixture
def write_article(articles_dir: Path) -> WriteArticle:
    """Write ``<slug>.md`` with the given front matter lines and body."""

    def write(slug: str, front: str = "title: Untitled", body: str = "Hello.") -> Path:
        path = articles_dir / f"{slug}.md"
        text = f"---\n{textwrap.dedent(front).strip()}\n---\n{textwrap.dedent(body)}"
        path.write_text(text, encoding="utf-8")
        return path

    return write


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        return False
    return True


def clear_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own in the shared Redis, removed afterwards."""
    require(redis_available(), f"Redis at {REDIS_URL}")
    prefix = f"test-{secrets.token_hex(4)}:"
    yield prefix
    clear_prefix(prefix)
