"""How long moderation keeps what it keeps (settings.MODERATION), applied by ``manage.py purge_stats``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from moderation.models import Ban, Decision, Report, ReportedAddress, StaffAction


@dataclass(frozen=True)
class Purged:
    evidence: int
    reports: int
    decisions: int
    addresses: int
    bans: int
    staff_actions: int = 0


def purge_moderation(now: datetime.datetime | None = None) -> Purged:
    conf = settings.MODERATION
    now = now or timezone.now()
    evidence_cutoff = now - datetime.timedelta(days=conf["EVIDENCE_DAYS"])
    decided_cutoff = now - datetime.timedelta(hours=conf["DECIDED_EVIDENCE_HOURS"])
    history_cutoff = now - datetime.timedelta(days=conf["HISTORY_DAYS"])
    with transaction.atomic():
        has_evidence = Q(snapshot__isnull=False) | ~Q(chat=[])
        evidence = (
            Report.objects.filter(has_evidence)
            .filter(Q(created_at__lt=evidence_cutoff) | Q(decision__decided_at__lt=decided_cutoff))
            .update(snapshot=None, chat=[])
        )
        # The record of who looked is kept as long as the reports, and goes with its case if that goes first.
        staff_actions, _ = StaffAction.objects.filter(at__lt=history_cutoff).delete()
        _, deleted = Report.objects.filter(created_at__lt=history_cutoff).delete()
        reports = deleted.get(Report._meta.label, 0)
        staff_actions += deleted.get(StaffAction._meta.label, 0)
        decisions, _ = (
            Decision.objects.filter(decided_at__lt=history_cutoff)
            .exclude(Exists(Report.objects.filter(decision=OuterRef("pk"))))
            .delete()
        )
        # A ban that has ended no longer matters: the decision that made it is the history.
        bans, _ = Ban.objects.filter(until__lte=now).delete()
        active = Ban.objects.filter(ip_hash=OuterRef("ip_hash"), until__gt=now)
        addresses, _ = (
            ReportedAddress.objects.filter(last_reported_at__lt=history_cutoff)
            .exclude(Exists(Report.objects.filter(address=OuterRef("pk"))))
            .exclude(Exists(Decision.objects.filter(address=OuterRef("pk"))))
            .exclude(Exists(active))
            .delete()
        )
    return Purged(evidence, reports, decisions, addresses, bans, staff_actions)
