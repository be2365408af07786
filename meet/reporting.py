"""Reports from a signaling connection, and the anonymous counts of how calls connected.

A report is filed under the reported side's address hash, which only that side's connection
knows: the reporter hands the report over, and that connection files it and answers; once closed,
the hash it left behind stands in and the reporter files it itself (``moderation.forwarding``).
A report is answered ``reported`` only once it is filed; the two are kept apart before the
reporter's next frame is read, whichever way the call ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from channels.exceptions import ChannelFull
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from matchmaking import MatchmakerUnavailable
from meet import protocol
from meet.matches import REPORT_AFTER_END_SECONDS, CurrentMatch
from moderation import service as moderation
from transport.language import in_language
from transport.layer import ChannelLayerUnavailable

logger = logging.getLogger("alienmeet.meet")

# How long a reporter waits for the stranger's connection to file the report before taking it back
# (that connection froze, or forgot the match): the visitor then hears it was not filed.
REPORT_ANSWER_SECONDS = 3.0
NO_SUCH_MATCH_MESSAGE = _("No current match with that match_id; nothing reported.")
NOT_FILED_MESSAGE = _("The report could not be filed just now; nothing was reported.")
# Why moderation refused a report, as the error code the browser knows.
REFUSAL_CODES = {
    moderation.ReportRefused.TOO_MANY: protocol.RATE_LIMITED,
    moderation.ReportRefused.UNREADABLE: protocol.BAD_MESSAGE,
}


class Reporting:
    """Reports of the current or a just-ended match (a mixin of MeetConsumer)."""

    async def _report(self, match_id: str, reason: str, evidence: protocol.Evidence | None = None) -> None:
        current = self.match is not None and self.match.match_id == match_id
        reported = self.match if current else self.ended.find(match_id)
        if reported is None:
            await self._report_refused(protocol.NOT_MATCHED, NO_SUCH_MATCH_MESSAGE)
            return
        try:
            filing = await moderation.prepare_report(self.ip_hash, self.peer_id, reason, evidence)
        except moderation.ReportRefused as refused:
            await self._report_refused(REFUSAL_CODES[refused.why], refused.message)
            return
        # The call ends at once, kept apart in the same step unless the shared state ended it already.
        kept_apart = False
        if current:
            # Should the shared state be out of reach, the report is still filed; queueing says so.
            with contextlib.suppress(MatchmakerUnavailable):
                kept_apart = await self._end_match(protocol.LEFT_NEXT, keep_apart=True)
        self.ended.reported(match_id)
        left_behind, filed = await self._hand_over(reported, filing)
        if not kept_apart:
            # Over already: the stranger's Next, leave or broken socket crossed the report, or it named
            # a call that had ended. By peer id, or by the hash left behind once that peer is gone.
            await self._keep_apart(reported.partner_id, left_behind)
        if filed:
            await self.send_json(protocol.reported(match_id))
        else:
            self.ended.reported(match_id, done=False)
            await self._report_refused(protocol.UNAVAILABLE, NOT_FILED_MESSAGE)
        if current:
            await self._queue()

    async def _report_refused(self, code: str, message: Any) -> None:
        # Named as the answer to a report: error frames do not otherwise say which request they answer, and
        # the page must not take a flood warning or a refused ICE refresh for one.
        await self.send_json(protocol.error(code, in_language(message, self.scope), about="report"))

    async def _hand_over(self, reported: CurrentMatch, filing: dict[str, Any]) -> tuple[str, bool]:
        """Have the report filed: (the hash the stranger's connection left behind or "", whether filed)."""
        report_id = secrets.token_urlsafe(12)
        try:
            left_behind = await moderation.hand_over_report(
                reported.match_id, reported.partner_channel, report_id, filing, REPORT_ANSWER_SECONDS * 4
            )
            if left_behind:
                return left_behind, await self._file_report(left_behind, filing)
            with contextlib.suppress(ChannelLayerUnavailable, ChannelFull):
                # Wakes the stranger's connection to take it; should this be lost, the answer never comes.
                await self.channel_layer.send(
                    reported.partner_channel, {"type": "meet.reported", "match_id": reported.match_id}
                )
            return "", await self._await_filing(reported, report_id)
        except moderation.ForwardingUnavailable:
            logger.warning("event=report_not_handed_over")
            return "", False

    async def _await_filing(self, reported: CurrentMatch, report_id: str) -> bool:
        if (heard := await self._hear(report_id, serve=True)) != moderation.NOTHING:
            return heard == moderation.FILED
        if await moderation.withdraw_report(reported.match_id, reported.partner_channel, report_id):
            logger.warning("event=report_not_taken")
            return False  # nobody took it, and now nobody will
        # Taken at the last moment: its answer follows the filing.
        return await self._hear(report_id, serve=False) == moderation.FILED

    async def _hear(self, report_id: str, serve: bool) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPORT_ANSWER_SECONDS
        while (left := deadline - loop.time()) > 0:
            heard = await moderation.await_report_answer(report_id, self.channel_name if serve else "", left)
            if heard == moderation.WOKEN:
                # The stranger reported this side at the same moment, and waits for this connection
                # to file it as this one waits for theirs.
                await self._file_reports_against_me()
            elif heard != moderation.NOTHING:
                return heard
        return moderation.NOTHING

    async def _connection_report(self, report: protocol.ConnectionReport) -> None:
        current = self.match is not None and self.match.match_id == report.match_id
        # Both pages give up on a call that cannot connect at about the same moment, so one page's
        # report of it may arrive just after the other's Next ended the match: it still counts.
        if not current and report.match_id != self.ended.last_id:
            await self._error(protocol.NOT_MATCHED, NO_SUCH_MATCH_MESSAGE)
            return
        if report.match_id in self.connection_reported:
            await self._error(protocol.RATE_LIMITED, _("One connection report per match; this one is ignored."))
            return
        self.connection_reported.append(report.match_id)
        self.runtime.connection_reports.add(report.outcome, report.connect_ms)

    async def _picture_recovered(self, report: protocol.PictureRecovered) -> None:
        current = self.match is not None and self.match.match_id == report.match_id
        if not current and report.match_id != self.ended.last_id:
            await self._error(protocol.NOT_MATCHED, NO_SUCH_MATCH_MESSAGE)
            return
        # Counted once per match and browser: a page that keeps freezing is one call with the problem.
        if report.match_id in self.picture_recovery_reported:
            return
        self.picture_recovery_reported.append(report.match_id)
        self.runtime.connection_reports.add_picture_recovery()

    async def _forward_reports(self) -> None:
        """Leave this address's hash behind for reports of the last matches, which this connection
        will no longer read (moderation.forwarding), and file those handed over until now; before
        anything else, so none falls between."""
        match_ids = self.ended.reportable_ids() + ([self.match.match_id] if self.match else [])
        if not match_ids:
            return
        if self.ip_hash:
            seconds = REPORT_AFTER_END_SECONDS + settings.MEET["RESUME_GRACE"]
            taken = await moderation.leave_hash_behind(self.ip_hash, self.channel_name, match_ids, seconds)
        else:
            taken = await moderation.take_reports(self.channel_name, match_ids)
        await self._file_taken(taken)

    async def meet_reported(self, message: dict[str, Any]) -> None:
        if "filing" in message:
            # From a process that predates hand-overs: the report travels in the notice.
            match_id = message["match_id"]
            current = self.match is not None and self.match.match_id == match_id
            if self.ip_hash and (current or self.ended.knows(match_id)):
                await self._file_report(self.ip_hash, message["filing"])
            return
        await self._file_reports_against_me()

    async def _file_reports_against_me(self) -> None:
        match_ids = self.ended.reportable_ids() + ([self.match.match_id] if self.match else [])
        await self._file_taken(await moderation.take_reports(self.channel_name, match_ids))

    async def _file_taken(self, taken: list[tuple[str, dict[str, Any]]]) -> None:
        for report_id, filing in taken:
            # Without an address hash there is nothing to file under: the reporter hears so.
            filed = bool(self.ip_hash) and await self._file_report(self.ip_hash, filing)
            await moderation.answer_report(report_id, filed)

    async def _keep_apart(self, other_peer_id: str = "", other_address: str = "") -> None:
        """As a report during the call does: never paired again with the other for the report block."""
        if not other_peer_id and not other_address:
            logger.warning("event=keep_apart_unknown_partner")  # a matched notice from an older process
            return
        try:
            await self.matchmaker.keep_apart(self.peer_id, other_peer_id, other_address)
        except MatchmakerUnavailable:
            logger.warning("event=keep_apart_unavailable")

    @staticmethod
    async def _file_report(ip_hash: str, filing: dict[str, Any]) -> bool:
        try:
            await moderation.file_reported(ip_hash, filing)
        except Exception:
            logger.exception("event=report_not_saved")
            return False
        logger.info("event=report_filed reason=%s", filing["reason"])
        return True
