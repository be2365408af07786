"""The outbox's plain-call hand-over of frames (``push``), and when a consumer may use it instead of ``send``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from transport.send_backlog import SCOPE_KEY, SEND_NOW_KEY, Outbox, SendBacklogMiddleware, send_now_of


def frame(text: str) -> dict[str, Any]:
    return {"type": "websocket.send", "text": text}


async def test_push_hands_frames_over_in_order_with_sends_and_counts_the_backlog():
    handed: list[str] = []
    gate = asyncio.Event()

    async def server_send(message: dict[str, Any]) -> None:
        if message["text"] == "held":
            await gate.wait()  # the server's buffer is full until the gate opens
        handed.append(message["text"])

    outbox = Outbox(server_send)
    outbox.push(frame("first"))
    assert handed == ["first"] and outbox.backlog() == 0  # nothing queued: handed over at once, no task
    outbox.push(frame("held"))
    outbox.push(frame("after"))
    await outbox.send(frame("sent"))
    assert outbox.backlog() == len("held") + len("after") + len("sent")
    gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert handed == ["first", "held", "after", "sent"]
    assert outbox.backlog() == 0


async def test_push_raises_once_the_browser_is_gone():
    async def server_send(message: dict[str, Any]) -> None:
        raise OSError("disconnected")

    outbox = Outbox(server_send)
    with pytest.raises(OSError):
        outbox.push(frame("one"))
    with pytest.raises(OSError):
        outbox.push(frame("two"))


async def test_the_middleware_offers_push_only_with_its_own_outbox():
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["send_now"] = send_now_of(scope, send)
        seen["wrapped"] = send_now_of(scope, lambda message: send(message))  # something between: no push

    async def server_send(message: dict[str, Any]) -> None:
        pass

    await SendBacklogMiddleware(app)({"type": "websocket"}, None, server_send)
    assert seen["send_now"] is not None and getattr(seen["send_now"], "__self__", None) is not None
    assert seen["wrapped"] is None
    # A scope whose backlog the server itself tells (daphne) has no outbox, so no push either.
    assert send_now_of({SCOPE_KEY: lambda: 0}, server_send) is None
    assert send_now_of({SEND_NOW_KEY: None}, server_send) is None
