"""Reports and bans, keyed only by the hash of an address."""

from __future__ import annotations

import datetime

from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from meet.models import Ban, Report, ReportedAddress


@database_sync_to_async
def file_report(ip_hash: str, reason: str) -> None:
    with transaction.atomic():
        address, _ = ReportedAddress.objects.get_or_create(ip_hash=ip_hash)
        ReportedAddress.objects.filter(pk=address.pk).update(report_count=F("report_count") + 1)
        Report.objects.create(address=address, reason=reason)


def active_ban_until(ip_hash: str, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the longest ban on this address ends, or None if it is not banned."""
    if not ip_hash:
        return None
    ban = Ban.objects.filter(ip_hash=ip_hash, until__gt=now or timezone.now()).order_by("-until").first()
    return ban.until if ban else None


def ban_addresses(addresses: list[ReportedAddress], days: int, reason: str) -> int:
    until = timezone.now() + datetime.timedelta(days=days)
    Ban.objects.bulk_create([Ban(ip_hash=address.ip_hash, reason=reason, until=until) for address in addresses])
    return len(addresses)
