"""What the signaling app asks of moderation; ``meet`` uses these functions and never the models.

A report travels in two steps: the reporter's connection checks it (``prepare_report``: quota,
evidence) and hands it over (``hand_over_report``), then the reported side's connection takes it
(``take_reports``), files it (``file_reported``) under its own address hash and answers
(``answer_report``), so no address, hashed or not, crosses between live connections.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from moderation.bans import BANNED_MESSAGE, active_ban_until, ban_group, ban_message
from moderation.evidence import ChatLine, EvidenceError, SentEvidence, clean_snapshot
from moderation.forwarding import FAILED, FILED, NOTHING, WOKEN, ForwardingUnavailable, get_forwarding
from moderation.reports import Filing, allow_report, file_report, reporter_key, reports_since

__all__ = [
    "BANNED_MESSAGE",
    "FAILED",
    "FILED",
    "NOTHING",
    "WOKEN",
    "ForwardingUnavailable",
    "ReportRefused",
    "active_ban_until",
    "answer_report",
    "await_report_answer",
    "ban_group",
    "ban_message",
    "file_reported",
    "hand_over_report",
    "leave_hash_behind",
    "prepare_report",
    "reports_since",
    "take_reports",
    "withdraw_report",
]

logger = logging.getLogger("alienmeet.moderation")

SIDES = {"me": "reporter", "stranger": "reported"}


class ReportRefused(Exception):
    """Nothing was filed: too many reports from this reporter, or evidence that cannot be read."""

    TOO_MANY = "too_many"
    UNREADABLE = "unreadable"

    def __init__(self, why: str, message: str | Promise) -> None:
        super().__init__(message)
        self.why = why
        self.message = message


async def prepare_report(ip_hash: str, fallback_key: str, reason: str, evidence: SentEvidence | None) -> dict[str, Any]:
    """The report as a channel-layer payload for the reported side, or ReportRefused (nothing filed)."""
    key = reporter_key(ip_hash)
    if not await allow_report(key or fallback_key):
        raise ReportRefused(ReportRefused.TOO_MANY, _("Too many reports in a short time; nothing was reported."))
    snapshot = None
    chat: tuple[ChatLine, ...] = ()
    if evidence is not None:
        if evidence.snapshot is not None:
            try:
                snapshot = await sync_to_async(clean_snapshot, thread_sensitive=False)(evidence.snapshot)
            except EvidenceError as error:
                raise ReportRefused(
                    ReportRefused.UNREADABLE, format_lazy(_("{problem}; nothing was reported."), problem=error.message)
                ) from None
            except Exception:
                # Whatever the image does to the decoder, the visitor gets an answer and the connection lives.
                logger.exception("event=snapshot_check_failed")
                raise ReportRefused(
                    ReportRefused.UNREADABLE, _("The snapshot could not be read; nothing was reported.")
                ) from None
        chat = tuple(ChatLine(SIDES[line.side], line.text) for line in evidence.chat)
    filing = Filing(reason=reason, reporter_key=key, snapshot=snapshot, chat=chat)
    return {
        "reason": filing.reason,
        "reporter_key": filing.reporter_key,
        "snapshot": filing.snapshot,
        "chat": [[line.author, line.text] for line in filing.chat],
    }


async def file_reported(ip_hash: str, payload: dict[str, Any]) -> None:
    """File a report prepared by ``prepare_report`` against this connection's own address hash."""
    filing = Filing(
        reason=payload["reason"],
        reporter_key=payload.get("reporter_key", ""),
        snapshot=payload.get("snapshot"),
        chat=tuple(ChatLine(author, text) for author, text in payload.get("chat", [])),
    )
    await file_report(ip_hash, filing)


async def leave_hash_behind(
    ip_hash: str, channel: str, match_ids: list[str], seconds: float
) -> list[tuple[str, dict[str, Any]]]:
    """A connection closes: reports of these matches may still reach its address hash for a while.
    Returns the reports of them handed over meanwhile (report id, filing), for it to file now."""
    return await get_forwarding().leave(ip_hash, channel, match_ids, seconds)


async def hand_over_report(match_id: str, channel: str, report_id: str, filing: dict[str, Any], seconds: float) -> str:
    """The hash the stranger's connection left behind, for the reporter to file under; else ""
    and the report waits for that connection (``take_reports``). ForwardingUnavailable if neither."""
    return await get_forwarding().deposit(match_id, channel, report_id, filing, seconds)


async def take_reports(channel: str, match_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Reports of these matches handed over to this connection, each taken once (report id, filing)."""
    return await get_forwarding().take(channel, match_ids) if match_ids else []


async def answer_report(report_id: str, filed: bool) -> None:
    """Tell the reporter's connection whether its report was filed."""
    await get_forwarding().answer(report_id, filed)


async def await_report_answer(report_id: str, channel: str, seconds: float) -> str:
    """FILED, FAILED, WOKEN (a report of ``channel``'s own side waits: take it; "" listens for the
    answer alone) or NOTHING in time. ForwardingUnavailable when the store cannot be reached."""
    return await get_forwarding().wait(report_id, channel, seconds)


async def withdraw_report(match_id: str, channel: str, report_id: str) -> bool:
    """Take a report nobody answered back; True if nobody had taken it (so it is not filed).
    ForwardingUnavailable when the store cannot be reached (whether it was taken is unknown)."""
    return await get_forwarding().withdraw(match_id, channel, report_id)
