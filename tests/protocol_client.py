"""The protocol version 1 client the tests speak through, one class connected either of two ways:

- ``Peer.connect()``: to the ASGI app in this process, through Channels' ``WebsocketCommunicator``;
- ``Peer.connect_to(url)``: over a real WebSocket to a running server (the ``websockets`` library).

Either way the peer says hello, sends, receives, expects, checks that nothing arrives and closes
alike; ``matched_pair()`` brings two of them into a call.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import websockets
from channels.testing import WebsocketCommunicator

from tests.admission_solver import Admission

# The page's origin as the in-process app sees it (the test settings allow localhost).
ORIGIN = (b"origin", b"http://localhost")
# The origin a browser on a page of the servers the tests start presents (see tests/servers.py).
SOCKET_ORIGIN = "http://127.0.0.1"


class InProcessLink:
    """Frames to and from the ASGI app in this process."""

    default_timeout = 5.0

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float) -> str | bytes:
        return await self.communicator.receive_from(timeout=timeout)

    async def poll(self, timeout: float) -> str | bytes | None:
        """The next frame if one comes within the timeout, else None."""
        # receive_from() would cancel the application on timeout: wait for output first.
        if await self.communicator.receive_nothing(timeout=timeout):
            return None
        return await self.communicator.receive_from(timeout=1)

    async def close(self) -> None:
        await self.communicator.disconnect()


class SocketLink:
    """Frames to and from a running server over a real WebSocket."""

    default_timeout = 10.0

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection

    async def send(self, text: str) -> None:
        await self.connection.send(text)

    async def receive(self, timeout: float) -> str | bytes:
        return await asyncio.wait_for(self.connection.recv(), timeout)

    async def poll(self, timeout: float) -> str | bytes | None:
        """The next frame if one comes within the timeout, else None."""
        # Cancelling recv() loses nothing: a frame that arrives later is the next one returned.
        try:
            return await asyncio.wait_for(self.connection.recv(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        await self.connection.close()


class Peer:
    """One browser speaking protocol version 1. ``received`` keeps every frame received, online counts too."""

    def __init__(self, link: InProcessLink | SocketLink, hello: dict[str, Any]) -> None:
        self.link = link
        self.hello = hello
        self.received: list[dict[str, Any]] = []
        self.admission = Admission(hello)

    @classmethod
    async def connect(
        cls,
        headers: list[tuple[bytes, bytes]] | None = None,
        client: str | None = None,
        scope: dict[str, Any] | None = None,
        greeted: bool = True,
    ) -> Peer:
        """A peer of the ASGI app in this process; ``client`` is the address a socket would have, ``scope``
        adds to the connection's ASGI scope. Unless ``greeted`` is false, the first frame must be hello
        (otherwise ``hello`` holds whatever came first, a refusal say)."""
        from alienmeet_site.asgi import application

        app: Any = application
        extra = {**(scope or {}), **({"client": (client, 50000)} if client is not None else {})}
        if extra:
            # The test communicator's scope has no peer address (nor anything else a server adds): add them.
            async def app_with_extra(asgi_scope, receive, send):
                return await application({**asgi_scope, **extra}, receive, send)

            app = app_with_extra
        communicator = WebsocketCommunicator(app, "/ws/meet/", headers=headers or [ORIGIN])
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        return await cls._greet(InProcessLink(communicator), greeted)

    @classmethod
    async def connect_to(
        cls,
        url: str,
        origin: str = SOCKET_ORIGIN,
        forwarded_for: str | None = None,
        greeted: bool = True,
        **options: Any,
    ) -> Peer:
        """A peer of the server at ``url``, behind a proxy that says it is ``forwarded_for``; ``options``
        go to ``websockets.connect``. ``greeted`` as for ``connect``."""
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
        options = {"open_timeout": 10, "max_size": 2**20, **options}
        connection = await websockets.connect(url, origin=origin, additional_headers=headers, **options)
        return await cls._greet(SocketLink(connection), greeted)

    @classmethod
    async def _greet(cls, link: InProcessLink | SocketLink, greeted: bool) -> Peer:
        first = json.loads(await link.receive(link.default_timeout))
        if greeted:
            assert first["type"] == "hello", first
        return cls(link, first)

    @property
    def communicator(self) -> WebsocketCommunicator:
        """The in-process connection, for what only a test of the app does (a broken socket, raw bytes)."""
        if not isinstance(self.link, InProcessLink):
            raise TypeError("this peer is connected over a socket")
        return self.link.communicator

    @property
    def connection(self) -> websockets.ClientConnection:
        """The real socket, for what only a test of a running server does."""
        if not isinstance(self.link, SocketLink):
            raise TypeError("this peer is connected in-process")
        return self.link.connection

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a frame; join and next carry the accepted rules and the solved challenge unless they set them."""
        await self.link.send(message if isinstance(message, str) else json.dumps(self.admission.stamp(message)))

    def _kept(self, text: str | bytes) -> dict[str, Any]:
        message = json.loads(text)
        self.received.append(message)
        return message

    async def receive(self, timeout: float | None = None) -> dict[str, Any]:
        """The next frame other than the online count (within 5 s in-process, 10 s over a socket)."""
        deadline = time.monotonic() + (self.link.default_timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no frame")
            message = self._kept(await self.link.receive(remaining))
            if message["type"] != "online":
                return message

    async def expect(self, kind: str, timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == kind, message
        for key, value in fields.items():
            assert message[key] == value, message
        return message

    async def nothing(self, timeout: float = 0.3) -> None:
        """Assert that no frame (besides online counts) arrives within the timeout."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            text = await self.link.poll(remaining)
            if text is None:
                return
            message = self._kept(text)
            if message["type"] != "online":
                raise AssertionError(f"unexpected frame {message}")

    def last(self, kind: str) -> dict[str, Any]:
        """The last frame of this type received."""
        return next(message for message in reversed(self.received) if message["type"] == kind)

    async def close(self) -> None:
        await self.link.close()


async def joined(client: str) -> tuple[Peer, dict[str, Any]]:
    """An in-process peer from this address that sent ``join``, and the server's first answer to it."""
    peer = await Peer.connect(client=client)
    await peer.send({"type": "join"})
    return peer, await peer.receive()


async def matched_pair(
    first_url: str | None = None,
    second_url: str | None = None,
    addresses: tuple[str | None, str | None] = (None, None),
    **join: Any,
) -> tuple[Peer, Peer, str]:
    """Two peers in a call: the first joins and waits, the second joins and is matched with it (impolite,
    the first polite). Returns (first, second, match_id).

    Without URLs both connect in-process; with ``first_url`` (and ``second_url``, which defaults to it)
    over sockets. ``addresses`` are the two clients' addresses (the socket's in-process, the proxy's
    X-Forwarded-For over a socket); ``join`` adds fields to both join frames."""
    second_url = second_url or first_url

    async def connect(url: str | None, address: str | None) -> Peer:
        if url is None:
            return await Peer.connect(client=address)
        return await Peer.connect_to(url, forwarded_for=address)

    first = await connect(first_url, addresses[0])
    await first.send({"type": "join", **join})
    await first.expect("waiting")
    second = await connect(second_url, addresses[1])
    await second.send({"type": "join", **join})
    match_id = (await second.expect("matched", polite=False))["match_id"]
    await first.expect("matched", polite=True, match_id=match_id)
    return first, second, match_id


def measured(capsys, line: str) -> None:
    """Print a figure a test measured, past pytest's capture, so CI's log shows it."""
    with capsys.disabled():
        print(f"\n[measured] {line}")
