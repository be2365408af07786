"""A page that imports the call page's plain modules straight from static/, with no server behind it:
for unit tests of modules that need neither a socket nor the page's DOM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"
ORIGIN = "http://modules.test"


def serve_static(route) -> None:
    path = urlparse(route.request.url).path
    if path == "/":
        route.fulfill(body="<!doctype html><html lang='en'><title>modules</title></html>", content_type="text/html")
        return
    file = (STATIC / path.removeprefix("/static/")).resolve()
    if path.startswith("/static/") and file.is_relative_to(STATIC) and file.is_file():
        route.fulfill(path=str(file), content_type="text/javascript")
    else:
        route.fulfill(status=404, body="not found")


@pytest.fixture
def module_page(browser) -> Iterator[object]:
    """A blank page at ORIGIN whose /static/ is this checkout's static folder."""
    context = browser.new_context()
    context.route(f"{ORIGIN}/**", serve_static)
    page = context.new_page()
    page.on("pageerror", lambda error: print(f"[module page error] {error}"))
    page.goto(f"{ORIGIN}/")
    yield page
    context.close()


def run(page, body: str, **values: object):
    """Evaluate `body`, an async function body that may `await import('/static/js/...')` and sees
    `values` as `args`, and return what it returns."""
    return page.evaluate(f"async (args) => {{ {body} }}", json.loads(json.dumps(values)))
