"""A socket that is not reading gets no more relayed signals; their sender is told."""

from __future__ import annotations

import asyncio
import functools
import json

import pytest
from channels.testing import WebsocketCommunicator

from alienmeet_site.asgi import application
from meet import protocol
from tests.meet.conftest import ORIGIN, Peer
from transport.send_backlog import SCOPE_KEY, transport_backlog

pytestmark = pytest.mark.django_db(transaction=True)


async def connect_with_backlog(backlog: list[int]) -> Peer:
    """A peer whose server-side send buffer holds ``backlog[0]`` bytes; ``backlog[1]`` counts the
    relayed signals its connection has weighed against it (the only reader of the backlog)."""

    def current() -> int:
        backlog[1] += 1
        return backlog[0]

    async def app(scope, receive, send):
        return await application({**scope, SCOPE_KEY: current}, receive, send)

    communicator = WebsocketCommunicator(app, "/ws/meet/", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return Peer(communicator, json.loads(await communicator.receive_from(timeout=5)))


async def test_signals_to_a_socket_that_does_not_read_are_dropped_and_the_sender_told(backend):
    backlog = [0, 0]
    sleeper = await connect_with_backlog(backlog)
    await sleeper.send({"type": "join"})
    await sleeper.expect("waiting")
    sender = await Peer.connect()
    await sender.send({"type": "join"})
    match_id = (await sender.expect("matched"))["match_id"]
    await sleeper.expect("matched", match_id=match_id)

    backlog[0] = protocol.MAX_QUEUED_BYTES + 1
    for _ in range(5):
        await sender.send({"type": "signal", "match_id": match_id, "data": {"sdp": "x"}})
    await sender.expect("error", code=protocol.UNAVAILABLE)
    # Every one of the five weighed (and dropped) before the browser reads again, however loaded the machine.
    deadline = asyncio.get_running_loop().time() + 10
    while backlog[1] < 5:
        assert asyncio.get_running_loop().time() < deadline, f"{backlog[1]} of 5 signals weighed"
        await asyncio.sleep(0.01)

    backlog[0] = 0  # the browser read again
    await sender.send({"type": "signal", "match_id": match_id, "data": {"sdp": "y"}})
    # None of the dropped ones was held back for later: the first signal the sleeper hears is this one.
    await sleeper.expect("signal", data={"sdp": "y"})
    # Told once, not once per dropped signal: the sender's next frame is the sleeper's answer.
    await sleeper.send({"type": "signal", "match_id": match_id, "data": {"sdp": "z"}})
    await sender.expect("signal", data={"sdp": "z"})
    await sender.close()
    await sleeper.close()


def test_backlog_is_read_from_a_twisted_transport():
    class Transport:
        dataBuffer = b"x" * 1000
        offset = 400
        _tempDataLen = 50

    class WebSocketProtocol:
        transport = Transport()
        send_queue = [(b"y" * 7, False)]

    async def handle_reply(protocol, message):
        return None

    backlog = transport_backlog(functools.partial(handle_reply, WebSocketProtocol()))
    assert backlog is not None and backlog() == 600 + 50 + 7
    assert transport_backlog(handle_reply) is None  # another server: nothing known, nothing bounded
