"""Staff decisions on a reported address: dismiss, or ban for a while or for good."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.bans import PERMANENT, announce_ban_sync, create_ban
from moderation.models import Decision, ReportedAddress

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


def ban_until(action: str, now: datetime.datetime | None = None) -> datetime.datetime | None:
    if action == Decision.Action.BAN_PERMANENT:
        return PERMANENT
    days = BAN_DAYS.get(action)  # type: ignore[call-overload]
    return (now or timezone.now()) + datetime.timedelta(days=days) if days else None


def decide(address: ReportedAddress, action: str, user: AbstractBaseUser | None) -> Decision:
    """Record the decision, close the address's open reports and apply the ban (live, on every process)."""
    if action not in STAFF_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    until = ban_until(action)
    with transaction.atomic():
        decision = Decision.objects.create(address=address, action=action, decided_by=user)
        address.reports.filter(decision__isnull=True).update(decision=decision)
        if until is not None:
            name = user.get_username() if user is not None else "staff"
            create_ban(address.ip_hash, until, f"Banned by {name} after reports")
    if until is not None:
        announce_ban_sync(address.ip_hash, until)
    return decision


def ban_addresses(addresses: list[ReportedAddress], days: int, user: AbstractBaseUser | None = None) -> int:
    """The address list's bulk action: one decision per address."""
    action = {1: Decision.Action.BAN_1, 7: Decision.Action.BAN_7, 30: Decision.Action.BAN_30}[days]
    for address in addresses:
        decide(address, action, user)
    return len(addresses)
