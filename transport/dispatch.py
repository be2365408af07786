"""A consumer's message loop without a new task and an ``asyncio.wait`` for every message.

Channels' ``AsyncConsumer.__call__`` hands every WebSocket frame and channel-layer message
to ``await_many_dispatch``, which makes a fresh task per message and waits on both sources
with ``asyncio.wait``: about four times the loop's cost of the message itself, paid twice
per relayed signal (once on each side). Here each source has one long-lived reader task
that handles what it reads itself, taking turns with the other under one lock: in order per
source, each message handled to the end before the next, at most one message read ahead per
source, as before. (An earlier version handed messages to the consumer's task through a
one-place queue: one more task switch per message, about 8 % of the server's time under churn.)
``__call__`` is otherwise Channels' own (channels is pinned in
requirements.txt; ``tests/transport/test_dispatch.py`` holds this to Channels' behaviour).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

Source = Callable[[], Awaitable[dict[str, Any]]]


async def dispatch_in_turn(sources: list[Source], dispatch: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()
    turn = asyncio.Lock()

    async def read(source: Source) -> None:
        try:
            while True:
                message = await source()
                # Taken at once when free (no switch); otherwise in arrival order.
                async with turn:
                    await dispatch(message)
        except Exception as error:  # StopConsumer, or a failing source: raised by the consumer as Channels would
            if not ended.done():
                ended.set_exception(error)

    readers = [loop.create_task(read(source)) for source in sources]
    try:
        await ended
    finally:
        for reader in readers:
            reader.cancel()
        for reader in readers:
            with contextlib.suppress(asyncio.CancelledError):
                await reader


class InTurnDispatch:
    """Mixin for an async consumer: Channels' ``__call__`` with the leaner message loop."""

    async def __call__(self, scope: dict[str, Any], receive: Source, send: Callable[..., Awaitable[None]]) -> None:
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await dispatch_in_turn(sources, self.dispatch)
