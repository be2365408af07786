"""A visitor's place in matchmaking: registered, waiting (a queue entry), or in a call (a match).

``Place`` is the part of a call session that talks to the matchmaker: it joins, takes a match or
adopts one whose notice was lost, ends matches (its own, or stale ones the shared state still holds
for it), and tries again while waiting. The session decides when; the place knows how.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings

from matchmaking import Busy, Gone, Matched, Matchmaker, MatchmakerUnavailable, Queued
from matchmaking.base import JoinResult
from meet import protocol
from meet.session import messages, resume_tokens
from meet.session.matches import CurrentMatch, RecentMatches
from meet.session.ports import Notifier, NotifierUnavailable, Outbox, RecipientFull, Timers
from turn.credentials import ice_servers

logger = logging.getLogger("alienmeet.meet")

# How long a queued visitor may be "busy" (matched, notice on its way) before the notice counts as lost.
LOST_NOTICE_SECONDS = 3.0


def retry_seconds() -> float:
    """How often a waiting visitor tries again: interests stop mattering after the wait, Redis may come back."""
    return min(max(settings.MATCHMAKER["INTEREST_WAIT"], 0.2), 2.0)


class Place:
    def __init__(
        self, peer_id: str, ip_hash: str, matchmaker: Matchmaker, notifier: Notifier, outbox: Outbox, timers: Timers
    ) -> None:
        self.peer_id = peer_id  # a resumed match makes this connection the peer that held it
        self.ip_hash = ip_hash
        self.matchmaker = matchmaker
        self.notifier = notifier
        self.outbox = outbox
        self.timers = timers
        self.match: CurrentMatch | None = None
        self.ticket = ""  # set while queued: which queue entry a matched notice must name
        self.interests: tuple[str, ...] = ()
        self.languages: tuple[str, ...] = ()  # primary language subtags, as matching compares them
        self.registered = False
        self.over = False  # left for good (closed, banned, shut down): nothing registers again
        self.resumable = False  # the browser can resume its match on a new socket should this one break
        self.ended = RecentMatches()  # a report of them may cross their ending on the wire
        self.busy_since: float | None = None

    @property
    def channel(self) -> str:
        return self.notifier.channel

    def reportable_ids(self) -> list[str]:
        """The matches a report of this side may still name: the recent ones and the current one."""
        return self.ended.reportable_ids() + ([self.match.match_id] if self.match else [])

    async def register(self) -> None:
        await self.matchmaker.register(self.peer_id, self.channel, self.ip_hash)
        self.registered = True

    async def unregister(self, hold: bool = False) -> None:
        """Leave for good. With ``hold``, the match is kept for the grace (the process ends it then
        unless a new connection resumed it)."""
        self.stop_retrying()
        self.over = True
        self.ticket = ""
        if not self.registered:
            return
        self.registered = False
        if hold:
            logger.info("event=match_held")
            self.timers.release_later(self.peer_id, self.channel, settings.MEET["RESUME_GRACE"])
            return
        try:
            # Only while this connection still holds the peer: a newer one may have resumed its match.
            ended = await self.matchmaker.unregister(self.peer_id, self.channel)
        except MatchmakerUnavailable:
            return  # this process's next heartbeat drops the peer; the partner learns through it
        if ended:
            await self.notifier.announce_end(ended)

    async def queue(self, ending: str = "") -> None:
        """Join the queue; ``ending`` (a partner_left reason) ends the current match in the same step."""
        if not self.ticket:
            self.ticket = secrets.token_hex(6)
        result = await self._join(ending)
        if isinstance(result, Matched):
            await self._take(result)
            return
        if isinstance(result, Busy) and await self._adopt(result):
            return
        if isinstance(result, Queued):
            await self.outbox.send(protocol.waiting())
        # Busy: a matched notice is on its way; retrying also covers the case where it never comes.
        self.timers.keep_retrying()

    async def leave_queue(self) -> None:
        self.stop_retrying()
        queued, self.ticket = bool(self.ticket), ""
        await self.matchmaker.leave_queue(self.peer_id)
        if queued:
            # A partner may have matched this visitor an instant ago; its notice will be ignored,
            # so that match ends now instead of lingering.
            await self.end_stale_match(None)

    async def _join(self, ending: str = "") -> JoinResult:
        if not self.registered:
            await self.register()
        if ending and self.match is not None:
            result = await self._end_and_join(ending)
        else:
            result = await self.matchmaker.join(self.peer_id, self.ticket, self.interests, self.languages)
        if isinstance(result, Gone):
            await self.register()
            result = await self.matchmaker.join(self.peer_id, self.ticket, self.interests, self.languages)
        return result

    async def _end_and_join(self, reason: str) -> JoinResult:
        """End the current match and join the queue in one step (one round trip to Redis)."""
        assert self.match is not None
        current, self.match = self.match, None
        self.ended.add(current)
        try:
            ended, result = await self.matchmaker.next(
                self.peer_id, current.match_id, reason, self.ticket, self.interests, self.languages
            )
        except MatchmakerUnavailable:
            self.ticket = ""  # as if the ending alone had failed: not queued, the visitor presses again
            raise
        if ended:
            await self.notifier.announce_end(ended)
        return result

    async def _take(self, result: Matched) -> None:
        notice = messages.Matched(
            result.match_id,
            result.partner_ticket,
            self.channel,
            self.peer_id,
            result.shared_interests,
            result.shared_languages,
        )
        try:
            await self.notifier.send(result.partner_channel, notice)
        except (NotifierUnavailable, RecipientFull):
            # The partner cannot be told, so the match cannot go on; it will re-queue by itself.
            # This side stays queued (its ticket kept) and the retry takes it from here.
            ended = await self.matchmaker.end(self.peer_id, result.match_id, protocol.LEFT_LEAVE)
            if ended:  # the partner may have taken the match by itself meanwhile (_adopt)
                await self.notifier.announce_end(ended)
            raise NotifierUnavailable("partner not reachable") from None
        self._matched(CurrentMatch(result.match_id, result.partner_channel, result.partner_id))
        await self._send_matched(result.match_id, False, result.shared_interests, result.shared_languages)
        logger.info(
            "event=match_start wait=%.2f interest_matched=%s language_matched=%s",
            result.wait,
            bool(result.shared_interests),
            bool(result.shared_languages),
        )

    def _matched(self, match: CurrentMatch) -> None:
        self.stop_retrying()
        self.ticket = ""
        self.match = match

    async def _send_matched(
        self, match_id: str, polite: bool, interests: tuple[str, ...], languages: tuple[str, ...]
    ) -> None:
        token = resume_tokens.mint(self.peer_id, match_id, self.channel) if self.resumable else ""
        await self.outbox.send(protocol.matched(match_id, polite, interests, ice_servers(), languages, token))

    async def _adopt(self, busy: Busy) -> bool:
        """Take a match made for this queue entry whose notice has not come: pub/sub drops a notice
        published while this channel was not subscribed (Redis just came back). A notice that
        does come later names the current match and changes nothing."""
        if not busy.match_id or not busy.partner_channel or busy.ticket != self.ticket:
            return False
        self._matched(CurrentMatch(busy.match_id, busy.partner_channel, busy.partner_id))
        await self._send_matched(busy.match_id, busy.polite, busy.shared_interests, busy.shared_languages)
        return True

    async def matched_notice(self, notice: messages.Matched) -> None:
        """The partner's side made the match: take it, if it names this queue entry."""
        if self.over or self.match is not None or not self.ticket or notice.ticket != self.ticket:
            # A notice for a queue entry this connection already left: that match ends here.
            await self.end_stale_match(notice.match_id)
            return
        self._matched(CurrentMatch(notice.match_id, notice.partner_channel, notice.partner_id))
        await self._send_matched(notice.match_id, True, notice.interests, notice.languages)

    async def partner_left(self, notice: messages.PartnerLeft) -> None:
        if self.match is not None and self.match.match_id == notice.match_id:
            self.ended.add(self.match)
            self.match = None
            await self.outbox.send(protocol.partner_left(notice.match_id, notice.reason))

    async def end_match(self, reason: str, keep_apart: bool = False) -> bool:
        """End the current match; False if the shared state had ended it already (the partner's
        Next, leave or disconnect is on its way here), when ``keep_apart`` was not written either."""
        if self.match is None:
            return False
        current, self.match = self.match, None
        self.ended.add(current)
        ended = await self.matchmaker.end(self.peer_id, current.match_id, reason, keep_apart)
        if ended:
            await self.notifier.announce_end(ended)
        return ended is not None

    async def end_stale_match(self, match_id: str | None) -> None:
        """End a match the shared state holds for this visitor though it is not (or no longer) its
        current one; ``None`` ends whichever. The current match is never touched."""
        if self.match is not None and match_id in (None, self.match.match_id):
            return
        try:
            ended = await self.matchmaker.end(self.peer_id, match_id, protocol.LEFT_LEAVE)
        except MatchmakerUnavailable:
            return  # the partner's retry ends it once Redis is back (see _end_lost_match)
        if ended:
            await self.notifier.announce_end(ended)

    async def retry(self) -> bool:
        """One more try while waiting; True once there is nothing left to retry. An outage only means
        trying again later."""
        if self.over or not self.ticket or self.match is not None:
            self.busy_since = None
            return True
        try:
            result = await self._join()
            if isinstance(result, Matched):
                await self._take(result)
                return True
            if isinstance(result, Busy) and await self._adopt(result):
                return True
            await self._end_lost_match(result)
        except (MatchmakerUnavailable, NotifierUnavailable):
            pass
        return False

    async def _end_lost_match(self, result: JoinResult) -> None:
        """A match this visitor cannot take (not for its current queue entry) would keep it matched
        with nobody, so after a while that match is ended."""
        if not isinstance(result, Busy):
            self.busy_since = None
            return
        now = self.timers.now()
        if self.busy_since is None:
            self.busy_since = now
        elif now - self.busy_since >= LOST_NOTICE_SECONDS:
            self.busy_since = None
            await self.end_stale_match(None)

    def stop_retrying(self) -> None:
        self.busy_since = None
        self.timers.stop_retrying()
