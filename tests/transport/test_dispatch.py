"""The consumer's message loop (transport/dispatch.py) keeps Channels' promises: one message at a time,
in order per source, the end on StopConsumer, and a failing source's error raised."""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import StopConsumer

from transport.dispatch import dispatch_in_turn


async def test_messages_are_handled_one_at_a_time_in_order_per_source() -> None:
    frames: asyncio.Queue = asyncio.Queue()
    layer: asyncio.Queue = asyncio.Queue()
    for n in range(20):
        frames.put_nowait({"source": "frames", "n": n})
        layer.put_nowait({"source": "layer", "n": n})
    seen: list[tuple[str, int]] = []
    busy = False

    async def dispatch(message: dict) -> None:
        nonlocal busy
        assert not busy, "two messages handled at once"
        busy = True
        await asyncio.sleep(0)
        seen.append((message["source"], message["n"]))
        busy = False
        if len(seen) == 40:
            raise StopConsumer

    with pytest.raises(StopConsumer):
        await asyncio.wait_for(dispatch_in_turn([frames.get, layer.get], dispatch), 5)
    for source in ("frames", "layer"):
        assert [n for s, n in seen if s == source] == list(range(20))


async def test_stop_cancels_the_readers() -> None:
    frames: asyncio.Queue = asyncio.Queue()
    frames.put_nowait({"type": "websocket.disconnect"})
    cancelled = asyncio.Event()

    async def never() -> dict:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        raise AssertionError("unreachable")

    async def dispatch(message: dict) -> None:
        raise StopConsumer

    with pytest.raises(StopConsumer):
        await asyncio.wait_for(dispatch_in_turn([frames.get, never], dispatch), 5)
    assert cancelled.is_set()


async def test_a_failing_source_raises_in_the_consumer() -> None:
    async def broken() -> dict:
        raise ConnectionError("layer gone")

    async def dispatch(message: dict) -> None:
        raise AssertionError("nothing to dispatch")

    with pytest.raises(ConnectionError, match="layer gone"):
        await asyncio.wait_for(dispatch_in_turn([asyncio.Queue().get, broken], dispatch), 5)
