"""One visitor's call, as a plain object: queue, match, Next, leave, report, resume, and the retry after an outage.

The consumer hands it the browser's parsed frames (``meet.protocol``) and the channel-layer messages of
other connections (``meet.session.messages``). It talks to the matchmaker, a notifier (the channel layer),
an outbox (the browser's socket) and timers (``meet.session.ports``), and to moderation; it never touches
a socket or Channels, so its unit tests (``tests/meet/session/``) drive it, races included, step by step.

Its parts: ``place`` (where the visitor stands in matchmaking: waiting with a queue entry, or in a match),
``reports`` (reports and connection counts), ``admittance`` (frame rate, rules and proof of work) and
``next_limit``. ``lock`` runs one step at a time: the visitor's commands, the retry and the notices that
change the match never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import math
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from matchmaking import Matchmaker, MatchmakerUnavailable
from meet import protocol
from meet.gate import admission
from meet.session import messages, resume_tokens
from meet.session.admittance import Admittance
from meet.session.matches import CurrentMatch
from meet.session.next_limit import NextLimit
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
from meet.session.reports import ReportDesk
from moderation import service
from turn.credentials import ice_servers, relay_offered, stun_servers

logger = logging.getLogger("alienmeet.meet")

UNAVAILABLE_MESSAGE = _("Matchmaking is briefly unavailable; we keep trying.")
NOT_READING_MESSAGE = _("The stranger is not keeping up; message dropped.")
RESUME_FAILED_MESSAGE = _("That call has ended; nothing was resumed.")
# A call needs fresh TURN credentials about once per credential lifetime; more often is a script minting them.
ICE_REFRESH_SECONDS = 30.0
# Close codes of a browser that meant to go (a closed tab, a page left): its match ends at once.
CLEAN_CLOSE_CODES = (1000, 1001)


class CallSession:
    def __init__(
        self,
        peer_id: str,
        ip_hash: str,
        matchmaker: Matchmaker,
        notifier: Notifier,
        outbox: Outbox,
        timers: Timers,
        counts: ConnectionCounts,
        moderation: Moderation = service,  # the module itself: its functions are the interface
    ) -> None:
        self.matchmaker = matchmaker
        self.notifier = notifier
        self.outbox = outbox
        self.timers = timers
        self.place = Place(peer_id, ip_hash, matchmaker, notifier, outbox, timers)
        self.reports = ReportDesk(self.place, notifier, outbox, timers, counts, moderation)
        self.admittance = Admittance(ip_hash, outbox)
        self.next_limit = NextLimit()
        self.lock = asyncio.Lock()
        self.ice_refreshed_at = -math.inf
        self.dropped_told_at = -math.inf

    @property
    def peer_id(self) -> str:
        return self.place.peer_id

    @property
    def match(self) -> CurrentMatch | None:
        return self.place.match

    @property
    def channel(self) -> str:
        return self.notifier.channel

    # The connection's life.

    async def open(self) -> None:
        """Register and say hello; ``unavailable`` too when matchmaking is away (joining retries then)."""
        online = 0
        try:
            await self.place.register()
            online = (await self.matchmaker.snapshot()).online
        except MatchmakerUnavailable:
            pass
        challenge = await self.admittance.challenge()
        # STUN only: TURN credentials come with `matched`, once the connection was admitted.
        hello = protocol.hello(
            self.peer_id, online, stun_servers(), admission.rules_version(), challenge, relay=relay_offered()
        )
        await self.outbox.send(hello)
        if not self.place.registered:
            await self._unavailable()

    async def closed(self, close_code: int | None, by_server: bool) -> None:
        """The socket is gone: hand the reports of this side on, then leave, holding the match for the
        grace when the browser may resume it on a new socket."""
        try:
            await self.reports.forward_on_close()
        except Exception:
            # Reports are the lesser loss: the partner must still be freed and the peer unregistered.
            logger.exception("event=report_forwarding_failed")
        try:
            await self.place.unregister(hold=self._may_resume(close_code, by_server))
        except Exception:
            logger.exception("event=cleanup_failed")

    def _may_resume(self, close_code: int | None, by_server: bool) -> bool:
        """A browser that can resume and lost its socket mid-call, rather than closing it, may come back."""
        return (
            self.match is not None
            and self.place.resumable
            and not by_server
            and close_code not in CLEAN_CLOSE_CODES
            and settings.MEET["RESUME_GRACE"] > 0
        )

    async def shut_down(self) -> None:
        """This process is stopping: free the partner now and send the browser to another process."""
        self.place.stop_retrying()
        async with self.lock:
            await self.place.unregister()
        await self.outbox.close(protocol.CLOSE_SHUTDOWN)

    async def banned(self, until: datetime.datetime) -> None:
        """This address was just banned: free the partner and close, as a refused connect would. After a
        step of this connection's under way, never in the middle of it (which could register it again)."""
        self.place.stop_retrying()
        async with self.lock:
            await self.place.unregister()
            await self.refuse_banned(until)

    async def refuse_banned(self, until: datetime.datetime) -> None:
        text = self.outbox.translate(service.ban_message(until))
        await self.outbox.send(protocol.error(protocol.BANNED, text, until=until.isoformat()))
        await self.outbox.close(protocol.CLOSE_BANNED)

    # Frames from the browser.

    async def frame_allowed(self) -> bool:
        return await self.admittance.frame_allowed()

    def allow_frame(self) -> bool:
        """``frame_allowed`` without a coroutine, for every frame; ``frame_refused`` when it says no."""
        return self.admittance.allow_frame()

    async def frame_refused(self) -> None:
        await self.admittance.frame_refused()

    async def handle(self, command: protocol.Command) -> None:
        """One parsed frame."""
        if type(command) is protocol.Signal:
            # Most frames are signals: relayed without the match statement's pattern tests. A relay
            # that cannot reach the channel layer says so itself.
            await self._relay(command.match_id, command.data)
            return
        try:
            await self._handle(command)
        except (MatchmakerUnavailable, NotifierUnavailable):
            await self._unavailable()

    async def _handle(self, command: protocol.Command) -> None:
        place = self.place
        match command:
            case protocol.Signal(match_id=match_id, data=data):
                return await self._relay(match_id, data)
            case protocol.ConnectionReport():
                return await self.reports.connection_report(command)
            case protocol.PictureRecovered():
                return await self.reports.picture_recovered(command)
            case protocol.RefreshIceServers():
                return await self._refresh_ice_servers()
        async with self.lock:
            if place.over:
                return
            match command:
                case protocol.Join(interests=interests, languages=languages):
                    if place.match is not None:
                        await self._error(protocol.BAD_MESSAGE, _("Already in a call; send next or leave first."))
                        return
                    if not await self.admittance.admit(command) or not await self._next_allowed(count=False):
                        return
                    place.interests = interests
                    place.languages = protocol.primary_languages(languages)
                    place.resumable = place.resumable or command.resume
                    await place.queue()
                case protocol.Next():
                    if not await self.admittance.admit(command) or not await self._next_allowed():
                        return
                    place.resumable = place.resumable or command.resume
                    await place.queue(ending=protocol.LEFT_NEXT)
                case protocol.Leave():
                    if place.match is not None:
                        # Leave then join skips a stranger as Next does, so it counts towards the same limit.
                        self.next_limit.count(self.timers.now())
                    await place.end_match(protocol.LEFT_LEAVE)
                    await place.leave_queue()
                case protocol.Report(match_id=match_id, reason=reason, evidence=evidence):
                    await self.reports.report(match_id, reason, evidence)
                case protocol.Resume():
                    await self._resume(command)

    async def _next_allowed(self, count: bool = True) -> bool:
        """Next skips a stranger; so does leave followed by join, which ``count=False`` checks without counting."""
        limit = settings.MEET["NEXT_PER_MINUTE"]
        retry_after = self.next_limit.allow(limit, self.timers.now(), count)
        if not retry_after:
            return True
        message = _(
            "You are skipping strangers very fast (at most %(limit)s a minute). "
            "Please slow down and try Next again in %(seconds)s seconds."
        )
        text = self.outbox.translate(message, limit=limit, seconds=retry_after)
        await self.outbox.send(protocol.error(protocol.RATE_LIMITED, text, retry_after=retry_after))
        return False

    async def _relay(self, match_id: str, data: dict[str, Any]) -> None:
        if self.match is None or self.match.match_id != match_id:
            await self._error(protocol.NOT_MATCHED, _("No current match with that match_id; message dropped."))
            return
        # Encoded here, once: the partner's process sends the frame as it comes (messages.signal).
        frame = protocol.dumps(protocol.signal(match_id, data))
        try:
            await self.notifier.send(self.match.partner_channel, messages.signal(match_id, frame))
        except RecipientFull:
            await self._error(protocol.UNAVAILABLE, NOT_READING_MESSAGE)
        except NotifierUnavailable:
            await self._unavailable()

    async def retry(self) -> bool:
        """One more try for a waiting visitor (``Timers.keep_retrying`` asks now and then); True once
        there is nothing left to retry."""
        async with self.lock:
            return await self.place.retry()

    async def _unavailable(self) -> None:
        await self._error(protocol.UNAVAILABLE, UNAVAILABLE_MESSAGE)
        if self.place.ticket:
            self.timers.keep_retrying()

    async def _error(self, code: str, message: str | Promise, **extra: Any) -> None:
        await self.outbox.send(protocol.error(code, self.outbox.translate(message), **extra))

    # Keeping a call alive past a broken socket or an expired TURN credential (docs/protocol.md).

    async def _resume(self, command: protocol.Resume) -> None:
        """Take over the match an earlier connection of this browser held."""
        place = self.place
        if place.match is not None or place.ticket:
            await self._error(protocol.BAD_MESSAGE, _("Resume only on a connection that is not in a call or queue."))
            return
        peer_id = resume_tokens.peer_of(command.token)
        moved = None
        if peer_id is not None and place.registered:
            moved = await self.matchmaker.take_over(
                peer_id,
                command.match_id,
                self.channel,
                self.peer_id,
                lambda holder: resume_tokens.verifies(command.token, command.match_id, holder),
            )
        if peer_id is None or moved is None:
            await self._error(protocol.RESUME_FAILED, RESUME_FAILED_MESSAGE)
            return
        # This connection is that peer now; its own fresh peer was forgotten in the same step.
        place.peer_id = peer_id
        place.match = CurrentMatch(moved.match_id, moved.partner_channel, moved.partner_id)
        place.interests, place.languages = moved.interests, moved.languages
        place.resumable = self.admittance.admitted = True
        try:
            await self.notifier.send(moved.partner_channel, messages.PartnerMoved(moved.match_id, self.channel))
        except (NotifierUnavailable, RecipientFull):
            # A partner who cannot learn where this side went could never reach it: the call is over.
            await place.end_match(protocol.LEFT_DISCONNECT)
            await self._error(protocol.RESUME_FAILED, RESUME_FAILED_MESSAGE)
            return
        if moved.old_channel != self.channel:
            with contextlib.suppress(NotifierUnavailable, RecipientFull):
                # Its process frees it and closes it; should this be lost, its unregister changes nothing.
                await self.notifier.send(moved.old_channel, messages.Superseded(peer_id))
        token = resume_tokens.mint(peer_id, moved.match_id, self.channel)
        await self.outbox.send(
            protocol.resumed(
                moved.match_id, moved.polite, moved.shared_interests, ice_servers(), moved.shared_languages, token
            )
        )
        logger.info("event=match_resumed")

    async def _refresh_ice_servers(self) -> None:
        """Fresh TURN credentials for a call that outlived its own: an ICE restart allocates anew.
        Only a connection that was admitted and is in a call gets any."""
        if self.match is None or not self.admittance.admitted:
            await self._error(protocol.NOT_MATCHED, _("Not in a call: the next match brings fresh ICE servers."))
            return
        now = self.timers.now()
        remaining = self.ice_refreshed_at + ICE_REFRESH_SECONDS - now
        if remaining > 0:
            message = _("ICE servers can be refreshed once every %(seconds)s seconds.")
            text = self.outbox.translate(message, seconds=int(ICE_REFRESH_SECONDS))
            await self.outbox.send(protocol.error(protocol.RATE_LIMITED, text, retry_after=math.ceil(remaining)))
            return
        self.ice_refreshed_at = now
        await self.outbox.send(protocol.ice_servers_message(ice_servers()))

    # Messages from other connections (meet.session.messages).

    async def on_matched(self, notice: messages.Matched) -> None:
        async with self.lock:
            await self.place.matched_notice(notice)

    async def on_partner_left(self, notice: messages.PartnerLeft) -> None:
        # Under the lock: the retry may be between taking a match and noting it.
        async with self.lock:
            await self.place.partner_left(notice)

    async def on_signal(self, match_id: str, frame: str, backlog: int) -> None:
        """A relayed signal (``frame``, the ``signal`` frame the partner's side encoded); ``backlog``
        is what this browser has not read yet, in bytes."""
        if self.match is None or self.match.match_id != match_id:
            return
        if backlog > protocol.MAX_QUEUED_BYTES:
            # This browser is not reading: tell the sender, at most once a second, instead of buffering.
            now = self.timers.now()
            if now - self.dropped_told_at >= 1.0:
                self.dropped_told_at = now
                with contextlib.suppress(NotifierUnavailable, RecipientFull):
                    await self.notifier.send(self.match.partner_channel, messages.SignalDropped(match_id))
            return
        await self.outbox.send_text(frame)

    async def on_signal_dropped(self, notice: messages.SignalDropped) -> None:
        if self.match is not None and self.match.match_id == notice.match_id:
            await self._error(protocol.UNAVAILABLE, NOT_READING_MESSAGE)

    async def on_reported(self, notice: messages.Reported) -> None:
        await self.reports.reported_notice(notice)

    async def on_partner_moved(self, notice: messages.PartnerMoved) -> None:
        """The partner resumed the match on a new connection: relay there from now on."""
        async with self.lock:
            match = self.place.match
            if match is not None and match.match_id == notice.match_id:
                self.place.match = CurrentMatch(match.match_id, notice.channel, match.partner_id)
                await self.outbox.send(protocol.partner_resumed(notice.match_id))

    async def on_superseded(self, notice: messages.Superseded) -> None:
        """A newer connection of this browser took the match over: go quietly, ending nothing."""
        if notice.peer_id != self.peer_id:
            return
        self.place.match = None
        await self.outbox.close(protocol.CLOSE_SUPERSEDED)
