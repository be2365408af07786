"""Bans: whether an address is banned, and banning it so that its open connections close too.

Every signaling connection joins the group named after its address hash (``ban_group``); a new
ban is announced to that group through the channel layer, so connections on every process hear it.
"""

from __future__ import annotations

import datetime
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from moderation.models import Ban

logger = logging.getLogger("alienmeet.moderation")

# The message a banned connection's consumer receives (its handler: ``moderation_banned``).
BANNED_MESSAGE = "moderation.banned"
# "Permanently" is a date no one will see pass.
PERMANENT = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)


def ban_group(ip_hash: str) -> str:
    return f"ban.{ip_hash}"


def active_ban_until(ip_hash: str, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the longest ban on this address ends, or None if it is not banned."""
    if not ip_hash:
        return None
    ban = Ban.objects.filter(ip_hash=ip_hash, until__gt=now or timezone.now()).order_by("-until").first()
    return ban.until if ban else None


def ban_message(until: datetime.datetime) -> str | Promise:
    """Translated lazily: the connection turns it into text in its visitor's language."""
    if until >= PERMANENT:
        return _("You are banned from AlienMeet permanently.")
    return format_lazy(_("You are banned from AlienMeet until {until} UTC."), until=f"{until:%Y-%m-%d %H:%M}")


def create_ban(ip_hash: str, until: datetime.datetime, reason: str) -> Ban:
    """Store the ban; the caller announces it (``announce_ban``) once the transaction is committed."""
    return Ban.objects.create(ip_hash=ip_hash, reason=reason[:200], until=until)


async def announce_ban(ip_hash: str, until: datetime.datetime) -> None:
    """Close this address's open connections, on every process. A failure is logged: the ban still
    holds at the next connect."""
    try:
        await get_channel_layer().group_send(ban_group(ip_hash), {"type": BANNED_MESSAGE, "until": until.isoformat()})
    except Exception:
        logger.exception("event=ban_announce_failed")


def announce_ban_sync(ip_hash: str, until: datetime.datetime) -> None:
    async_to_sync(announce_ban)(ip_hash, until)
