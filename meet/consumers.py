"""The signaling consumer: one per WebSocket on /ws/meet/.

It translates frames (``meet.protocol``) into matchmaking calls and relays
signaling to the current partner's channel. The only state it holds is this
connection's own: its peer id, current match and rate limit. Who is waiting
and who is matched with whom lives in the shared matchmaking state.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import math
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from meet import admission, protocol
from meet.addresses import address_hash, client_ip
from meet.dispatch import InTurnDispatch
from meet.endings import announce_end
from meet.ice import ice_servers
from meet.language import in_language
from meet.layer import ChannelLayerUnavailable
from meet.matchmaking import EndedMatch, Gone, Matched, MatchmakerUnavailable, Queued, get_matchmaker
from meet.matchmaking.base import JoinResult
from meet.ratelimit import FloodMeter, TokenBucket
from meet.runtime import ensure_runtime
from moderation import service as moderation

logger = logging.getLogger("alienmeet.meet")

UNAVAILABLE_MESSAGE = _("Matchmaking is briefly unavailable; we keep trying.")
ONLINE_SPREAD_SECONDS = 0.9


@dataclass(frozen=True)
class CurrentMatch:
    match_id: str
    partner_channel: str


class MeetConsumer(InTurnDispatch, AsyncWebsocketConsumer):
    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message, a thread hop that
        # was most of the relay's cost. The few database calls here go through
        # database_sync_to_async, which closes stale connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        conf = settings.MEET
        self.peer_id = secrets.token_urlsafe(16)
        self.match: CurrentMatch | None = None
        self.ticket = ""  # set while queued: which queue entry a matched notice must name
        self.interests: tuple[str, ...] = ()
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
        self.pow_max_number = 0
        self.next_times: deque[float] = deque()
        self.runtime = ensure_runtime()
        if self.runtime.draining:
            await self.close(code=protocol.CLOSE_SHUTDOWN)
            return
        self.runtime.opened()
        self.matchmaker = get_matchmaker()
        # Only the keyed hash is kept, and only for as long as the connection lives.
        self.ip_hash = address_hash(client_ip(self.scope))
        await self.accept()
        if await self._refuse_if_banned():
            return
        await self._hear_bans()
        online = 0
        try:
            await self._register()
            online = (await self.matchmaker.snapshot()).online
        except MatchmakerUnavailable:
            pass
        challenge = await self._challenge()
        await self.send_json(protocol.hello(self.peer_id, online, ice_servers(), admission.rules_version(), challenge))
        if not self.registered:
            await self._unavailable()
        # Without the group only the online count pushes are missed; matching retries on its own.
        with contextlib.suppress(ChannelLayerUnavailable):
            await self.channel_layer.group_add(self.runtime.online_group, self.channel_name)

    async def _refuse_if_banned(self) -> bool:
        try:
            until = await database_sync_to_async(moderation.active_ban_until)(self.ip_hash)
        except Exception:
            logger.exception("event=ban_check_failed")
            return False
        if until is None:
            return False
        await self._banned(until)
        return True

    async def _banned(self, until: datetime.datetime) -> None:
        message = in_language(moderation.ban_message(until), self.scope)
        await self.send_json(protocol.error(protocol.BANNED, message, until=until.isoformat()))
        await self.close(code=protocol.CLOSE_BANNED)

    async def _hear_bans(self) -> None:
        """A ban made later, by staff or automatically, closes this connection on whichever process it is."""
        if self.ip_hash:
            with contextlib.suppress(ChannelLayerUnavailable):
                await self.channel_layer.group_add(moderation.ban_group(self.ip_hash), self.channel_name)

    async def disconnect(self, code: int) -> None:
        self.gone = True
        if not hasattr(self, "matchmaker"):
            return  # refused before it began
        try:
            await self._leave()
        finally:
            self.runtime.closed()

    async def _leave(self) -> None:
        self._stop_retrying()
        with contextlib.suppress(ChannelLayerUnavailable):
            await self.channel_layer.group_discard(self.runtime.online_group, self.channel_name)
        if self.ip_hash:
            with contextlib.suppress(ChannelLayerUnavailable):
                await self.channel_layer.group_discard(moderation.ban_group(self.ip_hash), self.channel_name)
        if not self.registered:
            return
        try:
            ended = await self.matchmaker.unregister(self.peer_id)
        except MatchmakerUnavailable:
            # The peer key expires with its lease; the partner learns through the reaper.
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
        # One matchmaking step at a time per connection, so the retry loop and
        # the visitor's own commands never interleave.
        async with self.lock:
            match command:
                case protocol.Join(interests=interests):
                    if self.match is not None:
                        await self._error(protocol.BAD_MESSAGE, _("Already in a call; send next or leave first."))
                        return
                    if not await self._admit(command):
                        return
                    self.interests = interests
                    await self._queue()
                case protocol.Next():
                    if not await self._admit(command) or not await self._next_allowed():
                        return
                    await self._end_match(protocol.LEFT_NEXT)
                    await self._queue()
                case protocol.Leave():
                    await self._end_match(protocol.LEFT_LEAVE)
                    self._stop_retrying()
                    self.ticket = ""
                    await self.matchmaker.leave_queue(self.peer_id)
                case protocol.Report(match_id=match_id, reason=reason, evidence=evidence):
                    await self._report(match_id, reason, evidence)

    # Admission and the Next limit.

    async def _challenge(self) -> dict[str, Any]:
        self.pow_max_number = await admission.difficulty(self.ip_hash)
        return admission.new_challenge(self.pow_max_number)

    async def _admit(self, command: protocol.Join | protocol.Next) -> bool:
        """Every join names the current rules; the first step into the queue also brings a proof of work."""
        if self.admitted and isinstance(command, protocol.Next):
            return True
        refusal = admission.check_rules(command.rules)
        if refusal is None and not self.admitted:
            refusal = await admission.check_pow(command.pow)
        if refusal is None:
            self.admitted = True
            return True
        if refusal.code == protocol.RULES_REQUIRED:
            await self.send_json(
                protocol.error(refusal.code, in_language(refusal.message, self.scope), rules=admission.rules_version())
            )
        else:
            # A fresh challenge, so the browser can try again without reconnecting.
            challenge = admission.new_challenge(self.pow_max_number)
            await self.send_json(
                protocol.error(refusal.code, in_language(refusal.message, self.scope), challenge=challenge)
            )
        return False

    async def _next_allowed(self) -> bool:
        limit = settings.MEET["NEXT_PER_MINUTE"]
        now = time.monotonic()
        while self.next_times and now - self.next_times[0] >= 60:
            self.next_times.popleft()
        if len(self.next_times) < limit:
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

    async def _report(self, match_id: str, reason: str, evidence: protocol.Evidence | None = None) -> None:
        if self.match is None or self.match.match_id != match_id:
            await self._error(protocol.NOT_MATCHED, _("No current match with that match_id; nothing reported."))
            return
        try:
            filing = await moderation.prepare_report(self.ip_hash, self.peer_id, reason, evidence)
        except moderation.ReportRefused as refused:
            await self._error(refused.code, refused.message)
            return
        # The reported side's own consumer files the report: it alone knows its address hash,
        # so no address (hashed or not) ever travels between connections.
        await self.channel_layer.send(
            self.match.partner_channel, {"type": "meet.reported", "match_id": match_id, "filing": filing}
        )
        await self.send_json(protocol.reported(match_id))
        await self._end_match(protocol.LEFT_NEXT)
        await self._queue()

    async def _relay(self, match_id: str, data: dict[str, Any]) -> None:
        if self.match is None or self.match.match_id != match_id:
            await self._error(protocol.NOT_MATCHED, _("No current match with that match_id; message dropped."))
            return
        try:
            await self.channel_layer.send(
                self.match.partner_channel, {"type": "meet.signal", "match_id": match_id, "data": data}
            )
        except ChannelFull:
            await self._error(protocol.UNAVAILABLE, _("The stranger is not keeping up; message dropped."))
        except ChannelLayerUnavailable:
            await self._unavailable()

    # Matchmaking.

    async def _register(self) -> None:
        await self.matchmaker.register(self.peer_id, self.channel_name)
        self.registered = True

    async def _join(self) -> JoinResult:
        if not self.registered:
            await self._register()
        result = await self.matchmaker.join(self.peer_id, self.ticket, self.interests)
        if isinstance(result, Gone):
            await self._register()
            result = await self.matchmaker.join(self.peer_id, self.ticket, self.interests)
        return result

    async def _queue(self) -> None:
        if not self.ticket:
            self.ticket = secrets.token_hex(6)
        result = await self._join()
        if isinstance(result, Matched):
            await self._take(result)
            return
        if isinstance(result, Queued):
            await self.send_json(protocol.waiting())
        # Busy: a matched notice is on its way; retrying also covers the case where it never comes.
        self._keep_retrying()

    async def _take(self, result: Matched) -> None:
        self._stop_retrying()
        self.ticket = ""
        notice = {
            "type": "meet.matched",
            "match_id": result.match_id,
            "ticket": result.partner_ticket,
            "partner_channel": self.channel_name,
            "interests": list(result.shared_interests),
        }
        try:
            await self.channel_layer.send(result.partner_channel, notice)
        except (ChannelLayerUnavailable, ChannelFull):
            # The partner cannot be told, so the match cannot go on; it will re-queue by itself.
            await self.matchmaker.end(self.peer_id, result.match_id, protocol.LEFT_LEAVE)
            self.ticket = secrets.token_hex(6)
            raise ChannelLayerUnavailable("partner not reachable") from None
        self.match = CurrentMatch(result.match_id, result.partner_channel)
        await self.send_json(protocol.matched(result.match_id, False, result.shared_interests, ice_servers()))
        logger.info("event=match_start wait=%.2f interest_matched=%s", result.wait, bool(result.shared_interests))

    async def _end_match(self, reason: str) -> None:
        if self.match is None:
            return
        current, self.match = self.match, None
        ended: EndedMatch | None = await self.matchmaker.end(self.peer_id, current.match_id, reason)
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
        while True:
            await asyncio.sleep(period)
            async with self.lock:
                if not self.ticket or self.match is not None:
                    return
                try:
                    result = await self._join()
                except MatchmakerUnavailable:
                    continue
                if isinstance(result, Matched):
                    await self._take(result)
                    return

    # Messages from the channel layer (other consumers and the runtime).

    async def meet_matched(self, message: dict[str, Any]) -> None:
        async with self.lock:
            if self.match is not None or not self.ticket or message["ticket"] != self.ticket:
                return  # a notice for a queue entry this connection already left
            self._stop_retrying()
            self.ticket = ""
            self.match = CurrentMatch(message["match_id"], message["partner_channel"])
            await self.send_json(
                protocol.matched(message["match_id"], True, tuple(message["interests"]), ice_servers())
            )

    async def meet_signal(self, message: dict[str, Any]) -> None:
        if self.match is not None and self.match.match_id == message["match_id"]:
            await self.send_json(protocol.signal(message["match_id"], message["data"]))

    async def meet_partner_left(self, message: dict[str, Any]) -> None:
        if self.match is not None and self.match.match_id == message["match_id"]:
            self.match = None
            await self.send_json(protocol.partner_left(message["match_id"], message["reason"]))

    async def meet_reported(self, message: dict[str, Any]) -> None:
        if self.match is None or self.match.match_id != message["match_id"] or not self.ip_hash:
            return
        try:
            await moderation.file_reported(self.ip_hash, message["filing"])
        except Exception:
            logger.exception("event=report_not_saved")
        else:
            logger.info("event=report_filed reason=%s", message["filing"]["reason"])

    async def moderation_banned(self, message: dict[str, Any]) -> None:
        """This address was just banned: free the partner and close, as a refused connect would."""
        await self._leave()
        self.registered = False
        await self._banned(datetime.datetime.fromisoformat(message["until"]))

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
        try:
            await self.send(text_data=json.dumps(content, separators=(",", ":")))
        except Exception:
            # The browser is gone (the server raises its own "disconnected" error); its
            # disconnect event is on the way and cleans up.
            self.gone = True

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if not self.gone:
            self.gone = True
            await super().close(code=code, reason=reason)

    async def _error(self, code: str, message: str | Promise) -> None:
        await self.send_json(protocol.error(code, in_language(message, self.scope)))

    async def _unavailable(self) -> None:
        await self._error(protocol.UNAVAILABLE, UNAVAILABLE_MESSAGE)
        if self.ticket:
            self._keep_retrying()
