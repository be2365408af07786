"""A protocol version 1 client over a real WebSocket, for tests against running servers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import websockets

from tests.admission_solver import Admission


class WsPeer:
    def __init__(self, connection: websockets.ClientConnection, hello: dict[str, Any]) -> None:
        self.connection = connection
        self.hello = hello
        self.received: list[dict[str, Any]] = []
        self.admission = Admission(hello)

    @classmethod
    async def connect(cls, url: str, origin: str = "http://127.0.0.1", forwarded_for: str | None = None) -> WsPeer:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
        connection = await websockets.connect(
            url, origin=origin, open_timeout=10, max_size=2**20, additional_headers=headers
        )
        hello = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert hello["type"] == "hello", hello
        return cls(connection, hello)

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a frame; join and next carry the accepted rules and the solved challenge unless they set them."""
        await self.connection.send(message if isinstance(message, str) else json.dumps(self.admission.stamp(message)))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        """The next frame other than the online count."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no frame")
            message = json.loads(await asyncio.wait_for(self.connection.recv(), remaining))
            self.received.append(message)
            if message["type"] != "online":
                return message

    async def expect(self, kind: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == kind, message
        for key, value in fields.items():
            assert message[key] == value, message
        return message

    async def close(self) -> None:
        await self.connection.close()


async def matched_pair(first_url: str, second_url: str) -> tuple[WsPeer, WsPeer, str]:
    """Connect two clients (the first waits, the second joins) and return them matched, with the match_id."""
    first = await WsPeer.connect(first_url)
    await first.send({"type": "join"})
    await first.expect("waiting")
    second = await WsPeer.connect(second_url)
    await second.send({"type": "join"})
    match_id = (await second.expect("matched", polite=False))["match_id"]
    await first.expect("matched", polite=True, match_id=match_id)
    return first, second, match_id


def measured(capsys, line: str) -> None:
    """Print a figure a test measured, past pytest's capture, so CI's log shows it."""
    with capsys.disabled():
        print(f"\n[measured] {line}")
