"""A consumer's message loop without a new task and an ``asyncio.wait`` for every message.

Channels' ``AsyncConsumer.__call__`` hands every WebSocket frame and channel-layer message
to ``await_many_dispatch``, which makes a fresh task per message and waits on both sources
with ``asyncio.wait``: about four times the loop's cost of the message itself, paid twice
per relayed signal (once on each side). Here each source has one long-lived reader task
feeding a one-place queue, and the consumer takes messages from it one at a time, as before:
in order per source, each handled to the end before the next, at most one message read
ahead per source. ``__call__`` is otherwise Channels' own (channels is pinned in
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
    inbox: asyncio.Queue[tuple[dict[str, Any] | None, BaseException | None]] = asyncio.Queue(maxsize=1)

    async def read(source: Source) -> None:
        while True:
            try:
                message = await source()
            except Exception as error:  # handed to the consumer, which raises it as Channels would
                await inbox.put((None, error))
                return
            await inbox.put((message, None))

    loop = asyncio.get_running_loop()
    readers = [loop.create_task(read(source)) for source in sources]
    try:
        while True:
            message, error = await inbox.get()
            if error is not None:
                raise error
            assert message is not None
            await dispatch(message)
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
