"""Staff decisions on a reported address: dismiss, or ban for a while or for good."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.bans import PERMANENT, announce_ban_sync, create_ban
from moderation.models import Ban, Decision, Report, ReportedAddress, StaffAction

BAN_DAYS = {Decision.Action.BAN_1: 1, Decision.Action.BAN_7: 7, Decision.Action.BAN_30: 30}
# What staff may decide in the queue, with the button that says so.
ACTION_BUTTONS = {
    Decision.Action.DISMISS: _("Dismiss"),
    Decision.Action.BAN_1: _("Ban 1 day"),
    Decision.Action.BAN_7: _("Ban 7 days"),
    Decision.Action.BAN_30: _("Ban 30 days"),
    Decision.Action.BAN_PERMANENT: _("Ban permanently"),
}
STAFF_ACTIONS = tuple(ACTION_BUTTONS)
# How long an accidental decision can be taken back from the queue.
UNDO_MINUTES = 5
# A decision and its ban are written in one transaction, so a moment apart.
BAN_WRITTEN_WITHIN = datetime.timedelta(seconds=10)


def ban_until(action: str, now: datetime.datetime | None = None) -> datetime.datetime | None:
    if action == Decision.Action.BAN_PERMANENT:
        return PERMANENT
    days = BAN_DAYS.get(action)  # type: ignore[call-overload]
    return (now or timezone.now()) + datetime.timedelta(days=days) if days else None


def ban_reason(user: AbstractBaseUser | None) -> str:
    name = user.get_username() if user is not None else "staff"
    return f"Banned by {name} after reports"


def decide(address: ReportedAddress, action: str, user: AbstractBaseUser | None) -> Decision:
    """Record the decision, close the address's open reports and apply the ban (live, on every process)."""
    if action not in STAFF_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    until = ban_until(action)
    with transaction.atomic():
        decision = Decision.objects.create(address=address, action=action, decided_by=user)
        closing = list(address.reports.filter(decision__isnull=True).values_list("pk", flat=True))
        Report.objects.filter(pk__in=closing).update(decision=decision)
        if user is not None:
            StaffAction.objects.bulk_create(
                StaffAction(report_id=pk, staff_member=user, action=action) for pk in closing
            )
        if until is not None:
            create_ban(address.ip_hash, until, ban_reason(user))
    if until is not None:
        announce_ban_sync(address.ip_hash, until)
    return decision


def ban_addresses(addresses: list[ReportedAddress], days: int, user: AbstractBaseUser | None = None) -> int:
    """The address list's bulk action: one decision per address."""
    action = {1: Decision.Action.BAN_1, 7: Decision.Action.BAN_7, 30: Decision.Action.BAN_30}[days]
    for address in addresses:
        decide(address, action, user)
    return len(addresses)


def can_undo(decision: Decision, now: datetime.datetime | None = None) -> bool:
    return (
        decision.undone_at is None
        and decision.action in STAFF_ACTIONS
        and (now or timezone.now()) - decision.decided_at < datetime.timedelta(minutes=UNDO_MINUTES)
    )


def undo(decision: Decision, user: AbstractBaseUser) -> bool:
    """Take back a decision made minutes ago: lift the ban it made, reopen its cases, and keep the record
    (the decision marked undone, the undo itself a staff action). False when it is too late."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().select_related("address").get(pk=decision.pk)
        if not can_undo(decision):
            return False
        decision.undone_at = timezone.now()
        decision.save(update_fields=["undone_at"])
        reports = list(decision.reports.values_list("pk", flat=True))
        Report.objects.filter(pk__in=reports).update(decision=None)
        # The ban this decision made is the first one after it on its address with its staff member's reason,
        # written in the same transaction: a later ban, by anyone, stays.
        made = (
            Ban.objects.filter(
                ip_hash=decision.address.ip_hash,
                reason=ban_reason(decision.decided_by)[:200],
                created_at__gte=decision.decided_at,
                created_at__lt=decision.decided_at + BAN_WRITTEN_WITHIN,
            )
            .order_by("created_at", "pk")
            .first()
        )
        if ban_until(decision.action) is not None and made is not None:
            made.delete()
        StaffAction.objects.bulk_create(
            StaffAction(report_id=pk, staff_member=user, action=StaffAction.Action.UNDO) for pk in reports
        )
    return True
