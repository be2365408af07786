"""What the consumer gives its CallSession: the channel layer as the notifier, the socket as the outbox,
the event loop as the timers (``meet.session.ports``). The only place where the session meets Channels.

``announce_end`` is what happens once a match has ended, whoever ended it (a connection, or the process
runtime for a connection that is gone): the partner is told, and the anonymous event noted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer
from django.utils.functional import Promise

from callstats.events import EventBuffer
from matchmaking import EndedMatch
from meet.session import messages
from meet.session.messages import Outgoing
from meet.session.place import retry_seconds
from meet.session.ports import NotifierUnavailable, RecipientFull
from transport.language import in_language
from transport.layer import ChannelLayerUnavailable

if TYPE_CHECKING:
    from meet.consumers import MeetConsumer

logger = logging.getLogger("alienmeet.meet")


async def announce_end(layer: BaseChannelLayer, ended: EndedMatch, events: EventBuffer) -> None:
    if ended.other_channel:
        try:
            await layer.send(ended.other_channel, messages.PartnerLeft(ended.match_id, ended.reason).encode())
        except (ChannelFull, ChannelLayerUnavailable):
            # The matchmaking state already has the partner idle; it only misses the notice.
            logger.warning("event=partner_left_dropped")
    logger.info(
        "event=match_end reason=%s duration=%.1f interest_matched=%s",
        ended.reason,
        ended.duration,
        ended.interest_matched,
    )
    events.add(ended)


class LayerNotifier:
    def __init__(self, consumer: MeetConsumer) -> None:
        self.consumer = consumer

    @property
    def channel(self) -> str:
        return self.consumer.channel_name

    async def send(self, channel: str, message: Outgoing) -> None:
        try:
            # A relayed signal comes as the dict it travels as (messages.signal); the rest encode themselves.
            payload = message if type(message) is dict else message.encode()
            await self.consumer.channel_layer.send(channel, payload)
        except ChannelFull:
            raise RecipientFull(channel) from None
        except ChannelLayerUnavailable as error:
            raise NotifierUnavailable(str(error)) from None

    async def announce_end(self, ended: EndedMatch) -> None:
        await announce_end(self.consumer.channel_layer, ended, self.consumer.runtime.events)


class SocketOutbox:
    send: Callable[[dict[str, Any]], Awaitable[None]]
    send_text: Callable[[str], Awaitable[None]]

    def __init__(self, consumer: MeetConsumer) -> None:
        self.consumer = consumer
        # The consumer's own methods, not methods that call them: a wrapper is one more coroutine per frame.
        self.send = consumer.send_json
        self.send_text = consumer.send_text

    def translate(self, message: str | Promise, **params: Any) -> str:
        return in_language(message, self.consumer.scope, **params)

    async def close(self, code: int) -> None:
        await self.consumer.close(code=code)


class LoopTimers:
    def __init__(self, consumer: MeetConsumer) -> None:
        self.consumer = consumer
        self.retry_task: asyncio.Task[None] | None = None

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def keep_retrying(self) -> None:
        if self.retry_task is None or self.retry_task.done():
            self.retry_task = asyncio.get_running_loop().create_task(self._retry_loop())

    def stop_retrying(self) -> None:
        task, self.retry_task = self.retry_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(retry_seconds())
            # Whatever fails, the loop goes on: a visitor who is left waiting must never be forgotten.
            try:
                if await self.consumer.session.retry():
                    return
            except Exception:
                logger.exception("event=retry_failed")

    def release_later(self, peer_id: str, channel: str, delay: float) -> None:
        self.consumer.runtime.release_later(peer_id, channel, delay)
