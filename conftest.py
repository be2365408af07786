"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str) -> None:
    """Skip a test whose service is missing, except under CI where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


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
