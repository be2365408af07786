"""Staff watch the Live stats page while two visitors talk: the figures move without a reload."""

from __future__ import annotations

import pytest

from tests.browser.conftest import new_context, screenshot, wait_js
from tests.staff import browser_login, create_superuser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-test-password-42"


def test_live_stats_follow_a_call(visitor, browser, site_server):
    create_superuser(site_server.environ, "ops", PASSWORD)
    context = new_context(browser, viewport={"width": 1280, "height": 1000})
    staff = context.new_page()
    staff.goto(f"{site_server.http_url}/admin/live-stats/")
    assert "/admin/login/" in staff.url
    browser_login(staff, "ops", PASSWORD)  # a new superuser enrols a second factor first
    staff.wait_for_url("**/admin/live-stats/")
    wait_js(staff, "document.getElementById('fig-in-calls').textContent === '0'")

    alice = visitor()
    bob = visitor()
    alice.get_by_role("button", name="Talk to Aliens").click()
    wait_js(alice, "window.alienmeet.phase === 'searching'")
    wait_js(staff, "document.getElementById('fig-waiting').textContent === '1'")
    bob.get_by_role("button", name="Talk to Aliens").click()
    wait_js(staff, "document.getElementById('fig-in-calls').textContent === '1'")
    assert staff.locator("#fig-online").inner_text() == "2"
    assert staff.locator("#chart-minute svg rect").count() == 60
    # Both browsers report their (direct, loopback) connection; the table follows.
    connections = '#live-connections td[data-window="hour"][data-key="{}"]'
    wait_js(staff, f"document.querySelector('{connections.format('reports')}').textContent === '2'")
    assert staff.locator(connections.format("direct_share")).inner_text().startswith("100")
    assert staff.locator(connections.format("connect_p95_within")).inner_text()[0].isdigit()
    screenshot(staff, "live-stats")

    alice.get_by_role("button", name="Stop").click()
    wait_js(staff, "document.getElementById('fig-in-calls').textContent === '0'")
    wait_js(staff, "document.querySelector('td[data-window=\"hour\"][data-key=\"matches\"]').textContent === '1'")
    context.close()
