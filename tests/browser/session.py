"""One Playwright and one Chromium per test process, shared by every browser module it runs.

Launching Chromium and Playwright's driver costs about 1.6 CPU seconds, and the suite's workers
share two cores: paid once per process instead of once per module. Each test still gets browser
contexts of its own (tests/browser/conftest.py `visitor`), so nothing a page stores is shared.

Playwright's sync API keeps its event loop as this thread's running loop while it is started, and
an asyncio test must not find one: the root conftest stops the session before any test that uses no
browser (`stop_unless_used_by`), and the next browser test starts it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The fixtures through which a test reaches this session's Playwright.
FIXTURES = frozenset({"playwright_instance", "browser"})

_state: dict[str, Any] = {}
_pages: dict[str, Any] = {}


def playwright() -> Any:
    if "playwright" not in _state:
        from playwright.sync_api import sync_playwright

        _state["playwright"] = sync_playwright().start()
    return _state["playwright"]


def browser(launch) -> Any:
    """The shared Chromium, launched by `launch(playwright)` the first time or after it went away."""
    current = _state.get("browser")
    if current is None or not current.is_connected():
        current = _state["browser"] = launch(playwright())
    return current


def kept_page(name: str, browser: Any, open_page: Callable[[], Any]) -> Any:
    """The page of that name that tests share while this browser lives: `open_page()` opens it the
    first time, or after the page or its browser went away. A new context costs a renderer process
    (about 0.5 CPU seconds), a page that connects to a server more."""
    page = _pages.get(name)
    if page is None or page.is_closed() or page.context.browser is not browser:
        page = _pages[name] = open_page()
    return page


def stop() -> None:
    _pages.clear()
    current = _state.pop("browser", None)
    started = _state.pop("playwright", None)
    if current is not None and current.is_connected():
        current.close()
    if started is not None:
        started.stop()


def stop_unless_used_by(fixturenames: list[str]) -> None:
    if _state and not FIXTURES.intersection(fixturenames):
        stop()
