"""Filing reports, throttling reporters, and the automatic ban by several different reporters.

Reporters are told apart by a keyed hash of their address hash, held only in the short-lived
windows (``moderation.windows``) and never in the database.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from moderation.bans import active_ban_until, announce_ban, create_ban
from moderation.evidence import ChatLine
from moderation.models import Decision, Report, ReportedAddress
from moderation.windows import WindowsUnavailable, get_windows

logger = logging.getLogger("alienmeet.moderation")

REPORTER_SALT = "alienmeet.moderation.reporter"


@dataclass(frozen=True)
class Filing:
    """A report on its way to the reported side's connection, which alone knows its address hash."""

    reason: str
    reporter_key: str = ""
    snapshot: bytes | None = None
    chat: tuple[ChatLine, ...] = ()


def reporter_key(ip_hash: str) -> str:
    """Tells reporters apart within a window without naming them; "" when the address is unknown."""
    if not ip_hash:
        return ""
    return salted_hmac(REPORTER_SALT, ip_hash, algorithm="sha256").hexdigest()[:32]


async def allow_report(key: str) -> bool:
    """Whether this reporter is still under its quota of reports in the window."""
    conf = settings.MODERATION
    try:
        count = await get_windows().add(f"quota:{key}", secrets.token_hex(8), conf["REPORT_WINDOW"])
    except WindowsUnavailable:
        return True  # without Redis a report is still worth filing; the matchmaker is down anyway
    return count <= conf["REPORTS_PER_REPORTER"]


@database_sync_to_async
def _store(ip_hash: str, filing: Filing) -> Report:
    with transaction.atomic():
        address, _ = ReportedAddress.objects.get_or_create(ip_hash=ip_hash)
        ReportedAddress.objects.filter(pk=address.pk).update(
            report_count=F("report_count") + 1, last_reported_at=timezone.now()
        )
        return Report.objects.create(
            address=address,
            reason=filing.reason,
            snapshot=filing.snapshot,
            chat=[{"from": line.author, "text": line.text} for line in filing.chat],
        )


@database_sync_to_async
def _auto_ban(ip_hash: str, reporters: int) -> datetime.datetime | None:
    """Ban at once and put the case on top of the queue; None if a longer ban already holds."""
    until = timezone.now() + datetime.timedelta(hours=settings.MODERATION["AUTO_BAN_HOURS"])
    with transaction.atomic():
        current = active_ban_until(ip_hash)
        address = ReportedAddress.objects.get(ip_hash=ip_hash)
        address.reports.filter(decision__isnull=True).update(escalated=True)
        if current is not None and current >= until:
            return None
        create_ban(ip_hash, until, f"Reported by {reporters} different people within the window")
        Decision.objects.create(address=address, action=Decision.Action.AUTO_BAN)
    return until


async def file_report(ip_hash: str, filing: Filing) -> None:
    """Store the report; when enough different reporters reported this address lately, ban it now."""
    await _store(ip_hash, filing)
    if not filing.reporter_key:
        return  # an unknown reporter never counts towards an automatic ban
    conf = settings.MODERATION
    try:
        reporters = await get_windows().add(f"reporters:{ip_hash}", filing.reporter_key, conf["AUTO_BAN_WINDOW"])
    except WindowsUnavailable:
        logger.warning("event=report_window_unavailable")
        return
    if reporters < conf["AUTO_BAN_REPORTERS"]:
        return
    until = await _auto_ban(ip_hash, reporters)
    if until is not None:
        logger.info("event=auto_ban reporters=%d", reporters)
        await announce_ban(ip_hash, until)


def reports_since(since: datetime.datetime) -> int:
    return Report.objects.filter(created_at__gte=since).count()
