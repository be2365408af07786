"""Who may do what at the moderators' desk: every URL and action that bans, lifts a ban, decides a case or
shows evidence checks its own permission, walked as view-only staff, as staff without moderation rights,
and as a moderator."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client, RequestFactory
from django.utils import timezone

from moderation.admin import BanAdmin, can_decide, can_see_evidence
from moderation.models import Ban, Decision, Report, ReportedAddress
from tests.moderation.test_evidence import jpeg
from tests.staff import verified_login

pytestmark = pytest.mark.django_db

VIEW_ONLY = ("view_report", "view_reportedaddress", "view_decision", "view_ban")
MODERATOR = (*VIEW_ONLY, "view_evidence", "decide", "change_ban", "delete_ban")
CHAT = "words only the evidence shows"


def staff_member(username: str, codenames: tuple[str, ...]) -> Client:
    user = User.objects.create_user(username, password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="moderation", codename__in=codenames))
    client = Client()
    verified_login(client, user)
    return client


@pytest.fixture
def case() -> Report:
    address = ReportedAddress.objects.create(ip_hash="a" * 64, report_count=1)
    return Report.objects.create(
        address=address, reason="nudity", snapshot=jpeg(), chat=[{"from": "reported", "text": CHAT}]
    )


@pytest.fixture
def clients() -> dict[str, Client]:
    return {
        "view-only": staff_member("viewer", VIEW_ONLY),
        "no rights": staff_member("helper", ()),
        "moderator": staff_member("mod", MODERATOR),
    }


def evidence_urls(case: Report) -> list[str]:
    return [
        "/admin/moderation/report/queue/",
        f"/admin/moderation/report/{case.pk}/case/",
        f"/admin/moderation/report/{case.pk}/case/?reveal=1",
        f"/admin/moderation/report/{case.pk}/snapshot/",
        f"/admin/moderation/report/{case.pk}/snapshot/blurred/",
    ]


def test_evidence_is_shown_to_moderators_only(clients, case):
    for url in evidence_urls(case):
        assert clients["moderator"].get(url).status_code == 200, url
        assert clients["view-only"].get(url).status_code == 403, url
        assert clients["no rights"].get(url).status_code == 403, url
    # The report's own page lists it for whoever may view reports, with its chat lines only for moderators.
    record = f"/admin/moderation/report/{case.pk}/change/"
    assert CHAT in clients["moderator"].get(record).content.decode()
    seen = clients["view-only"].get(record)
    assert seen.status_code == 200 and CHAT not in seen.content.decode()
    assert clients["no rights"].get(record).status_code == 403


@pytest.mark.parametrize("who", ["view-only", "no rights"])
def test_nobody_without_the_decide_permission_bans_or_decides(clients, case, who):
    client = clients[who]
    for action in ("dismiss", "ban_1", "ban_7", "ban_30", "ban_permanent"):
        assert client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": action}).status_code == 403
    for action in ("ban_for_a_day", "ban_for_a_week", "ban_for_a_month"):
        client.post("/admin/moderation/reportedaddress/", {"action": action, "_selected_action": [case.address.pk]})
    assert not Ban.objects.exists() and not Decision.objects.exists()
    # Nor undo someone else's decision, nor change how evidence is shown.
    decision = Decision.objects.create(address=case.address, action="ban_1")
    Ban.objects.create(
        ip_hash=case.address.ip_hash, reason="Banned by mod", until=timezone.now() + datetime.timedelta(days=1)
    )
    assert client.post(f"/admin/moderation/report/undo/{decision.pk}/").status_code == 403
    assert client.post("/admin/moderation/report/preference/", {"unblurred": "on"}).status_code == 403
    assert Ban.objects.count() == 1 and Decision.objects.get().undone_at is None
    # The record of who looked is for superusers only, even for a moderator.
    assert client.get("/admin/moderation/staffaction/").status_code == 403
    if who == "view-only":
        listing = client.get("/admin/moderation/reportedaddress/").content.decode()
        assert "ban_for_a_day" not in listing, "the list offers an action its reader may not run"


def test_a_moderator_decides_from_the_queue_and_the_address_list(clients, case):
    moderator = clients["moderator"]
    assert "ban_for_a_week" in moderator.get("/admin/moderation/reportedaddress/").content.decode()
    moderator.post(
        "/admin/moderation/reportedaddress/", {"action": "ban_for_a_week", "_selected_action": [case.address.pk]}
    )
    assert Decision.objects.get().decided_by.username == "mod"
    other = Report.objects.create(address=ReportedAddress.objects.create(ip_hash="b" * 64), reason="spam")
    assert moderator.post(f"/admin/moderation/report/{other.pk}/decide/", {"action": "ban_1"}).status_code == 302
    assert Ban.objects.count() == 2
    undo = moderator.post(f"/admin/moderation/report/undo/{Decision.objects.get(action='ban_1').pk}/")
    assert undo.status_code == 302 and Ban.objects.count() == 1
    assert moderator.post("/admin/moderation/report/preference/", {"unblurred": "on"}).status_code == 302
    assert moderator.get("/admin/moderation/staffaction/").status_code == 403


@pytest.mark.parametrize("who", ["view-only", "no rights"])
def test_a_ban_is_lifted_or_changed_only_with_the_bans_permissions(clients, who):
    ban = Ban.objects.create(ip_hash="c" * 64, reason="spam", until=timezone.now() + datetime.timedelta(days=1))
    client = clients[who]
    assert client.post(f"/admin/moderation/ban/{ban.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post("/admin/moderation/ban/", {"action": "delete_selected", "_selected_action": [ban.pk], "post": "yes"})
    assert (
        client.post(
            f"/admin/moderation/ban/{ban.pk}/change/",
            {"ip_hash": ban.ip_hash, "reason": "x", "until_0": "2000-01-01", "until_1": "00:00:00"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/admin/moderation/ban/add/",
            {"ip_hash": "d" * 64, "reason": "x", "until_0": "2999-01-01", "until_1": "00:00:00"},
        ).status_code
        == 403
    )
    assert list(Ban.objects.values_list("pk", "until")) == [(ban.pk, ban.until)]
    moderator = clients["moderator"]
    assert moderator.post(f"/admin/moderation/ban/{ban.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Ban.objects.exists()


def test_a_filter_on_the_evidence_is_refused_to_staff_who_may_not_see_it(clients, case):
    Report.objects.create(address=case.address, reason="spam", chat=[{"from": "reported", "text": "nothing"}])
    # A count that changes with the letters guessed would spell the chat out one character at a time.
    for lookup in ("chat__icontains=words", "chat__icontains=zzz", "snapshot__isnull=False", "chat=[]"):
        answer = clients["view-only"].get(f"/admin/moderation/report/?{lookup}")
        assert answer.status_code == 400, lookup
        assert "1 report" not in answer.content.decode() and "0 reports" not in answer.content.decode()
    assert "2 reports" in clients["view-only"].get("/admin/moderation/report/").content.decode()
    assert "1 report" in clients["moderator"].get("/admin/moderation/report/?chat__icontains=words").content.decode()


def test_the_bans_own_permissions_without_the_decide_right_neither_ban_nor_lift(case):
    client = staff_member("banclerk", ("view_ban", "add_ban", "change_ban", "delete_ban"))
    ban = Ban.objects.create(ip_hash="c" * 64, reason="spam", until=timezone.now() + datetime.timedelta(days=1))
    assert client.get("/admin/moderation/ban/").status_code == 200
    assert client.post(f"/admin/moderation/ban/{ban.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post("/admin/moderation/ban/", {"action": "delete_selected", "_selected_action": [ban.pk], "post": "yes"})
    change = {"ip_hash": ban.ip_hash, "reason": "x", "until_0": "2000-01-01", "until_1": "00:00:00"}
    assert client.post(f"/admin/moderation/ban/{ban.pk}/change/", change).status_code == 403
    add = {"ip_hash": "d" * 64, "reason": "x", "until_0": "2999-01-01", "until_1": "00:00:00"}
    assert client.post("/admin/moderation/ban/add/", add).status_code == 403
    assert list(Ban.objects.values_list("pk", "until")) == [(ban.pk, ban.until)]


def test_a_moderator_undoes_only_their_own_decision_and_only_the_ban_it_made(clients, case):
    moderator, other = clients["moderator"], staff_member("mod2", MODERATOR)
    assert moderator.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_1"}).status_code == 302
    decision = Decision.objects.get()
    assert other.post(f"/admin/moderation/report/undo/{decision.pk}/").status_code == 403
    assert Ban.objects.count() == 1 and Decision.objects.get().undone_at is None
    # Another moderator bans the same address a moment later, from the address list: undoing the first
    # decision lifts the first ban only.
    other.post(
        "/admin/moderation/reportedaddress/", {"action": "ban_for_a_week", "_selected_action": [case.address.pk]}
    )
    later = Ban.objects.get(reason__contains="mod2")
    assert moderator.post(f"/admin/moderation/report/undo/{decision.pk}/").status_code == 302
    assert Decision.objects.get(pk=decision.pk).undone_at is not None
    assert list(Ban.objects.values_list("pk", flat=True)) == [later.pk]


def test_undoing_a_dismissal_lifts_no_ban(clients, case):
    moderator = clients["moderator"]
    moderator.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "dismiss"})
    moderator.post(
        "/admin/moderation/reportedaddress/", {"action": "ban_for_a_day", "_selected_action": [case.address.pk]}
    )
    dismissal = Decision.objects.get(action="dismiss")
    assert moderator.post(f"/admin/moderation/report/undo/{dismissal.pk}/").status_code == 302
    assert Ban.objects.count() == 1


def test_the_second_factor_is_asked_for_under_a_path_prefix_too(case):
    user = User.objects.create_user("unverified", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="moderation", codename__in=MODERATOR))
    client = Client()
    client.force_login(user)
    for url in evidence_urls(case):
        answer = client.get(url, SCRIPT_NAME="/meet")
        assert answer.status_code == 302 and "/second-factor/" in answer["Location"], url
    answer = client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_1"}, SCRIPT_NAME="/meet")
    assert answer.status_code == 302 and "/second-factor/" in answer["Location"]
    assert not Ban.objects.exists() and not Decision.objects.exists()


def test_the_desks_own_checks_refuse_a_moderator_without_the_second_factor():
    user = User.objects.create_user("unverified", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="moderation", codename__in=MODERATOR))
    request = RequestFactory().get("/admin/moderation/report/queue/")
    request.user = User.objects.get(pk=user.pk)
    request.user.is_verified = lambda: False
    assert not can_see_evidence(request) and not can_decide(request)
    assert not BanAdmin(Ban, admin.site).has_delete_permission(request)
    request.user.is_verified = lambda: True
    assert can_see_evidence(request) and can_decide(request)
