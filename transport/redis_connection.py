"""A redis-py connection that writes a command without a task of its own.

redis-py (pinned in requirements.txt) bounds every command's write with ``asyncio.wait_for``,
which on Python 3.11 runs the write in a new task: one task per Redis command, and every
relayed signal is a ``PUBLISH``. A write that the socket's buffer takes cannot hang; only one
that has to wait for room can, so only that one is bounded by the timeout here. Errors are
raised and the connection dropped exactly as redis-py does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import redis.exceptions
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What "Redis is unavailable" means to every caller: a lost connection or a timeout, and also a
# refusal such as out of memory or READONLY after a failover. None of them is the visitor's fault.
REDIS_ERRORS = (redis.exceptions.RedisError, OSError)


class QuickWriteConnection(Connection):
    """Also: no read of another task meets the handshake of a connect under way.

    A pub/sub connection has two users: the receiving task reads messages while subscribes go out.
    After Redis comes back, one of them connects again; the socket counts as connected before the
    handshake (``CLIENT SETINFO`` and the like) has read its replies, so the other's read would land
    on the same stream and asyncio refuses the second reader ("read() called while another coroutine
    is already waiting"), a traceback and a failed WebSocket handshake under load. Such a read now
    waits until the handshake is over.
    """

    _connecting: asyncio.Task[object] | None = None
    _handshake_over: asyncio.Event | None = None

    async def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True) -> None:
        if self.is_connected:
            return
        over = self._handshake_over = asyncio.Event()
        self._connecting = asyncio.current_task()
        try:
            await super().connect_check_health(check_health=check_health, retry_socket_connect=retry_socket_connect)
        finally:
            self._connecting = None
            over.set()

    async def read_response(self, *args: object, **kwargs: object) -> object:
        while self._connecting is not None and self._connecting is not asyncio.current_task():
            assert self._handshake_over is not None
            await self._handshake_over.wait()
        return await super().read_response(*args, **kwargs)

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        if check_health and self.is_connected:
            await self.check_health()
        writer = self._writer
        if writer is None or not self.socket_timeout:
            await super().send_packed_command(command, check_health=False)
            return
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        try:
            writer.writelines(command)
            if writer.transport.get_write_buffer_size():
                # The kernel did not take it all: waiting for room may hang, so it is bounded.
                await asyncio.wait_for(writer.drain(), self.socket_timeout)
            else:
                await writer.drain()  # returns at once; raises if the connection was lost
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as error:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {error}") from error
        except BaseException:
            await self.disconnect(nowait=True)
            raise
