"""The installable app in a real browser: Chromium finds it installable, the service worker
registers, and articles open with the site's look once the network is gone."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import CHROMIUM, COMMON_FLAGS, start_server, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FORBIDDEN = ("/admin/", "/ws/", "/metrics", "/healthz", "/i18n/", "/sw.js")
CACHED_URLS = """(await (async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
})())"""


@pytest.fixture
def own_server(tmp_path):
    """A server of this test's own, so going offline can mean the server is really gone."""
    server = start_server(tmp_path)
    yield server
    server.stop()


def test_chromium_finds_the_site_installable(playwright_instance, site_server, tmp_path):
    # A profile on disk: Chromium never offers to install from an incognito window, which is what
    # Playwright's ordinary contexts are.
    context = playwright_instance.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, headless=True, args=COMMON_FLAGS
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{site_server.http_url}/")
    wait_js(page, "(await navigator.serviceWorker.ready).active !== null", timeout=15000)
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    context.close()


def test_installability_is_really_checked(playwright_instance, site_server, tmp_path):
    """The same check finds a page without a manifest not installable, so the test above can fail."""
    context = playwright_instance.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, headless=True, args=COMMON_FLAGS
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{site_server.http_url}/static/css/site.css")
    errors = context.new_cdp_session(page).send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors, "a stylesheet cannot be installable"
    context.close()


def test_an_article_opens_offline_and_nothing_private_is_kept(browser, own_server):
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda message: print(f"[console] {message.type}: {message.text}"))
    page.goto(f"{own_server.http_url}/articles/how-webrtc-works/")
    # The worker takes over this very page once it has kept the shell and the articles.
    wait_js(page, "navigator.serviceWorker.controller !== null", timeout=15000)
    scope = page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
    assert scope == f"{own_server.http_url}/"
    wait_js(page, "(await caches.match('/articles/privacy/')) !== undefined", timeout=15000)
    # A staff page and the health probe, visited online, are not stored.
    page.goto(f"{own_server.http_url}/healthz")
    page.goto(f"{own_server.http_url}/admin/login/")
    page.goto(f"{own_server.http_url}/")
    kept = page.evaluate(f"async () => {CACHED_URLS}")
    assert "/articles/privacy/" in kept and "/offline/" in kept and "/" in kept
    assert not [url for url in kept if url.startswith(FORBIDDEN)], kept

    own_server.stop()
    context.set_offline(True)
    # Never opened before, fetched when the worker installed.
    page.goto(f"{own_server.http_url}/articles/privacy/")
    assert "Privacy" in page.locator("h1").inner_text()
    # The site's stylesheet came from the cache too: the page keeps its dark background.
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(11, 16, 38)"
    page.goto(f"{own_server.http_url}/articles/how-webrtc-works/")
    assert "WebRTC" in page.locator("h1").inner_text()
    # A call needs the network: the call page says so instead of a browser error.
    page.goto(f"{own_server.http_url}/meet/")
    assert page.locator("h1").inner_text() == "You are offline"
    context.close()


def test_the_manifest_speaks_the_language_the_visitor_chose(browser, site_server):
    # The browser asks for English; the visitor picked Arabic with the switcher (its cookie).
    context = browser.new_context(locale="en-US")
    context.add_cookies([{"name": "django_language", "value": "ar", "url": site_server.http_url}])
    page = context.new_page()
    page.goto(f"{site_server.http_url}/")
    assert page.evaluate("document.documentElement.lang") == "ar"
    fetched = context.new_cdp_session(page).send("Page.getAppManifest")
    assert fetched["errors"] == []
    manifest = json.loads(fetched["data"])
    assert manifest["lang"] == "ar" and manifest["dir"] == "rtl"
    context.close()
