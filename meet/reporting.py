"""Reports from a signaling connection, and the anonymous counts of how calls connected.

A report is filed under the reported side's address hash, which only that side's connection
knows: it files the report itself, or, once closed, the hash it left behind stands in
(``moderation.forwarding``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from meet import protocol
from meet.matches import REPORT_AFTER_END_SECONDS
from meet.matchmaking import MatchmakerUnavailable
from moderation import service as moderation

logger = logging.getLogger("alienmeet.meet")


class Reporting:
    """Reports of the current or a just-ended match (a mixin of MeetConsumer)."""

    async def _report(self, match_id: str, reason: str, evidence: protocol.Evidence | None = None) -> None:
        current = self.match is not None and self.match.match_id == match_id
        reported = self.match if current else self.ended.find(match_id)
        if reported is None:
            await self._error(protocol.NOT_MATCHED, _("No current match with that match_id; nothing reported."))
            return
        try:
            filing = await moderation.prepare_report(self.ip_hash, self.peer_id, reason, evidence)
        except moderation.ReportRefused as refused:
            await self._error(refused.code, refused.message)
            return
        # The reported side's own connection files the report: it alone knows its address hash, so
        # no address (hashed or not) travels between connections. Once it has closed, the hash it
        # left behind for its last matches stands in (moderation.forwarding).
        left_behind = await moderation.hash_left_behind(match_id, reported.partner_channel)
        if left_behind:
            await self._file_report(left_behind, filing)
        else:
            notice = {"type": "meet.reported", "match_id": match_id, "filing": filing}
            if not current and not reported.partner_id:
                notice["keep_apart_from"] = self.peer_id  # the reported side still knows its peer id
            await self.channel_layer.send(reported.partner_channel, notice)
        await self.send_json(protocol.reported(match_id))
        if current:
            await self._end_match(protocol.LEFT_NEXT, keep_apart=True)
            self.ended.reported(match_id)
            await self._queue()
            return
        self.ended.reported(match_id)
        # As a report during the call does, before this connection's next frame (a join) is read.
        if left_behind or reported.partner_id:
            await self._keep_apart(reported.partner_id, left_behind)

    async def _connection_report(self, report: protocol.ConnectionReport) -> None:
        current = self.match is not None and self.match.match_id == report.match_id
        # Both pages give up on a call that cannot connect at about the same moment, so one page's
        # report of it may arrive just after the other's Next ended the match: it still counts.
        if not current and report.match_id != self.ended.last_id:
            await self._error(protocol.NOT_MATCHED, _("No current match with that match_id; nothing reported."))
            return
        if self.connection_reported == report.match_id:
            await self._error(protocol.RATE_LIMITED, _("One connection report per match; this one is ignored."))
            return
        self.connection_reported = report.match_id
        self.runtime.connection_reports.add(report.outcome, report.connect_ms)

    async def _forward_reports(self) -> None:
        """Leave this address's hash behind for reports of the last matches, which this connection
        will no longer read (moderation.forwarding); before anything else, so none falls between."""
        match_ids = self.ended.reportable_ids() + ([self.match.match_id] if self.match else [])
        if self.ip_hash and match_ids:
            seconds = REPORT_AFTER_END_SECONDS + settings.MEET["RESUME_GRACE"]
            await moderation.leave_hash_behind(self.ip_hash, self.channel_name, match_ids, seconds)

    async def meet_reported(self, message: dict[str, Any]) -> None:
        match_id = message["match_id"]
        current = self.match is not None and self.match.match_id == match_id
        if not self.ip_hash or not (current or self.ended.knows(match_id)):
            return
        await self._file_report(self.ip_hash, message["filing"])
        if message.get("keep_apart_from"):
            await self._keep_apart(other_peer_id=message["keep_apart_from"])

    async def _keep_apart(self, other_peer_id: str = "", other_address: str = "") -> None:
        """As a report during the call does: never paired again with the other for the report block."""
        try:
            await self.matchmaker.keep_apart(self.peer_id, other_peer_id, other_address)
        except MatchmakerUnavailable:
            logger.warning("event=keep_apart_unavailable")

    @staticmethod
    async def _file_report(ip_hash: str, filing: dict[str, Any]) -> None:
        try:
            await moderation.file_reported(ip_hash, filing)
        except Exception:
            logger.exception("event=report_not_saved")
        else:
            logger.info("event=report_filed reason=%s", filing["reason"])
