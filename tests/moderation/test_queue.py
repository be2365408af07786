"""The moderation queue in the admin: order, evidence, history, decisions, and who may see the snapshots."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from moderation.bans import PERMANENT
from moderation.models import Ban, Decision, Report, ReportedAddress
from tests.moderation.test_evidence import jpeg
from tests.staff import verified_login

QUEUE = "/admin/moderation/report/queue/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return User.objects.create_user("ops", password="pw-for-tests", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    verified_login(client, staff)
    return client


def report(ip_hash: str, reason: str = "spam", minutes_ago: int = 0, **fields) -> Report:
    address, _ = ReportedAddress.objects.get_or_create(ip_hash=ip_hash)
    address.report_count += 1
    address.save()
    created = Report.objects.create(address=address, reason=reason, **fields)
    Report.objects.filter(pk=created.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    return created


def test_reports_grouped_by_address_and_ban_action(staff_client):
    loud = ReportedAddress.objects.create(ip_hash="a" * 64, report_count=3)
    quiet = ReportedAddress.objects.create(ip_hash="b" * 64, report_count=1)
    for reason in ("spam", "spam", "harassment"):
        Report.objects.create(address=loud, reason=reason)
    Report.objects.create(address=quiet, reason="other")
    html = staff_client.get("/admin/moderation/reportedaddress/").content.decode()
    assert html.index("aaaaaaaaaaaaaaaa") < html.index("bbbbbbbbbbbbbbbb")
    assert "Harassment, Spam" in html
    response = staff_client.post(
        "/admin/moderation/reportedaddress/",
        {"action": "ban_for_a_week", "_selected_action": [loud.pk]},
        follow=True,
    )
    assert "Banned 1 address for 7 days." in response.content.decode()
    ban = Ban.objects.get()
    assert ban.ip_hash == loud.ip_hash
    assert ban.until - timezone.now() > datetime.timedelta(days=6, hours=23)
    decision = Decision.objects.get()
    assert decision.action == Decision.Action.BAN_7 and decision.decided_by.username == "ops"


def test_queue_order_escalated_then_underage_then_newest(staff_client):
    report("1" * 64, "spam", minutes_ago=1)
    report("2" * 64, "underage", minutes_ago=30)
    report("3" * 64, "harassment", minutes_ago=60, escalated=True)
    report("4" * 64, "nudity", minutes_ago=0)
    decided = report("5" * 64, "nudity", minutes_ago=0)
    decided.decision = Decision.objects.create(address=decided.address, action="dismiss")
    decided.save()
    response = staff_client.get(QUEUE)
    assert response.status_code == 200
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    html = response.content.decode()
    positions = [html.index(label) for label in ("Harassment ·", "Underage ·", "Nudity ·", "Spam ·")]
    assert positions == sorted(positions)
    assert html.count('class="moderation-case') == 4
    assert "4 open reports" in html


def test_a_long_queue_is_paged_and_no_case_is_out_of_reach(staff_client):
    from moderation.admin import QUEUE_LENGTH

    for number in range(QUEUE_LENGTH + 3):
        report(f"{number:064d}", "spam", minutes_ago=number)
    first = staff_client.get(QUEUE).content.decode()
    assert first.count('class="moderation-case') == QUEUE_LENGTH
    assert f"{QUEUE_LENGTH + 3} open reports" in first
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = staff_client.get(QUEUE, {"page": 2}).content.decode()
    assert second.count('class="moderation-case') == 3
    assert 'href="?page=1"' in second
    # The oldest case, last in the order, is on the last page.
    oldest = Report.objects.get(address__ip_hash=f"{QUEUE_LENGTH + 2:064d}")
    assert f'id="case-{oldest.pk}"' in second and f'id="case-{oldest.pk}"' not in first
    # A page past the end, or no number at all, shows a page rather than an error.
    assert staff_client.get(QUEUE, {"page": "99"}).status_code == 200
    assert staff_client.get(QUEUE, {"page": "x"}).status_code == 200


def test_queue_shows_evidence_and_history(staff_client, staff):
    earlier = report("c" * 64, "spam", minutes_ago=90)
    Decision.objects.create(address=earlier.address, action=Decision.Action.BAN_1, decided_by=staff)
    earlier.decision = Decision.objects.first()
    earlier.save()
    current = report(
        "c" * 64,
        "nudity",
        snapshot=jpeg(),
        chat=[{"from": "reporter", "text": "hi <b>there</b>"}, {"from": "reported", "text": "rude words"}],
    )
    html = staff_client.get(QUEUE).content.decode()
    # Blurred and grey by default: the page holds the preview, and the real image only as what a reveal loads.
    assert f'src="/admin/moderation/report/{current.pk}/snapshot/blurred/"' in html
    assert f'data-full="/admin/moderation/report/{current.pk}/snapshot/"' in html
    assert f'src="/admin/moderation/report/{current.pk}/snapshot/"' not in html
    assert "Reporter:</strong> hi &lt;b&gt;there&lt;/b&gt;" in html
    assert "Reported:</strong> rude words" in html
    assert "2 reports in all" in html
    assert "Banned for 1 day" in html and ", ops)" in html
    for label in ("Dismiss", "Ban 1 day", "Ban 7 days", "Ban 30 days", "Ban permanently"):
        assert f">{label}</button>" in html
    assert 'href="/admin/moderation/report/queue/"' in staff_client.get("/admin/").content.decode()


def test_snapshot_is_served_to_staff_only_and_never_cached(client, staff_client, django_user_model):
    with_image = report("d" * 64, "nudity", snapshot=jpeg())
    url = f"/admin/moderation/report/{with_image.pk}/snapshot/"
    response = staff_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert response.content.startswith(b"\xff\xd8")
    anonymous = client.__class__().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    visitor = django_user_model.objects.create_user("visitor", password="pw")
    plain = client.__class__()
    plain.force_login(visitor)
    assert plain.get(url).status_code == 302
    assert plain.get(QUEUE).status_code == 302
    # Staff without the moderation permissions see neither the image nor the queue.
    helper = django_user_model.objects.create_user("helper", password="pw", is_staff=True)
    limited = client.__class__()
    limited.force_login(helper)
    assert limited.get(url).status_code == 403
    assert limited.get(QUEUE).status_code == 403
    assert limited.post(f"/admin/moderation/report/{with_image.pk}/decide/", {"action": "ban_1"}).status_code == 403
    assert not Ban.objects.exists()
    without = report("e" * 64, "spam")
    assert staff_client.get(f"/admin/moderation/report/{without.pk}/snapshot/").status_code == 404


@pytest.mark.parametrize(
    ("action", "days"), [("ban_1", 1), ("ban_7", 7), ("ban_30", 30), ("ban_permanent", None), ("dismiss", 0)]
)
def test_decisions_are_recorded_and_close_the_case(staff_client, action, days):
    first = report("f" * 64, "spam")
    second = report("f" * 64, "nudity")
    other = report("9" * 64, "spam")
    response = staff_client.post(f"/admin/moderation/report/{first.pk}/decide/", {"action": action})
    assert response.status_code == 302 and response["Location"] == QUEUE
    decision = Decision.objects.get()
    assert decision.action == action and decision.decided_by.username == "ops"
    assert abs(decision.decided_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert set(Report.objects.filter(decision=decision)) == {first, second}
    assert Report.objects.get(pk=other.pk).decision is None
    bans = list(Ban.objects.filter(ip_hash="f" * 64))
    if days == 0:
        assert bans == []
    elif days is None:
        assert bans[0].until == PERMANENT
    else:
        assert abs(bans[0].until - timezone.now() - datetime.timedelta(days=days)) < datetime.timedelta(minutes=1)
    assert "f" * 16 not in staff_client.get(QUEUE).content.decode()


def test_decide_refuses_get_and_unknown_actions(staff_client):
    case = report("0" * 64, "spam")
    assert staff_client.get(f"/admin/moderation/report/{case.pk}/decide/").status_code == 405
    response = staff_client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_forever"}, follow=True)
    assert "Unknown action" in response.content.decode()
    assert not Decision.objects.exists() and not Ban.objects.exists()
    assert staff_client.post("/admin/moderation/report/999999/decide/", {"action": "dismiss"}).status_code == 404


def test_report_list_and_detail_are_read_only_and_leave_images_out(staff_client):
    with_image = report("7" * 64, "nudity", snapshot=jpeg(), chat=[{"from": "reported", "text": "hey"}])
    report("8" * 64, "spam")
    listing = staff_client.get("/admin/moderation/report/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert html.count('alt="True"') == 1 and html.count('alt="False"') >= 1
    detail = staff_client.get(f"/admin/moderation/report/{with_image.pk}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert 'name="_save"' not in page and "hey" in page and "\\xff\\xd8" not in page
    assert staff_client.get("/admin/moderation/report/add/").status_code == 403


def test_address_page_shows_its_decisions_and_reports(staff_client, staff):
    case = report("6" * 64, "underage")
    staff_client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_30"})
    page = staff_client.get(f"/admin/moderation/reportedaddress/{case.address.pk}/change/").content.decode()
    assert "Banned for 30 days" in page and "Underage" in page and "ops" in page


def test_staff_read_the_moderation_admin_in_their_language(staff_client):
    """Labels, reasons, decisions, actions, filters and messages follow the staff member's language."""
    loud = ReportedAddress.objects.create(ip_hash="d" * 64, report_count=2)
    Report.objects.create(address=loud, reason="underage")
    Report.objects.create(address=loud, reason="spam")
    Decision.objects.create(address=loud, action=Decision.Action.BAN_30)
    es = {"HTTP_ACCEPT_LANGUAGE": "es"}
    html = staff_client.get("/admin/moderation/reportedaddress/", **es).content.decode()
    assert "Direcciones denunciadas" in html  # the model's name
    assert "Dirección (hash)" in html and "Motivos" in html and "Bloqueada hasta" in html  # columns
    assert "Menor de edad, Spam" in html  # the reasons, in the staff member's language
    assert "Bloquear una semana" in html  # the bulk action
    assert "Por motivo" in html  # the filter, titled by the field's label
    assert "Moderación" in staff_client.get("/admin/", **es).content.decode()  # the app's name
    response = staff_client.post(
        "/admin/moderation/reportedaddress/",
        {"action": "ban_for_a_month", "_selected_action": [loud.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert "Заблокировано на 30 дней: 1 адрес." in response.content.decode()
    report("d" * 64, "nudity")  # the address comes back: its earlier decisions show
    html = staff_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nudité" in html and "Banni pour 30 jours" in html  # the reason and the earlier decision
    for label in ("Classer sans suite", "Bannir 1 jour", "Bannir définitivement"):
        assert f">{label}</button>" in html
    assert "<title>File de modération" in html
    html = staff_client.get("/admin/moderation/decision/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "محظور 30 يومًا" in html and "صاحب القرار" in html


def test_unknown_decision_is_refused_in_the_staff_members_language(staff_client):
    current = report("f" * 64)
    response = staff_client.post(
        f"/admin/moderation/report/{current.pk}/decide/",
        {"action": "obliterate"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="tr",
    )
    assert "Bilinmeyen işlem; hiçbir karar verilmedi." in response.content.decode()
    assert not Decision.objects.exists()


def test_the_blurred_preview_is_grey_and_tiny_and_only_the_full_image_is_a_reveal(staff_client, staff):
    import io

    from PIL import Image

    from moderation.models import StaffAction

    case = report("a1" * 32, "nudity", snapshot=jpeg())
    preview = staff_client.get(f"/admin/moderation/report/{case.pk}/snapshot/blurred/")
    assert preview.status_code == 200 and preview["Cache-Control"].startswith("private")
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.mode == "L" and image.width <= 16
    assert not StaffAction.objects.exists(), "a blurred preview is not a look at the evidence"
    staff_client.get(f"/admin/moderation/report/{case.pk}/snapshot/")
    reveal = StaffAction.objects.get()
    assert (reveal.report, reveal.staff_member, reveal.action) == (case, staff, "reveal")


def test_a_staff_member_may_turn_the_blur_off_for_themselves_only(staff_client, client, django_user_model):
    case = report("a2" * 32, "nudity", snapshot=jpeg())
    full = f'src="/admin/moderation/report/{case.pk}/snapshot/"'
    assert full not in staff_client.get(QUEUE).content.decode()
    staff_client.post("/admin/moderation/report/preference/", {"unblurred": "on"})
    assert full in staff_client.get(QUEUE).content.decode()
    colleague = client.__class__()
    verified_login(colleague, django_user_model.objects.create_superuser("lead", password="pw-for-tests"))
    assert full not in colleague.get(QUEUE).content.decode()
    staff_client.post("/admin/moderation/report/preference/", {})
    assert full not in staff_client.get(QUEUE).content.decode()


def test_an_accidental_ban_is_undone_within_minutes(staff_client, staff):
    from moderation.models import StaffAction

    case = report("a3" * 32, "spam")
    staff_client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_30"})
    decision = Decision.objects.get()
    assert Ban.objects.filter(ip_hash=case.address.ip_hash).exists()
    html = staff_client.get(QUEUE).content.decode()
    assert f'action="/admin/moderation/report/undo/{decision.pk}/"' in html
    response = staff_client.post(f"/admin/moderation/report/undo/{decision.pk}/", follow=True)
    assert "Decision undone" in response.content.decode()
    assert not Ban.objects.exists()
    decision.refresh_from_db()
    assert decision.undone_at is not None
    assert Report.objects.get(pk=case.pk).decision is None, "the case is open again"
    assert list(StaffAction.objects.order_by("at").values_list("action", flat=True)) == ["ban_30", "undo"]
    # Once is enough, and later is too late.
    staff_client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_7"})
    late = Decision.objects.get(action="ban_7")
    Decision.objects.filter(pk=late.pk).update(decided_at=timezone.now() - datetime.timedelta(minutes=6))
    response = staff_client.post(f"/admin/moderation/report/undo/{late.pk}/", follow=True)
    assert "Too late" in response.content.decode()
    assert Ban.objects.filter(ip_hash=case.address.ip_hash).exists()


def test_live_counts_of_the_queue(staff_client):
    report("b1" * 32, "spam", minutes_ago=90)
    report("b2" * 32, "spam", minutes_ago=5, escalated=True)
    decided = report("b3" * 32, "spam", minutes_ago=300)
    decided.decision = Decision.objects.create(address=decided.address, action="dismiss")
    decided.save()
    counts = staff_client.get("/admin/moderation/report/queue/counts.json").json()
    assert counts["open"] == 2 and counts["escalated"] == 1
    assert counts["oldest"].startswith("1\xa0hour")
    html = staff_client.get(QUEUE).content.decode()
    assert 'id="count-open">2<' in html and 'id="count-escalated">1<' in html


def test_the_case_page_lists_who_looked_and_the_record_is_for_superusers(
    staff_client, staff, client, django_user_model
):
    from django.contrib.auth.models import Permission

    case = report("c1" * 32, "nudity", snapshot=jpeg())
    staff_client.get(f"/admin/moderation/report/{case.pk}/snapshot/")
    staff_client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "dismiss"})
    page = staff_client.get(f"/admin/moderation/report/{case.pk}/case/").content.decode()
    assert "Revealed the snapshot" in page and "Dismissed" in page and "ops" in page
    assert case.address.ip_hash[:20] not in page
    assert staff_client.get("/admin/moderation/staffaction/").status_code == 200
    moderator = django_user_model.objects.create_user("mod", password="pw", is_staff=True)
    moderator.user_permissions.set(Permission.objects.filter(content_type__app_label="moderation"))
    other = client.__class__()
    verified_login(other, moderator)
    assert other.get("/admin/moderation/staffaction/").status_code == 403
    assert "staffaction" not in other.get("/admin/").content.decode()
