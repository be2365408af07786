"""Reports of a call, and the anonymous counts of how it connected.

A report is filed under the reported side's address hash, which only that side's connection knows:
the reporter hands the report over, and that connection files it and answers; once closed, the hash
it left behind stands in and the reporter files it itself (``moderation.forwarding``). A report is
answered ``reported`` only once it is filed; the two are kept apart before the reporter's next frame
is read, whichever way the call ended. ``ReportDesk`` does both halves for one connection.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections import deque
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from matchmaking import MatchmakerUnavailable
from meet import protocol
from meet.session import messages
from meet.session.matches import REPORT_AFTER_END_SECONDS, CurrentMatch
from meet.session.place import Place
from meet.session.ports import (
    ConnectionCounts,
    Moderation,
    Notifier,
    NotifierUnavailable,
    Outbox,
    RecipientFull,
    Timers,
)
from moderation import service

logger = logging.getLogger("alienmeet.meet")

# How long a reporter waits for the stranger's connection to file the report before taking it back
# (that connection froze, or forgot the match): the visitor then hears it was not filed.
REPORT_ANSWER_SECONDS = 3.0
NO_SUCH_MATCH_MESSAGE = _("No current match with that match_id; nothing reported.")
NOT_FILED_MESSAGE = _("The report could not be filed just now; nothing was reported.")
# Why moderation refused a report, as the error code the browser knows.
REFUSAL_CODES = {
    service.ReportRefused.TOO_MANY: protocol.RATE_LIMITED,
    service.ReportRefused.UNREADABLE: protocol.BAD_MESSAGE,
}


class ReportDesk:
    """This connection's reports: of the stranger (made, handed over, answered) and of its own side (filed)."""

    def __init__(
        self,
        place: Place,
        notifier: Notifier,
        outbox: Outbox,
        timers: Timers,
        counts: ConnectionCounts,
        moderation: Moderation,
    ) -> None:
        self.place = place
        self.ip_hash = place.ip_hash
        self.notifier = notifier
        self.outbox = outbox
        self.timers = timers
        self.counts = counts
        self.moderation = moderation
        # The matches this browser reported its connection, or a picture recovery, for. Only the current and
        # the last ended match are accepted, so the last two are all that can be reported twice.
        self.connection_reported: deque[str] = deque(maxlen=2)
        self.picture_recovery_reported: deque[str] = deque(maxlen=2)

    async def report(self, match_id: str, reason: str, evidence: protocol.Evidence | None) -> None:
        """A report of the current or a just-ended match: answered ``reported`` only once it is filed, and
        the two kept apart before the reporter's next frame is read, whichever way the call ended."""
        place = self.place
        current = place.match is not None and place.match.match_id == match_id
        reported = place.match if current else place.ended.find(match_id)
        if reported is None:
            await self._refused(protocol.NOT_MATCHED, NO_SUCH_MATCH_MESSAGE)
            return
        try:
            filing = await self.moderation.prepare_report(self.ip_hash, place.peer_id, reason, evidence)
        except service.ReportRefused as refused:
            await self._refused(REFUSAL_CODES[refused.why], refused.message)
            return
        # The call ends at once, kept apart in the same step unless the shared state ended it already.
        kept_apart = False
        if current:
            # Should the shared state be out of reach, the report is still filed; queueing says so.
            with contextlib.suppress(MatchmakerUnavailable):
                kept_apart = await place.end_match(protocol.LEFT_NEXT, keep_apart=True)
        place.ended.reported(match_id)
        left_behind, filed = await self.hand_over(reported, filing)
        if not kept_apart:
            # Over already: the stranger's Next, leave or broken socket crossed the report, or it named
            # a call that had ended. By peer id, or by the hash left behind once that peer is gone.
            await self._keep_apart(reported.partner_id, left_behind)
        if filed:
            await self.outbox.send(protocol.reported(match_id))
        else:
            place.ended.reported(match_id, done=False)
            await self._refused(protocol.UNAVAILABLE, NOT_FILED_MESSAGE)
        if current:
            await place.queue()

    async def _refused(self, code: str, message: str | Promise) -> None:
        # Named as the answer to a report: error frames do not otherwise say which request they answer, and
        # the page must not take a flood warning or a refused ICE refresh for one.
        await self.outbox.send(protocol.error(code, self.outbox.translate(message), about="report"))

    async def _keep_apart(self, other_peer_id: str, other_address: str) -> None:
        """As a report during the call does: never paired again with the other for the report block."""
        if not other_peer_id and not other_address:
            logger.warning("event=keep_apart_unknown_partner")  # a matched notice from an older process
            return
        try:
            await self.place.matchmaker.keep_apart(self.place.peer_id, other_peer_id, other_address)
        except MatchmakerUnavailable:
            logger.warning("event=keep_apart_unavailable")

    def _countable(self, match_id: str) -> bool:
        """How a call connected may be told of the current match or the one just ended: both pages give
        up on a call that cannot connect at about the same moment, so one's report may cross the other's Next."""
        place = self.place
        return (place.match is not None and place.match.match_id == match_id) or match_id == place.ended.last_id

    async def connection_report(self, report: protocol.ConnectionReport) -> None:
        if not self._countable(report.match_id):
            await self._error(protocol.NOT_MATCHED, NO_SUCH_MATCH_MESSAGE)
            return
        if report.match_id in self.connection_reported:
            await self._error(protocol.RATE_LIMITED, _("One connection report per match; this one is ignored."))
            return
        self.connection_reported.append(report.match_id)
        self.counts.add(report.outcome, report.connect_ms)

    async def picture_recovered(self, report: protocol.PictureRecovered) -> None:
        if not self._countable(report.match_id):
            await self._error(protocol.NOT_MATCHED, NO_SUCH_MATCH_MESSAGE)
            return
        # Counted once per match and browser: a page that keeps freezing is one call with the problem.
        if report.match_id in self.picture_recovery_reported:
            return
        self.picture_recovery_reported.append(report.match_id)
        self.counts.add_picture_recovery()

    async def _error(self, code: str, message: str | Promise) -> None:
        await self.outbox.send(protocol.error(code, self.outbox.translate(message)))

    async def reported_notice(self, notice: messages.Reported) -> None:
        """A report of this side waits to be filed under this connection's address hash."""
        if notice.filing is not None:
            # From a process that predates hand-overs: the report travels in the notice.
            match, ended = self.place.match, self.place.ended
            current = match is not None and match.match_id == notice.match_id
            if self.ip_hash and (current or ended.knows(notice.match_id)):
                await self.file(self.ip_hash, notice.filing)
            return
        await self.file_against_me()

    async def hand_over(self, reported: CurrentMatch, filing: dict[str, Any]) -> tuple[str, bool]:
        """Have the report filed: (the hash the stranger's connection left behind or "", whether filed)."""
        report_id = secrets.token_urlsafe(12)
        try:
            left_behind = await self.moderation.hand_over_report(
                reported.match_id, reported.partner_channel, report_id, filing, REPORT_ANSWER_SECONDS * 4
            )
            if left_behind:
                return left_behind, await self.file(left_behind, filing)
            with contextlib.suppress(NotifierUnavailable, RecipientFull):
                # Wakes the stranger's connection to take it; should this be lost, the answer never comes.
                await self.notifier.send(reported.partner_channel, messages.Reported(reported.match_id))
            return "", await self._await_filing(reported, report_id)
        except service.ForwardingUnavailable:
            logger.warning("event=report_not_handed_over")
            return "", False

    async def _await_filing(self, reported: CurrentMatch, report_id: str) -> bool:
        if (heard := await self._hear(report_id, serve=True)) != service.NOTHING:
            return heard == service.FILED
        if await self.moderation.withdraw_report(reported.match_id, reported.partner_channel, report_id):
            logger.warning("event=report_not_taken")
            return False  # nobody took it, and now nobody will
        # Taken at the last moment: its answer follows the filing.
        return await self._hear(report_id, serve=False) == service.FILED

    async def _hear(self, report_id: str, serve: bool) -> str:
        deadline = self.timers.now() + REPORT_ANSWER_SECONDS
        while (left := deadline - self.timers.now()) > 0:
            channel = self.notifier.channel if serve else ""
            heard = await self.moderation.await_report_answer(report_id, channel, left)
            if heard == service.WOKEN:
                # The stranger reported this side at the same moment, and waits for this connection
                # to file it as this one waits for theirs.
                await self.file_against_me()
            elif heard != service.NOTHING:
                return heard
        return service.NOTHING

    async def file_against_me(self) -> None:
        """File the reports of this side's matches handed over to this connection."""
        await self._file_taken(await self.moderation.take_reports(self.notifier.channel, self.place.reportable_ids()))

    async def forward_on_close(self) -> None:
        """Leave this address's hash behind for reports of the last matches, which this connection will no
        longer read, and file those handed over until now; before anything else, so none falls between."""
        match_ids = self.place.reportable_ids()
        if not match_ids:
            return
        if self.ip_hash:
            seconds = REPORT_AFTER_END_SECONDS + settings.MEET["RESUME_GRACE"]
            taken = await self.moderation.leave_hash_behind(self.ip_hash, self.notifier.channel, match_ids, seconds)
        else:
            taken = await self.moderation.take_reports(self.notifier.channel, match_ids)
        await self._file_taken(taken)

    async def _file_taken(self, taken: list[tuple[str, dict[str, Any]]]) -> None:
        for report_id, filing in taken:
            # Without an address hash there is nothing to file under: the reporter hears so.
            filed = bool(self.ip_hash) and await self.file(self.ip_hash, filing)
            await self.moderation.answer_report(report_id, filed)

    async def file(self, ip_hash: str, filing: dict[str, Any]) -> bool:
        try:
            await self.moderation.file_reported(ip_hash, filing)
        except Exception:
            logger.exception("event=report_not_saved")
            return False
        logger.info("event=report_filed reason=%s", filing["reason"])
        return True
