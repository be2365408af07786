"""A page that imports the call page's plain modules straight from static/, with no server behind it:
for unit tests of modules that need neither a socket nor the page's DOM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import session
from tests.browser.conftest import new_context

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


def _open(browser) -> object:
    context = new_context(browser)
    context.route(f"{ORIGIN}/**", serve_static)
    page = context.new_page()
    page.on("pageerror", lambda error: print(f"[module page error] {error}"))
    return page


@pytest.fixture
def module_page(browser) -> Iterator[object]:
    """A blank page at ORIGIN whose /static/ is this checkout's static folder, shared by the module
    tests (some sixty: a new document in a kept page costs about 0.15 CPU seconds, a new context more).

    Each test gets a new document, so it imports the modules afresh and finds no state of the one
    before, and the origin's storage and cookies are cleared."""
    page = session.kept_page("modules", browser, lambda: _open(browser))
    page.context.clear_cookies()
    page.goto(f"{ORIGIN}/")
    page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    yield page


def run(page, body: str, **values: object):
    """Evaluate `body`, an async function body that may `await import('/static/js/...')` and sees
    `values` as `args`, and return what it returns."""
    return page.evaluate(f"async (args) => {{ {body} }}", json.loads(json.dumps(values)))
