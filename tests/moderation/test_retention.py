"""Retention: purge_stats removes evidence, old reports, old decisions and ended bans, and nothing else."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from moderation.models import Ban, Decision, Report, ReportedAddress, StaffAction
from tests.moderation.test_evidence import jpeg

pytestmark = pytest.mark.django_db

CHAT = [{"from": "reported", "text": "words"}]


def aged(model, obj, field: str, **age) -> None:
    model.objects.filter(pk=obj.pk).update(**{field: timezone.now() - datetime.timedelta(**age)})


def with_evidence(address: ReportedAddress, **age) -> Report:
    report = Report.objects.create(address=address, reason="nudity", snapshot=jpeg(), chat=CHAT)
    aged(Report, report, "created_at", **age)
    return report


def purge() -> str:
    from io import StringIO

    out = StringIO()
    call_command("purge_stats", "--older-than", "90", stdout=out)
    return out.getvalue()


def test_evidence_goes_after_report_evidence_days(settings):
    settings.MODERATION = {**settings.MODERATION, "EVIDENCE_DAYS": 30}
    address = ReportedAddress.objects.create(ip_hash="a" * 64)
    fresh = with_evidence(address, days=29)
    old = with_evidence(address, days=31)
    assert "evidence removed from 1 reports" in purge()
    fresh.refresh_from_db()
    old.refresh_from_db()
    assert fresh.snapshot is not None and fresh.chat == CHAT
    assert old.snapshot is None and old.chat == []
    assert old.reason == "nudity"  # the report itself stays


def test_decided_cases_lose_their_evidence_after_the_grace_period(settings):
    settings.MODERATION = {**settings.MODERATION, "DECIDED_EVIDENCE_HOURS": 24}
    address = ReportedAddress.objects.create(ip_hash="b" * 64)
    within_grace = with_evidence(address, hours=1)
    within_grace.decision = Decision.objects.create(address=address, action="dismiss")
    within_grace.save()
    past_grace = with_evidence(address, hours=30)
    past_grace.decision = Decision.objects.create(address=address, action="ban_1")
    past_grace.save()
    aged(Decision, past_grace.decision, "decided_at", hours=25)
    still_open = with_evidence(address, hours=30)
    purge()
    for report in (within_grace, past_grace, still_open):
        report.refresh_from_db()
    assert within_grace.snapshot is not None and still_open.snapshot is not None
    assert past_grace.snapshot is None and past_grace.chat == []


def test_old_reports_decisions_addresses_and_ended_bans_are_purged(settings):
    settings.MODERATION = {**settings.MODERATION, "HISTORY_DAYS": 180}
    old = ReportedAddress.objects.create(ip_hash="c" * 64)
    aged(ReportedAddress, old, "last_reported_at", days=200)
    report = with_evidence(old, days=200)
    decision = Decision.objects.create(address=old, action="ban_30")
    aged(Decision, decision, "decided_at", days=190)
    Report.objects.filter(pk=report.pk).update(decision=decision)
    recent = ReportedAddress.objects.create(ip_hash="d" * 64)
    kept = with_evidence(recent, days=10)
    now = timezone.now()
    ended = Ban.objects.create(ip_hash="c" * 64, reason="x", until=now - datetime.timedelta(minutes=1))
    running = Ban.objects.create(ip_hash="d" * 64, reason="x", until=now + datetime.timedelta(days=1))
    # An address banned for good stays, with its ban, however old its reports.
    forever = ReportedAddress.objects.create(ip_hash="e" * 64)
    aged(ReportedAddress, forever, "last_reported_at", days=400)
    Ban.objects.create(ip_hash="e" * 64, reason="x", until=now + datetime.timedelta(days=3650))
    output = purge()
    assert "deleted 1 reports, 1 decisions, 1 reported addresses, 1 ended bans" in output
    assert list(Report.objects.all()) == [kept]
    assert not Decision.objects.exists()
    assert set(ReportedAddress.objects.values_list("ip_hash", flat=True)) == {"d" * 64, "e" * 64}
    assert not Ban.objects.filter(pk=ended.pk).exists() and Ban.objects.filter(pk=running.pk).exists()


def test_the_record_of_who_looked_is_kept_as_long_as_the_reports(settings, django_user_model):
    settings.MODERATION = {**settings.MODERATION, "HISTORY_DAYS": 180}
    staff = django_user_model.objects.create_user("ops", is_staff=True)
    address = ReportedAddress.objects.create(ip_hash="f" * 64)
    old_case = with_evidence(address, days=200)
    kept_case = with_evidence(address, days=10)
    gone_with_its_case = StaffAction.objects.create(report=old_case, staff_member=staff, action="reveal")
    aged(StaffAction, gone_with_its_case, "at", days=100)
    too_old = StaffAction.objects.create(report=kept_case, staff_member=staff, action="reveal")
    aged(StaffAction, too_old, "at", days=181)
    recent = StaffAction.objects.create(report=kept_case, staff_member=staff, action="dismiss")
    output = purge()
    assert "deleted 1 reports," in output and "and 2 records of staff actions" in output
    assert list(StaffAction.objects.all()) == [recent]
