"""The moderators' desk in a real browser: snapshots blurred until one case is revealed, a keyboard-only
review, undoing an accidental ban, the second factor at login, and no accessibility violation."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import new_context, server_with, wait_js
from tests.browser.test_site_pages import axe_violations
from tests.operator_shell import OperatorShell
from tests.servers import ROOT
from tests.staff import browser_login, create_superuser, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-test-password-42"
QUEUE = "/admin/moderation/report/queue/"
SCREENSHOTS = ROOT / "docs" / "screenshots"
BLURRED = "img => !img.closest('figure').classList.contains('revealed') && img.src.endsWith('/blurred/')"
REVEALED = "img => img.closest('figure').classList.contains('revealed') && img.naturalWidth === 320"

desk_server = server_with("desk")


@pytest.fixture(scope="module")
def desk_shell(desk_server) -> Iterator[OperatorShell]:
    """Python against the desk server's own database, as an operator runs it (another process)."""
    shell = OperatorShell(desk_server.environ)
    yield shell
    shell.close()


def seed(shell: OperatorShell, *cases: tuple[str, str]) -> list[int]:
    """An empty queue, then these (reason, chat line) cases, each from an address of its own, the first newest."""
    code = f"""
        import datetime, json
        from django.utils import timezone
        from moderation.models import Ban, Decision, Report, ReportedAddress, StaffAction
        from tests.moderation.test_evidence import jpeg
        StaffAction.objects.all().delete(); Report.objects.all().delete()
        Decision.objects.all().delete(); Ban.objects.all().delete(); ReportedAddress.objects.all().delete()
        ids = []
        for number, (reason, line) in enumerate({list(cases)!r}):
            address = ReportedAddress.objects.create(ip_hash=str(number) * 64, report_count=1)
            chat = [{{"from": "reported", "text": line}}]
            report = Report.objects.create(address=address, reason=reason, snapshot=jpeg(), chat=chat)
            Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=number))
            ids.append(report.pk)
        print(json.dumps(ids))
    """
    return json.loads(shell.run(code).strip().splitlines()[-1])


def make_staff(shell: OperatorShell) -> tuple[str, str]:
    """A superuser with an authenticator app already enrolled; returns the username and its TOTP secret."""
    username = f"mod{secrets.token_hex(3)}"
    key = secrets.token_hex(20)
    shell.run(
        f"""
        from django.contrib.auth.models import User
        from django_otp.plugins.otp_totp.models import TOTPDevice
        user = User.objects.create_superuser({username!r}, password={PASSWORD!r})
        TOTPDevice.objects.create(user=user, name="phone", key={key!r}, confirmed=True)
        """,
    )
    import base64

    return username, base64.b32encode(bytes.fromhex(key)).decode().rstrip("=")


def decisions(shell: OperatorShell) -> dict[str, list[tuple[str, bool]]]:
    """Per address (its first character), the decisions made, and whether each was undone."""
    out = shell.run(
        """
        import json
        from moderation.models import Decision
        rows = {}
        for d in Decision.objects.order_by("decided_at").select_related("address"):
            rows.setdefault(d.address.ip_hash[0], []).append((d.action, d.undone_at is not None))
        print(json.dumps(rows))
        """,
    )
    return {key: [tuple(row) for row in rows] for key, rows in json.loads(out.strip().splitlines()[-1]).items()}


@pytest.fixture
def staff_page(browser, desk_server, desk_shell):
    contexts = []

    def open_page(path: str = QUEUE):
        context = new_context(browser, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{desk_server.http_url}{path}")
        username, secret = make_staff(desk_shell)
        browser_login(page, username, PASSWORD, secret)
        page.wait_for_url(f"**{path}")
        return page

    yield open_page
    for context in contexts:
        context.close()


def case(page, pk: int):
    return page.locator(f"#section-{pk}")


def test_snapshots_are_blurred_until_one_case_is_revealed(staff_page, desk_server, desk_shell):
    first, second = seed(desk_shell, ("nudity", "look at this"), ("nudity", "second case words"))
    page = staff_page()
    image = case(page, first).locator("img.snapshot")
    other = case(page, second).locator("img.snapshot")
    assert image.evaluate(BLURRED) and other.evaluate(BLURRED)
    assert "blur" in image.evaluate("img => getComputedStyle(img).filter")
    # The chat lines of a nudity case stay readable: they are text.
    assert case(page, first).get_by_text("look at this").is_visible()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "moderation-queue-blurred.png"), full_page=True)

    case(page, first).get_by_role("link", name="Reveal the snapshot").click()
    wait_js(page, f"document.querySelector('#section-{first} figure').classList.contains('revealed')")
    assert image.evaluate(REVEALED)
    assert other.evaluate(BLURRED), "revealing one case revealed another"
    assert axe_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "moderation-queue-revealed.png"), full_page=True)

    # The case page: the other case is still blurred there, and the reveal is on record, with who made it.
    page.goto(f"{desk_server.http_url}/admin/moderation/report/{second}/case/")
    assert page.locator("img.snapshot").evaluate(BLURRED)
    assert axe_violations(page) == []
    page.goto(f"{desk_server.http_url}/admin/moderation/report/{first}/case/")
    assert page.locator("img.snapshot").evaluate(BLURRED), "a reveal lasts for that view only"
    record = page.locator("table", has_text="Revealed the snapshot")
    assert record.count() == 1 and "mod" in record.inner_text()
    assert axe_violations(page) == []


def test_live_counts_follow_new_reports(staff_page, desk_shell):
    seed(desk_shell, ("spam", "one"))
    page = staff_page()
    assert page.locator("#count-open").inner_text() == "1"
    desk_shell.run(
        """
        from moderation.models import Report, ReportedAddress
        address = ReportedAddress.objects.create(ip_hash="z" * 64)
        Report.objects.create(address=address, reason="underage", escalated=True)
        """,
    )
    wait_js(page, "document.getElementById('count-open').textContent === '2'", timeout=40000)
    assert page.locator("#count-escalated").inner_text() == "1"


def test_three_cases_reviewed_from_the_keyboard_only(staff_page, desk_shell):
    seed(desk_shell, ("spam", "first"), ("harassment", "second"), ("other", "third"))
    page = staff_page()
    shortcuts = page.locator(".desk-shortcuts").inner_text()
    for key in ("j", "k", "v", "d", "1", "7", "3", "p", "u"):
        assert key in shortcuts
    # Each decision reloads the queue; j takes the newest open case, the key decides it.
    for key, remaining in (("d", "2"), ("1", "1"), ("7", "0")):
        page.keyboard.press("j")
        assert page.evaluate("document.activeElement.matches('section.moderation-case')")
        if key == "d":
            page.keyboard.press("v")
            wait_js(page, "document.activeElement.querySelector('figure.revealed') !== null")
        with page.expect_navigation():
            page.keyboard.press(key)
        assert page.locator("#count-open").inner_text() == remaining
    assert decisions(desk_shell) == {"0": [("dismiss", False)], "1": [("ban_1", False)], "2": [("ban_7", False)]}
    # A key pressed with no case chosen decides nothing.
    seed(desk_shell, ("spam", "untouched"))
    page.reload()
    page.keyboard.press("p")
    assert decisions(desk_shell) == {}


def test_an_accidental_ban_is_undone_from_the_same_page(staff_page, desk_shell):
    (pk,) = seed(desk_shell, ("spam", "oops"))
    page = staff_page()
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("3")
    assert page.locator("#desk-undo").is_visible()
    assert case(page, pk).count() == 0
    with page.expect_navigation():
        page.keyboard.press("u")
    page.get_by_text("Decision undone").wait_for()
    assert case(page, pk).count() == 1, "the case is open again"
    assert decisions(desk_shell) == {"0": [("ban_30", True)]}
    banned = desk_shell.run("from moderation.models import Ban; print(Ban.objects.count())")
    assert banned.strip().endswith("0")


def test_a_password_alone_reaches_neither_the_queue_nor_any_evidence(browser, desk_server, desk_shell):
    (pk,) = seed(desk_shell, ("nudity", "secret words"))
    username, _ = make_staff(desk_shell)
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{desk_server.http_url}/admin/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/second-factor/**")
        evidence = (
            QUEUE,
            f"/admin/moderation/report/{pk}/case/",
            f"/admin/moderation/report/{pk}/case/?reveal=1",
            f"/admin/moderation/report/{pk}/snapshot/",
            f"/admin/moderation/report/{pk}/snapshot/blurred/",
            f"/admin/moderation/report/{pk}/change/",
            "/admin/moderation/staffaction/",
        )
        for path in evidence:
            response = page.goto(f"{desk_server.http_url}{path}")
            assert "/admin/second-factor/" in page.url, path
            assert response.headers["content-type"].startswith("text/html"), path
            assert "secret words" not in page.content()
        refused = page.request.get(f"{desk_server.http_url}/admin/moderation/report/{pk}/snapshot/", max_redirects=0)
        assert refused.status == 302
    finally:
        context.close()


def test_a_new_superuser_enrols_with_a_code_computed_from_the_key(browser, desk_server):
    create_superuser(desk_server.environ, "first", PASSWORD)
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{desk_server.http_url}{QUEUE}")
        page.get_by_label("Username").fill("first")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/second-factor/enrol/**")
        assert page.locator(".second-factor-qr svg").is_visible()
        assert axe_violations(page) == []
        key = page.locator("#totp-secret").inner_text().strip()
        page.get_by_label("Code").fill(totp_code(key))  # RFC 6238 computed by the test, not the library
        page.get_by_role("button", name="Confirm").click()
        codes = page.locator("#recovery-codes li")
        codes.first.wait_for()
        assert codes.count() == 10
        page.get_by_role("link", name="Continue").click()
        page.wait_for_url(f"**{QUEUE}")
        assert page.get_by_text("Open cases").is_visible()
    finally:
        context.close()


def test_a_passkey_added_after_enrolment_verifies_the_next_login(browser, desk_server, desk_shell):
    """Chromium's virtual authenticator stands in for the phone. A passkey's relying party must be a domain
    name, so this test uses localhost rather than 127.0.0.1."""
    desk_shell.run(
        "from django.contrib.auth.models import User\n"
        f"User.objects.create_superuser('keyholder', password={PASSWORD!r})",
    )
    origin = desk_server.http_url.replace("127.0.0.1", "localhost")
    context = new_context(browser)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        options = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True}
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {"options": {**options, "hasUserVerification": True, "isUserVerified": True}},
        )
        page.goto(f"{origin}{QUEUE}")
        page.get_by_label("Username").fill("keyholder")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/second-factor/enrol/**")
        page.get_by_label("Code").fill(totp_code(page.locator("#totp-secret").inner_text().strip()))
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("button", name="Add a passkey").click()
        wait_js(page, "document.getElementById('passkey-register-status-message').textContent.trim() !== ''")
        stored = desk_shell.run(
            "from django_otp_webauthn.models import WebAuthnCredential; print(WebAuthnCredential.objects.count())",
        )
        assert stored.strip().endswith("1"), page.locator("#passkey-register-status-message").inner_text()

        page.get_by_role("link", name="Continue").click()
        page.wait_for_url(f"**{QUEUE}")
        page.locator("#logout-form button").click()
        page.goto(f"{origin}{QUEUE}")
        page.get_by_label("Username").fill("keyholder")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: urlsplit(url).path == "/admin/second-factor/")
        page.get_by_role("button", name="Verify with a passkey").wait_for()
        assert axe_violations(page) == []
        page.get_by_role("button", name="Verify with a passkey").click()
        page.wait_for_url(lambda url: urlsplit(url).path == QUEUE)
        assert page.get_by_text("Open cases").is_visible()
    finally:
        context.close()
