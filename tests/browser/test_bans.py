"""Bans seen from the browser: three different reporters ban a stranger at once, and a ban from the
moderation queue closes the stranger's open page and refuses it on reload. Each visitor has an
address of its own (X-Forwarded-For from a trusted proxy), as on a real site."""

from __future__ import annotations

import pytest

from tests.browser.conftest import new_context, server_with, wait_js
from tests.staff import browser_login, create_superuser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-test-password-42"
BOB = "203.0.113.8"
BANNED = "document.getElementById('status').textContent.includes('banned')"


# The module's visitors come through a trusted proxy, each from an address of its own.
site_server = server_with("bans", TRUSTED_PROXIES="127.0.0.1")


def meet(reporter, stranger) -> None:
    reporter.get_by_role("button", name="Talk to Aliens").click()
    for page in (reporter, stranger):
        wait_js(page, "window.alienmeet.phase === 'connected'")


def report(page, reason: str) -> None:
    page.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog", name="Report this stranger")
    dialog.get_by_label(reason).check()
    dialog.get_by_role("button", name="Send report").click()
    page.locator("#chat-log .notice", has_text="The stranger was reported").wait_for()


def test_three_different_reporters_ban_the_stranger_at_once(visitor):
    bob = visitor(address=BOB)
    bob.get_by_role("button", name="Talk to Aliens").click()
    wait_js(bob, "window.alienmeet.phase === 'searching'")
    for number, address in enumerate(("192.0.2.11", "192.0.2.12", "192.0.2.13"), start=1):
        reporter = visitor(address=address)
        meet(reporter, bob)
        report(reporter, "Nudity")
        reporter.context.close()  # out of the queue, so the next reporter meets Bob
        if number < 3:
            wait_js(bob, "window.alienmeet.phase === 'searching'")
            assert not bob.evaluate(BANNED)
    wait_js(bob, BANNED, timeout=10000)
    assert bob.get_by_role("button", name="Talk to Aliens").is_disabled()


def test_a_ban_from_the_queue_closes_the_strangers_page(visitor, browser, site_server):
    alice = visitor(address="198.51.100.7")
    bob = visitor(address="203.0.113.99")
    bob.get_by_role("button", name="Talk to Aliens").click()
    wait_js(bob, "window.alienmeet.phase === 'searching'")
    meet(alice, bob)
    report(alice, "Harassment")
    create_superuser(site_server.environ, "mod", PASSWORD)
    context = new_context(browser)
    staff = context.new_page()
    staff.goto(f"{site_server.http_url}/admin/moderation/report/queue/")
    browser_login(staff, "mod", PASSWORD)  # a new superuser enrols a second factor first
    staff.wait_for_url("**/admin/moderation/report/queue/")
    staff.locator("section.moderation-case", has_text="Harassment").get_by_role("button", name="Ban 7 days").click()
    staff.get_by_text("Banned for 7 days").first.wait_for()
    wait_js(bob, BANNED, timeout=10000)
    bob.reload()
    wait_js(bob, BANNED, timeout=10000)
    # The reporter is not touched.
    assert alice.evaluate("window.alienmeet.signalingOpen")
    assert not alice.evaluate(BANNED)
    context.close()
