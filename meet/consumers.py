"""The signaling consumer: one per WebSocket on /ws/meet/.

A translator, no more: it lets a connection in (``meet.gate.door``: address limits and bans), parses
the browser's frames (``meet.protocol``) and hands them to the visitor's ``CallSession``
(``meet.session``), hands it the channel-layer messages of other connections too
(``meet.session.messages``), and sends what the session says to the socket. Every rule of the call,
from queueing to reports and resuming, lives in the session; ``meet.wiring`` gives it the channel
layer, the socket and the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from matchmaking import get_matchmaker
from meet import protocol
from meet.gate.door import Door
from meet.runtime import ensure_runtime
from meet.session import messages
from meet.session.call_session import CallSession
from meet.wiring import LayerNotifier, LoopTimers, SocketOutbox
from moderation import service as moderation
from moderation.addresses import address_hash, client_ip
from transport.dispatch import InTurnDispatch
from transport.language import in_language
from transport.layer import ChannelLayerUnavailable
from transport.send_backlog import backlog_of, send_now_of

logger = logging.getLogger("alienmeet.meet")

UNHANDLED_MESSAGE = _("This frame could not be handled; nothing was done.")
ONLINE_SPREAD_SECONDS = 0.9


class MeetConsumer(Door, InTurnDispatch, AsyncWebsocketConsumer):
    cleaned = False
    gone = False  # the socket is closed (by us or by the browser): send nothing more
    closed_by_server = False
    close_code: int | None = None  # the browser's, once it closed
    # The send backlog's hand-over for frames, a plain call (no coroutine per frame); None under
    # a server whose send is not wrapped in an outbox (daphne): then frames go through base_send.
    send_now: Callable[[dict[str, Any]], None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.send_now = send_now_of(scope, send)
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
        kind = message["type"]
        # A frame goes straight to receive: Channels' websocket_receive only unpacks it, one more
        # coroutine for every frame.
        handler = None if kind == "websocket.receive" else getattr(self, get_handler_name(message), None)
        if handler is None and kind != "websocket.receive":
            raise ValueError(f"No handler for message type {kind}")
        try:
            if handler is None:
                await self.receive(message.get("text"), message.get("bytes"))
            else:
                await handler(message)
        except StopConsumer:
            raise
        except Exception:
            # One frame or message must never end the connection's handler: it would take the
            # disconnect path with it, and the peer would stay matched and queued as a ghost.
            logger.exception("event=handler_failed message=%s", message["type"])
            if kind == "websocket.receive":
                await self._error(protocol.BAD_MESSAGE, UNHANDLED_MESSAGE)
            elif kind == "websocket.connect":
                await self.close(code=1011)

    async def connect(self) -> None:
        self.runtime = ensure_runtime()
        if self.runtime.draining:
            await self.close(code=protocol.CLOSE_SHUTDOWN)
            return
        self.runtime.opened()
        # Only the keyed hash is kept, and only for as long as the connection lives.
        self.ip_hash = address_hash(client_ip(self.scope))
        self.address_place = ""
        self.online_count = 0
        self.online_due = False
        self.online_sent_at = float("-inf")
        self.session = CallSession(
            secrets.token_urlsafe(16),
            self.ip_hash,
            get_matchmaker(),
            LayerNotifier(self),
            SocketOutbox(self),
            LoopTimers(self),
            self.runtime.connection_reports,
        )
        await self.accept()
        if await self._refuse_if_over_address_limit() or await self._refuse_if_banned():
            return
        await self._hear_bans()
        await self.session.open()
        # Without the group only the online count pushes are missed; matching retries on its own.
        with contextlib.suppress(ChannelLayerUnavailable):
            await self.channel_layer.group_add(self.runtime.online_group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        self.close_code = code
        await self._cleanup()

    async def _cleanup(self) -> None:
        self.gone = True
        if self.cleaned or not hasattr(self, "session"):
            return  # done already, or refused before it began
        self.cleaned = True
        try:
            await self.session.closed(self.close_code, self.closed_by_server)
            await self._leave_groups()
        finally:
            self.runtime.closed()
            await self._give_back_address_place()

    async def _leave_groups(self) -> None:
        self._stop_hearing_bans_later()
        groups = [self.runtime.online_group] + ([moderation.ban_group(self.ip_hash)] if self.ip_hash else [])
        for group in groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except ChannelLayerUnavailable:
                pass
            except Exception:
                logger.exception("event=group_discard_failed")

    # Frames from the browser.

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.gone:
            return  # frames still queued after we closed the socket
        if not self.session.allow_frame():
            await self.session.frame_refused()
            return
        if text_data is None:
            await self._error(protocol.BAD_MESSAGE, _("Binary frames are not accepted; send JSON text."))
            return
        try:
            command = protocol.parse_frame(text_data)
        except protocol.ProtocolError as error:
            await self._error(error.code, error.message)
            return
        await self.session.handle(command)

    # Messages from the channel layer (other connections, the runtime, moderation).

    async def meet_matched(self, message: dict[str, Any]) -> None:
        await self.session.on_matched(messages.Matched.decode(message))

    async def meet_signal(self, message: dict[str, Any]) -> None:
        # The hot path of the relay: read as it came, no message object (messages.signal).
        await self.session.on_signal(message["match_id"], messages.signal_frame(message), backlog_of(self.scope))

    async def meet_signal_dropped(self, message: dict[str, Any]) -> None:
        await self.session.on_signal_dropped(messages.SignalDropped.decode(message))

    async def meet_partner_left(self, message: dict[str, Any]) -> None:
        await self.session.on_partner_left(messages.PartnerLeft.decode(message))

    async def meet_reported(self, message: dict[str, Any]) -> None:
        await self.session.on_reported(messages.Reported.decode(message))

    async def meet_partner_moved(self, message: dict[str, Any]) -> None:
        await self.session.on_partner_moved(messages.PartnerMoved.decode(message))

    async def meet_superseded(self, message: dict[str, Any]) -> None:
        await self.session.on_superseded(messages.Superseded.decode(message))

    async def meet_shutdown(self, message: dict[str, Any]) -> None:
        await self._leave_groups()
        await self.session.shut_down()

    async def moderation_banned(self, message: dict[str, Any]) -> None:
        await self._leave_groups()
        await self.session.banned(datetime.datetime.fromisoformat(messages.Banned.decode(message).until))

    async def meet_online(self, message: dict[str, Any]) -> None:
        # Every connection of the process gets this at once; sending straight away would be
        # one burst of thousands of frames, stalling relays behind it. Each connection sends
        # at its own moment within the second instead (latest count wins).
        self.online_count = messages.Online.decode(message).count
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

    # The socket.

    async def send_json(self, content: dict[str, Any]) -> None:
        if not self.gone:
            # Encoding errors are ours to hear about (dispatch logs them); only sending means the browser left.
            await self.send_text(protocol.dumps(content))

    async def send_text(self, text: str) -> None:
        """A server message already encoded (``protocol.dumps``), such as a relayed signal."""
        if self.gone:
            return
        message = {"type": "websocket.send", "text": text}
        try:
            # Straight to the server: Channels' send(text_data=...) only wraps this in two more coroutines.
            if self.send_now is not None:
                self.send_now(message)
            else:
                await self.base_send(message)
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
