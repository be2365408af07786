"""Fixtures for the signaling tests: each test runs against both matchmaking backends."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from alienmeet_site.asgi import application
from conftest import REDIS_URL
from matchmaking.memory import STORE
from tests.admission_solver import Admission

ORIGIN = (b"origin", b"http://localhost")


def matchmaker_settings(backend: str, prefix: str = "", **overrides: Any) -> dict[str, Any]:
    return {
        "BACKEND": backend,
        "URL": REDIS_URL if backend == "redis" else "",
        "PREFIX": prefix,
        "INTEREST_WAIT": 0.4,
        "REMATCH_COOLDOWN": 60,
        "LEASE": 2,
        **overrides,
    }


@pytest.fixture(params=["memory", "redis"])
def backend(request, settings):
    """Configure the matchmaker for one backend; returns its name."""
    STORE.clear()
    prefix = ""
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
    settings.MATCHMAKER = matchmaker_settings(request.param, prefix)
    settings.MEET = {**settings.MEET, "RATE_BURST": 1000, "RATE_PER_SECOND": 1000}
    yield request.param
    STORE.clear()


class Peer:
    """One browser speaking protocol version 1 through the ASGI app."""

    def __init__(self, communicator: WebsocketCommunicator, hello: dict[str, Any]) -> None:
        self.communicator = communicator
        self.hello = hello
        self.admission = Admission(hello)

    @classmethod
    async def connect(cls, headers: list[tuple[bytes, bytes]] | None = None, client: str | None = None) -> Peer:
        app = application
        if client is not None:
            # The test communicator sets no peer address; give the app the one a socket would.
            async def app(scope, receive, send):
                return await application({**scope, "client": (client, 50000)}, receive, send)

        communicator = WebsocketCommunicator(app, "/ws/meet/", headers=headers or [ORIGIN])
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        hello = await cls._receive(communicator, 5)
        assert hello["type"] == "hello"
        return cls(communicator, hello)

    @staticmethod
    async def _receive(communicator: WebsocketCommunicator, timeout: float) -> dict[str, Any]:
        message = await communicator.receive_from(timeout=timeout)
        return json.loads(message)

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a frame; join and next carry the accepted rules and the solved challenge unless they set them."""
        text = message if isinstance(message, str) else json.dumps(self.admission.stamp(message))
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next frame other than the online count."""
        while True:
            message = await self._receive(self.communicator, timeout)
            if message["type"] != "online":
                return message

    async def expect(self, kind: str, timeout: float = 5, **fields: Any) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == kind, message
        for key, value in fields.items():
            assert message[key] == value, message
        return message

    async def nothing(self, timeout: float = 0.3) -> None:
        """Assert that no frame (besides online counts) arrives within the timeout."""
        # receive_from() would cancel the application on timeout, so poll instead.
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.communicator.receive_nothing(timeout=0.05):
                continue
            message = await self._receive(self.communicator, 1)
            if message["type"] != "online":
                raise AssertionError(f"unexpected frame {message}")

    async def close(self) -> None:
        await self.communicator.disconnect()


async def pair(interests: list[str] | None = None) -> tuple[Peer, Peer, str]:
    """Two connected peers matched with each other: (waiting one, joining one, match_id)."""
    first = await Peer.connect()
    await first.send({"type": "join", "interests": interests or []})
    await first.expect("waiting")
    second = await Peer.connect()
    await second.send({"type": "join", "interests": interests or []})
    matched = await second.expect("matched", polite=False)
    await first.expect("matched", polite=True, match_id=matched["match_id"])
    return first, second, matched["match_id"]


@pytest.fixture(autouse=True)
async def stop_background_tasks():
    """Each test has its own event loop: stop that loop's runtime and close its Redis client."""
    yield
    from meet.runtime import stop_runtime

    await stop_runtime()
