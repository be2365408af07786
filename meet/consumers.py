"""The signaling consumer: one per WebSocket on /ws/meet/.

It translates frames (``meet.protocol``) into matchmaking calls and relays
signaling to the current partner's channel. The only state it holds is this
connection's own: its peer id, current match and rate limit. Who is waiting
and who is matched with whom lives in the shared matchmaking state.

Three concerns live in mixins of their own: the door a connection passes
(``meet.gate.door``: address limits and bans), reports (``meet.reporting``), and
keeping a call alive past a broken socket or credential (``meet.resuming``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import secrets
import time
from collections import deque
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import ChannelFull, StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from callstats.endings import announce_end
from matchmaking import Busy, EndedMatch, Gone, Matched, MatchmakerUnavailable, Queued, get_matchmaker
from matchmaking.base import JoinResult
from meet import protocol, resume
from meet.gate import admission
from meet.gate.door import Door
from meet.gate.ratelimit import FloodMeter, TokenBucket
from meet.matches import CurrentMatch, RecentMatches
from meet.reporting import Reporting
from meet.resuming import Resuming
from meet.runtime import ensure_runtime
from moderation import service as moderation
from moderation.addresses import address_hash, client_ip
from transport.dispatch import InTurnDispatch
from transport.language import in_language
from transport.layer import ChannelLayerUnavailable
from transport.send_backlog import backlog_of
from turn.credentials import ice_servers, relay_offered, stun_servers

logger = logging.getLogger("alienmeet.meet")

UNAVAILABLE_MESSAGE = _("Matchmaking is briefly unavailable; we keep trying.")
UNHANDLED_MESSAGE = _("This frame could not be handled; nothing was done.")
ONLINE_SPREAD_SECONDS = 0.9
# How long a queued visitor may be "busy" (matched, notice on its way) before the notice counts as lost.
LOST_NOTICE_SECONDS = 3.0
NOT_READING_MESSAGE = _("The stranger is not keeping up; message dropped.")


class MeetConsumer(Door, Reporting, Resuming, InTurnDispatch, AsyncWebsocketConsumer):
    cleaned = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the handler ends (a crash, the server cancelling it), the cleanup runs,
            # shielded so a second cancellation cannot cut it short.
            await asyncio.shield(self._cleanup())

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message, a thread hop that
        # was most of the relay's cost. The few database calls here go through
        # database_sync_to_async, which closes stale connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            # One frame or message must never end the connection's handler: it would take the
            # disconnect path with it, and the peer would stay matched and queued as a ghost.
            logger.exception("event=handler_failed message=%s", message["type"])
            if message["type"] == "websocket.receive":
                await self._error(protocol.BAD_MESSAGE, UNHANDLED_MESSAGE)
            elif message["type"] == "websocket.connect":
                await self.close(code=1011)

    async def connect(self) -> None:
        conf = settings.MEET
        self.peer_id = secrets.token_urlsafe(16)
        self.match: CurrentMatch | None = None
        self.ticket = ""  # set while queued: which queue entry a matched notice must name
        self.interests: tuple[str, ...] = ()
        self.languages: tuple[str, ...] = ()  # primary language subtags, as matching compares them
        self.registered = False
        self.gone = False  # the socket is closed (by us or by the browser): send nothing more
        self.online_count = 0
        self.online_due = False
        self.online_sent_at = float("-inf")
        self.retry_task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.bucket = TokenBucket(conf["RATE_PER_SECOND"], conf["RATE_BURST"])
        self.flood = FloodMeter(conf["FLOOD_CLOSE_AFTER"])
        self.admitted = False  # rules accepted and proof of work done, on this connection
        # Replaced by one sized for the address before hello; until then the hardest.
        self.pow = admission.ConnectionChallenge(settings.ADMISSION["POW_BUSY_MAX_NUMBER"])
        self.next_times: deque[float] = deque()
        self.runtime = ensure_runtime()
        if self.runtime.draining:
            await self.close(code=protocol.CLOSE_SHUTDOWN)
            return
        self.runtime.opened()
        self.matchmaker = get_matchmaker()
        # Only the keyed hash is kept, and only for as long as the connection lives.
        self.ip_hash = address_hash(client_ip(self.scope))
        self.address_place = ""
        self.dropped_told_at = float("-inf")
        # The matches this browser reported its connection, or a picture recovery, for. Only the current and
        # the last ended match are accepted, so the last two are all that can be reported twice.
        self.connection_reported: deque[str] = deque(maxlen=2)
        self.picture_recovery_reported: deque[str] = deque(maxlen=2)
        self.ended = RecentMatches()  # a report of them may cross their ending on the wire
        self.resumable = False  # the browser can resume its match on a new socket should this one break
        self.ice_refreshed_at = float("-inf")
        self.close_code: int | None = None  # the browser's, once it closed
        self.closed_by_server = False
        await self.accept()
        if await self._refuse_if_over_address_limit() or await self._refuse_if_banned():
            return
        await self._hear_bans()
        online = 0
        try:
            await self._register()
            online = (await self.matchmaker.snapshot()).online
        except MatchmakerUnavailable:
            pass
        challenge = await self._challenge()
        # STUN only: TURN credentials come with `matched`, once the connection was admitted.
        hello = protocol.hello(
            self.peer_id, online, stun_servers(), admission.rules_version(), challenge, relay=relay_offered()
        )
        await self.send_json(hello)
        if not self.registered:
            await self._unavailable()
        # Without the group only the online count pushes are missed; matching retries on its own.
        with contextlib.suppress(ChannelLayerUnavailable):
            await self.channel_layer.group_add(self.runtime.online_group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        self.close_code = code
        await self._cleanup()

    async def _cleanup(self) -> None:
        self.gone = True
        if self.cleaned or not hasattr(self, "matchmaker"):
            return  # done already, or refused before it began
        self.cleaned = True
        try:
            await self._forward_reports()
        except Exception:
            # Reports are the lesser loss: the partner must still be freed and the peer unregistered.
            logger.exception("event=report_forwarding_failed")
        try:
            await self._leave(hold=self._may_resume())
        except Exception:
            logger.exception("event=cleanup_failed")
        finally:
            self.runtime.closed()
            await self._give_back_address_place()

    async def _leave(self, hold: bool = False) -> None:
        """Leave everything this connection is part of. With ``hold``, its match is kept for the grace
        (the process ends it then unless a new connection resumed it)."""
        self._stop_retrying()
        try:
            await self.channel_layer.group_discard(self.runtime.online_group, self.channel_name)
        except ChannelLayerUnavailable:
            pass
        except Exception:
            logger.exception("event=group_discard_failed")
        self._stop_hearing_bans_later()
        if self.ip_hash:
            try:
                await self.channel_layer.group_discard(moderation.ban_group(self.ip_hash), self.channel_name)
            except ChannelLayerUnavailable:
                pass
            except Exception:
                logger.exception("event=group_discard_failed")
        if not self.registered:
            return
        self.registered = False
        if hold:
            logger.info("event=match_held")
            self.runtime.release_later(self.peer_id, self.channel_name, settings.MEET["RESUME_GRACE"])
            return
        try:
            # Only while this connection still holds the peer: a newer one may have resumed its match.
            ended = await self.matchmaker.unregister(self.peer_id, self.channel_name)
        except MatchmakerUnavailable:
            # This process's next heartbeat drops the peer; the partner learns through it.
            return
        if ended:
            await announce_end(self.channel_layer, ended, self.runtime.events)

    # Frames from the browser.

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.gone:
            return  # frames still queued after we closed the socket
        if not self.bucket.allow():
            if self.flood.refuse():
                logger.info("event=closed_for_flooding")
                await self.close(code=protocol.CLOSE_FLOODING)
            elif self.flood.should_warn():
                await self._error(protocol.RATE_LIMITED, _("Too many messages; slow down."))
            return
        if text_data is None:
            await self._error(protocol.BAD_MESSAGE, _("Binary frames are not accepted; send JSON text."))
            return
        try:
            command = protocol.parse_frame(text_data)
        except protocol.ProtocolError as error:
            await self._error(error.code, error.message)
            return
        try:
            await self._dispatch(command)
        except (MatchmakerUnavailable, ChannelLayerUnavailable):
            await self._unavailable()

    async def _dispatch(self, command: protocol.Command) -> None:
        if isinstance(command, protocol.Signal):
            await self._relay(command.match_id, command.data)
            return
        if isinstance(command, protocol.ConnectionReport):
            await self._connection_report(command)
            return
        if isinstance(command, protocol.PictureRecovered):
            await self._picture_recovered(command)
            return
        if isinstance(command, protocol.RefreshIceServers):
            await self._refresh_ice_servers()
            return
        # One matchmaking step at a time per connection, so the retry loop and
        # the visitor's own commands never interleave.
        async with self.lock:
            match command:
                case protocol.Join(interests=interests, languages=languages):
                    if self.match is not None:
                        await self._error(protocol.BAD_MESSAGE, _("Already in a call; send next or leave first."))
                        return
                    if not await self._admit(command) or not await self._next_allowed(count=False):
                        return
                    self.interests = interests
                    self.languages = protocol.primary_languages(languages)
                    self.resumable = self.resumable or command.resume
                    await self._queue()
                case protocol.Next():
                    if not await self._admit(command) or not await self._next_allowed():
                        return
                    self.resumable = self.resumable or command.resume
                    await self._queue(ending=protocol.LEFT_NEXT)
                case protocol.Leave():
                    if self.match is not None:
                        # Leave then join skips a stranger as Next does, so it counts towards the same limit.
                        self._count_skip()
                    await self._end_match(protocol.LEFT_LEAVE)
                    self._stop_retrying()
                    queued, self.ticket = bool(self.ticket), ""
                    await self.matchmaker.leave_queue(self.peer_id)
                    if queued:
                        # A partner may have matched this visitor an instant ago; its notice
                        # will be ignored, so that match ends now instead of lingering.
                        await self._end_stale_match(None)
                case protocol.Report(match_id=match_id, reason=reason, evidence=evidence):
                    await self._report(match_id, reason, evidence)
                case protocol.Resume():
                    await self._resume(command)

    # Admission and the Next limit.

    async def _challenge(self) -> dict[str, Any]:
        self.pow = admission.ConnectionChallenge(await admission.difficulty(self.ip_hash))
        return self.pow.current()

    async def _admit(self, command: protocol.Join | protocol.Next) -> bool:
        """Every join names the current rules; the first step into the queue also brings a proof of work."""
        if self.admitted and isinstance(command, protocol.Next):
            return True
        refusal = admission.check_rules(command.rules)
        if refusal is None and not self.admitted:
            refusal = await self.pow.check(command.pow)
        if refusal is None:
            self.admitted = True
            return True
        # Asking to be refused, over and over, is a flood like any other.
        if self.flood.refuse():
            logger.info("event=closed_for_flooding reason=admission")
            await self.close(code=protocol.CLOSE_FLOODING)
            return False
        if refusal.code == protocol.RULES_REQUIRED:
            await self.send_json(
                protocol.error(refusal.code, in_language(refusal.message, self.scope), rules=admission.rules_version())
            )
        else:
            # The connection's challenge (a new one once it expired), so the browser can try again
            # without reconnecting.
            await self.send_json(
                protocol.error(refusal.code, in_language(refusal.message, self.scope), challenge=self.pow.current())
            )
        return False

    def _recent_skips(self, now: float) -> int:
        while self.next_times and now - self.next_times[0] >= 60:
            self.next_times.popleft()
        return len(self.next_times)

    def _count_skip(self) -> None:
        now = time.monotonic()
        self._recent_skips(now)
        self.next_times.append(now)

    async def _next_allowed(self, count: bool = True) -> bool:
        """Next skips a stranger; so does leave followed by join, which ``count=False`` checks without counting."""
        limit = settings.MEET["NEXT_PER_MINUTE"]
        now = time.monotonic()
        if self._recent_skips(now) < limit:
            if count:
                self.next_times.append(now)
            return True
        retry_after = math.ceil(60 - (now - self.next_times[0]))
        message = in_language(
            _(
                "You are skipping strangers very fast (at most %(limit)s a minute). "
                "Please slow down and try Next again in %(seconds)s seconds."
            ),
            self.scope,
            limit=limit,
            seconds=retry_after,
        )
        await self.send_json(protocol.error(protocol.RATE_LIMITED, message, retry_after=retry_after))
        return False

    async def _relay(self, match_id: str, data: dict[str, Any]) -> None:
        if self.match is None or self.match.match_id != match_id:
            await self._error(protocol.NOT_MATCHED, _("No current match with that match_id; message dropped."))
            return
        try:
            await self.channel_layer.send(
                self.match.partner_channel, {"type": "meet.signal", "match_id": match_id, "data": data}
            )
        except ChannelFull:
            await self._error(protocol.UNAVAILABLE, NOT_READING_MESSAGE)
        except ChannelLayerUnavailable:
            await self._unavailable()

    # Matchmaking.

    async def _register(self) -> None:
        await self.matchmaker.register(self.peer_id, self.channel_name, self.ip_hash)
        self.registered = True

    async def _join(self, ending: str = "") -> JoinResult:
        if not self.registered:
            await self._register()
        if ending and self.match is not None:
            result = await self._end_and_join(ending)
        else:
            result = await self.matchmaker.join(self.peer_id, self.ticket, self.interests, self.languages)
        if isinstance(result, Gone):
            await self._register()
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
            await announce_end(self.channel_layer, ended, self.runtime.events)
        return result

    async def _queue(self, ending: str = "") -> None:
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
            await self.send_json(protocol.waiting())
        # Busy: a matched notice is on its way; retrying also covers the case where it never comes.
        self._keep_retrying()

    async def _take(self, result: Matched) -> None:
        notice = {
            "type": "meet.matched",
            "match_id": result.match_id,
            "ticket": result.partner_ticket,
            "partner_channel": self.channel_name,
            "partner_id": self.peer_id,
            "interests": list(result.shared_interests),
            "languages": list(result.shared_languages),
        }
        try:
            await self.channel_layer.send(result.partner_channel, notice)
        except (ChannelLayerUnavailable, ChannelFull):
            # The partner cannot be told, so the match cannot go on; it will re-queue by itself.
            # This side stays queued (its ticket kept) and the retry loop takes it from here.
            ended = await self.matchmaker.end(self.peer_id, result.match_id, protocol.LEFT_LEAVE)
            if ended:  # the partner may have taken the match by itself meanwhile (_adopt)
                await announce_end(self.channel_layer, ended, self.runtime.events)
            raise ChannelLayerUnavailable("partner not reachable") from None
        self._stop_retrying()
        self.ticket = ""
        self.match = CurrentMatch(result.match_id, result.partner_channel, result.partner_id)
        await self.send_json(self._matched(result.match_id, False, result.shared_interests, result.shared_languages))
        logger.info(
            "event=match_start wait=%.2f interest_matched=%s language_matched=%s",
            result.wait,
            bool(result.shared_interests),
            bool(result.shared_languages),
        )

    def _matched(
        self, match_id: str, polite: bool, interests: tuple[str, ...], languages: tuple[str, ...]
    ) -> dict[str, Any]:
        token = resume.mint(self.peer_id, match_id, self.channel_name) if self.resumable else ""
        return protocol.matched(match_id, polite, interests, ice_servers(), languages, token)

    async def _end_match(self, reason: str, keep_apart: bool = False) -> bool:
        """End the current match; False if the shared state had ended it already (the partner's
        Next, leave or disconnect is on its way here), when ``keep_apart`` was not written either."""
        if self.match is None:
            return False
        current, self.match = self.match, None
        self.ended.add(current)
        ended: EndedMatch | None = await self.matchmaker.end(self.peer_id, current.match_id, reason, keep_apart)
        if ended:
            await announce_end(self.channel_layer, ended, self.runtime.events)
        return ended is not None

    async def _end_stale_match(self, match_id: str | None) -> None:
        """End a match the shared state holds for this visitor though it is not (or no longer) its
        current one; ``None`` ends whichever. The current match is never touched."""
        if self.match is not None and match_id in (None, self.match.match_id):
            return
        try:
            ended = await self.matchmaker.end(self.peer_id, match_id, protocol.LEFT_LEAVE)
        except MatchmakerUnavailable:
            return  # the partner's retry loop ends it once Redis is back (see _end_lost_match)
        if ended:
            await announce_end(self.channel_layer, ended, self.runtime.events)

    def _keep_retrying(self) -> None:
        if self.retry_task is None or self.retry_task.done():
            self.retry_task = asyncio.get_running_loop().create_task(self._retry_loop())

    def _stop_retrying(self) -> None:
        task, self.retry_task = self.retry_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _retry_loop(self) -> None:
        """While queued, try again now and then: interests stop mattering after the wait, Redis may come back."""
        period = min(max(settings.MATCHMAKER["INTEREST_WAIT"], 0.2), 2.0)
        busy_since: float | None = None
        while True:
            await asyncio.sleep(period)
            # Whatever fails, the loop goes on: a visitor who is left waiting must never be forgotten.
            try:
                async with self.lock:
                    if not self.ticket or self.match is not None:
                        return
                    result = await self._join()
                    if isinstance(result, Matched):
                        await self._take(result)
                        return
                    if isinstance(result, Busy) and await self._adopt(result):
                        return
                    busy_since = await self._end_lost_match(result, busy_since)
            except (MatchmakerUnavailable, ChannelLayerUnavailable):
                continue
            except Exception:
                logger.exception("event=retry_failed")

    async def _adopt(self, busy: Busy) -> bool:
        """Take a match made for this queue entry whose notice has not come: pub/sub drops a notice
        published while this channel was not subscribed (Redis just came back). A notice that
        does come later names the current match and changes nothing."""
        if not busy.match_id or not busy.partner_channel or busy.ticket != self.ticket:
            return False
        self._stop_retrying()
        self.ticket = ""
        self.match = CurrentMatch(busy.match_id, busy.partner_channel, busy.partner_id)
        await self.send_json(self._matched(busy.match_id, busy.polite, busy.shared_interests, busy.shared_languages))
        return True

    async def _end_lost_match(self, result: JoinResult, busy_since: float | None) -> float | None:
        """A match this visitor cannot take (not for its current queue entry) would keep it matched
        with nobody, so after a while that match is ended."""
        if not isinstance(result, Busy):
            return None
        now = asyncio.get_running_loop().time()
        if busy_since is None or now - busy_since < LOST_NOTICE_SECONDS:
            return now if busy_since is None else busy_since
        await self._end_stale_match(None)
        return None

    # Messages from the channel layer (other consumers and the runtime).

    async def meet_matched(self, message: dict[str, Any]) -> None:
        async with self.lock:
            if self.match is not None or not self.ticket or message["ticket"] != self.ticket:
                # A notice for a queue entry this connection already left: that match ends here.
                await self._end_stale_match(message["match_id"])
                return
            self._stop_retrying()
            self.ticket = ""
            self.match = CurrentMatch(message["match_id"], message["partner_channel"], message.get("partner_id", ""))
            # A notice from a process that predates languages carries none.
            languages = tuple(message.get("languages", ()))
            await self.send_json(self._matched(message["match_id"], True, tuple(message["interests"]), languages))

    async def meet_signal(self, message: dict[str, Any]) -> None:
        if self.match is not None and self.match.match_id == message["match_id"]:
            if backlog_of(self.scope) > protocol.MAX_QUEUED_BYTES:
                await self._signal_dropped(message["match_id"])
                return
            await self.send_json(protocol.signal(message["match_id"], message["data"]))

    async def _signal_dropped(self, match_id: str) -> None:
        """This browser is not reading: tell the sender, at most once a second, instead of buffering."""
        now = asyncio.get_running_loop().time()
        if now - self.dropped_told_at < 1.0 or self.match is None:
            return
        self.dropped_told_at = now
        with contextlib.suppress(ChannelLayerUnavailable, ChannelFull):
            await self.channel_layer.send(
                self.match.partner_channel, {"type": "meet.signal_dropped", "match_id": match_id}
            )

    async def meet_signal_dropped(self, message: dict[str, Any]) -> None:
        if self.match is not None and self.match.match_id == message["match_id"]:
            await self._error(protocol.UNAVAILABLE, NOT_READING_MESSAGE)

    async def meet_partner_left(self, message: dict[str, Any]) -> None:
        # Under the lock: the retry loop may be between taking a match and noting it.
        async with self.lock:
            if self.match is not None and self.match.match_id == message["match_id"]:
                self.ended.add(self.match)
                self.match = None
                await self.send_json(protocol.partner_left(message["match_id"], message["reason"]))

    async def meet_shutdown(self, message: dict[str, Any]) -> None:
        """This process is stopping: free the partner now and send the browser to another process."""
        await self._leave()
        self.registered = False
        await self.close(code=protocol.CLOSE_SHUTDOWN)

    async def meet_online(self, message: dict[str, Any]) -> None:
        # Every connection of the process gets this at once; sending straight away would be
        # one burst of thousands of frames, stalling relays behind it. Each connection sends
        # at its own moment within the second instead (latest count wins).
        self.online_count = message["count"]
        if not self.online_due:
            self.online_due = True
            loop = asyncio.get_running_loop()
            # Spread, yet never two pushes to one browser within a second (docs/protocol.md).
            delay = max(random.random() * ONLINE_SPREAD_SECONDS, self.online_sent_at + 1.0 - loop.time())
            loop.call_later(delay, self._push_online)

    def _push_online(self) -> None:
        self.online_due = False
        self.online_sent_at = asyncio.get_running_loop().time()
        self.online_task = asyncio.ensure_future(self.send_json(protocol.online(self.online_count)))

    # Helpers.

    async def send_json(self, content: dict[str, Any]) -> None:
        if self.gone:
            return
        # Encoding errors are ours to hear about (dispatch logs them); only sending means the browser left.
        text = protocol.dumps(content)
        try:
            # Straight to the server: Channels' send(text_data=...) only wraps this in two more coroutines.
            await self.base_send({"type": "websocket.send", "text": text})
        except Exception:
            # The browser is gone (the server raises its own "disconnected" error); its
            # disconnect event is on the way and cleans up.
            self.gone = True

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closed_by_server = True
        if not self.gone:
            self.gone = True
            await super().close(code=code, reason=reason)

    async def _error(self, code: str, message: str | Promise) -> None:
        await self.send_json(protocol.error(code, in_language(message, self.scope)))

    async def _unavailable(self) -> None:
        await self._error(protocol.UNAVAILABLE, UNAVAILABLE_MESSAGE)
        if self.ticket:
            self._keep_retrying()
