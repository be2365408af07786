"""A socket that is not reading gets no more relayed signals; their sender is told."""

from __future__ import annotations

import asyncio
import functools

import pytest

from meet import protocol
from tests.protocol_client import Peer
from transport.send_backlog import SCOPE_KEY, Outbox, SendBacklogMiddleware, transport_backlog

pytestmark = pytest.mark.django_db(transaction=True)


async def connect_with_backlog(backlog: list[int]) -> Peer:
    """A peer whose server-side send buffer holds ``backlog[0]`` bytes; ``backlog[1]`` counts the
    relayed signals its connection has weighed against it (the only reader of the backlog)."""

    def current() -> int:
        backlog[1] += 1
        return backlog[0]

    return await Peer.connect(scope={SCOPE_KEY: current})


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


async def test_outbox_counts_what_a_waiting_server_holds_and_keeps_the_order():
    """Under a server whose send waits for the socket (uvicorn, granian), frames queue in order,
    the queue is the backlog, the consumer never waits, and a close waits for what is before it."""
    sent: list[dict] = []
    gate = asyncio.Event()

    async def server_send(message):
        await gate.wait()  # the browser is not reading: the server holds the frame
        sent.append(message)

    outbox = Outbox(server_send)
    for n in range(3):
        await outbox.send({"type": "websocket.send", "text": "x" * (100 + n)})
    assert outbox.backlog() == 303 and sent == []
    close = asyncio.ensure_future(outbox.send({"type": "websocket.close", "code": 4008}))
    await asyncio.sleep(0.01)
    assert not close.done()
    gate.set()  # the browser reads again
    await asyncio.wait_for(close, 5)
    assert [m.get("text", m["type"]) for m in sent] == ["x" * 100, "x" * 101, "x" * 102, "websocket.close"]
    assert outbox.backlog() == 0


async def test_outbox_hands_on_the_servers_error_and_forgets_the_queue():
    class Gone(Exception):
        pass

    async def server_send(message):
        await asyncio.sleep(0)
        raise Gone

    outbox = Outbox(server_send)
    await outbox.send({"type": "websocket.send", "text": "a"})
    await outbox.send({"type": "websocket.send", "text": "b"})
    for _ in range(5):
        await asyncio.sleep(0)
    assert outbox.backlog() == 0
    with pytest.raises(Gone):
        await outbox.send({"type": "websocket.send", "text": "c"})


async def test_middleware_reads_daphnes_transport_or_queues_in_an_outbox():
    seen = {}

    async def app(scope, receive, send):
        seen["backlog"] = scope.get(SCOPE_KEY)
        seen["send"] = send

    async def plain_send(message):
        return None

    await SendBacklogMiddleware(app)({"type": "websocket"}, None, plain_send)
    assert isinstance(seen["send"].__self__, Outbox) and seen["backlog"]() == 0
    await SendBacklogMiddleware(app)({"type": "http"}, None, plain_send)
    assert seen["send"] is plain_send


async def test_outbox_makes_no_task_when_the_server_takes_the_frame_at_once():
    sent: list[str] = []

    async def server_send(message):
        sent.append(message["text"])  # a server with room in its buffer: no waiting

    outbox = Outbox(server_send)
    await outbox.send({"type": "websocket.send", "text": "a"})
    assert sent == ["a"] and outbox.backlog() == 0 and outbox._writer is None
