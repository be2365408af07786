"""How many bytes the server holds for one socket that the network has not taken yet.

A browser that stops reading (a frozen tab, a hostile client) does not stop its
partner's signals. The consumer asks how much is waiting for its socket before it
relays more (``backlog_of``), and drops the signal past ``protocol.MAX_QUEUED_BYTES``.
ASGI has no such question, and the servers differ in where the bytes pile up:

- **daphne** hands each frame to the Twisted transport at once (``send`` never waits),
  which keeps what the kernel refuses without limit until the ping timeout. Its
  ``send`` is ``partial(server.handle_reply, protocol)``, so the transport can be read:
  ``transport_backlog``.
- **uvicorn** (websockets-sansio) and **granian** make ``send`` wait: uvicorn once its
  transport's buffer passes the high-water mark (64 KiB), granian until tungstenite has
  flushed the frame to the socket. A consumer awaiting such a ``send`` would stop
  handling everything else (its partner's Next, the drain) for as long as the browser
  does not read. So under them the frames go through an ``Outbox``: the consumer's
  ``send`` queues the frame and returns; one writer task per burst hands the frames to
  the server in order. A ``send`` the server holds makes the queue grow, and the queue's
  size is the backlog.

Either way the consumer sees one figure, in the scope under ``SCOPE_KEY``. Under an ``Outbox``
the scope also holds, under ``SEND_NOW_KEY``, its ``push``: the same hand-over as ``send`` for a
frame, as a plain call, so a consumer sending a frame makes no coroutine for this layer.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

SCOPE_KEY = "alienmeet.send_backlog"
SEND_NOW_KEY = "alienmeet.send_now"

Backlog = Callable[[], int]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def transport_backlog(send: Any) -> Backlog | None:
    """daphne's: the bytes its Twisted transport and autobahn hold; None under another server."""
    if not isinstance(send, functools.partial) or not send.args:
        return None
    protocol = send.args[0]
    transport = getattr(protocol, "transport", None)
    # Twisted's FileDescriptor keeps what the kernel refused in dataBuffer (from offset on)
    # and what arrived since the last write attempt in _tempDataBuffer (_tempDataLen bytes).
    if transport is None or not all(hasattr(transport, name) for name in ("dataBuffer", "offset", "_tempDataLen")):
        return None

    def backlog() -> int:
        # autobahn queues chopped or synchronous frames itself before the transport.
        queued = sum(len(entry[0]) for entry in getattr(protocol, "send_queue", ()))
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen + queued

    return backlog


def _size(message: dict[str, Any]) -> int:
    # Characters for text: the frames are JSON, nearly all ASCII, and this is a bound, not a bill.
    data = message.get("text")
    if data is None:
        data = message.get("bytes")
    return len(data) if data is not None else 0


class Outbox:
    """The frames a consumer sent that the server has not taken yet, handed over in order.

    ``send`` never waits for the network. No task is kept while nothing is queued: a writer
    starts with the first frame of a burst and ends when the queue is empty, so an idle
    socket costs no task. When the server's ``send`` fails (the browser is gone), the
    queue is dropped and the next ``send`` raises that error, as the server's own would.
    """

    __slots__ = ("_error", "_frames", "_queued", "_send", "_writer")

    def __init__(self, send: Send) -> None:
        self._send = send
        # (message, its size, a future to settle once it is handed over: accept and close only)
        self._frames: collections.deque[tuple[dict[str, Any], int, asyncio.Future[None] | None]] = collections.deque()
        self._queued = 0
        self._writer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    def backlog(self) -> int:
        """Bytes queued here, the frame the server is holding included."""
        return self._queued

    async def send(self, message: dict[str, Any]) -> None:
        if self._error is not None:
            raise self._error
        if message["type"] != "websocket.send":
            # accept and close: handed over before this returns, as the server's own send does
            # (a server may end the socket as soon as the application returns after a close).
            if self._writer is None:
                await self._send(message)
                return
            done = asyncio.get_running_loop().create_future()
            self._frames.append((message, 0, done))
            await done
            return
        self.push(message)

    def push(self, message: dict[str, Any]) -> None:
        """``send`` for a ``websocket.send`` frame, which never waits: queued or handed to the server
        before this returns; raises as ``send`` would once the browser is gone."""
        if self._error is not None:
            raise self._error
        size = _size(message)
        if self._writer is None:
            # Nothing queued: start the server's send here. Most of the time it finishes without
            # waiting (uvicorn's does while its buffer is under the high-water mark), and then no
            # task is made; otherwise the writer task goes on with it where it stopped.
            started = self._send(message)
            rest: Awaitable[None] = started
            if isinstance(started, Coroutine):  # granian's is a future of its own: awaited in the task
                try:
                    rest = _Resumed(started, started.send(None))
                except StopIteration:
                    return
                except Exception as error:
                    self._error = error
                    raise
            self._frames.append((message, size, None))
            self._queued += size
            self._writer = asyncio.get_running_loop().create_task(self._write(rest))
            return
        self._frames.append((message, size, None))
        self._queued += size

    async def _write(self, first: Awaitable[None] | None = None) -> None:
        frames = self._frames
        try:
            while frames:
                message, size, done = frames[0]
                try:
                    if first is not None:
                        sending, first = first, None
                        await sending
                    else:
                        await self._send(message)
                except Exception as error:
                    if done is not None and not done.done():
                        done.set_exception(error)
                    raise
                frames.popleft()
                self._queued -= size
                if done is not None and not done.done():
                    done.set_result(None)
        except Exception as error:  # the browser is gone: the next send says so
            self._error = error
            for _message, _size, done in frames:
                if done is not None and not done.done():
                    done.set_exception(error)
            frames.clear()
            self._queued = 0
        finally:
            self._writer = None


class _Resumed:
    """A coroutine already started by hand, awaited from where it stopped: what it was waiting on is
    handed to the awaiting task, and the task's answer back to it, until it returns."""

    __slots__ = ("coroutine", "waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self.coroutine = coroutine
        self.waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, waiting_on = self.coroutine, self.waiting_on
        while True:
            try:
                answer = yield waiting_on
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # the task threw in (a cancellation)
                try:
                    waiting_on = coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coroutine.send(answer)
                except StopIteration:
                    return


class SendBacklogMiddleware:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and scope.get(SCOPE_KEY) is None:
            backlog = transport_backlog(send)
            if backlog is None:
                outbox = Outbox(send)
                backlog, send = outbox.backlog, outbox.send
                scope = {**scope, SCOPE_KEY: backlog, SEND_NOW_KEY: outbox.push}
            else:
                scope = {**scope, SCOPE_KEY: backlog}
        return await self.application(scope, receive, send)


def send_now_of(scope: dict[str, Any], send: Any) -> Callable[[dict[str, Any]], None] | None:
    """The ``push`` of the outbox behind ``send``, for frames; None when ``send`` is not that
    outbox's own (another server, or something between that wraps it and must see every frame)."""
    push: Callable[[dict[str, Any]], None] | None = scope.get(SEND_NOW_KEY)
    if push is None or getattr(send, "__self__", None) is not getattr(push, "__self__", push):
        return None
    return push


def backlog_of(scope: dict[str, Any]) -> int:
    """Bytes waiting for this socket; 0 when nothing says."""
    backlog: Backlog | None = scope.get(SCOPE_KEY)
    return backlog() if backlog is not None else 0
