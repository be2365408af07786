"""This process's background duty, one task per event loop.

Every second it renews the process's lease in the matchmaking state, reaps
processes that stopped renewing theirs (telling their peers' partners), and
pushes the online count to this process's own connections when it changed.
Nothing here decides who meets whom; that lives in the shared state.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
import os
import secrets
import signal
import threading
from types import FrameType
from typing import Any

from channels.layers import get_channel_layer

from callstats.connection_stats import ConnectionReportBuffer
from callstats.events import EventBuffer
from matchmaking import MatchmakerUnavailable, get_matchmaker
from meet.gate.address_limits import close_address_limits, get_address_limits
from meet.session import messages
from meet.wiring import announce_end
from transport.layer import ChannelLayerUnavailable

logger = logging.getLogger("alienmeet.meet")

TICK_SECONDS = 1.0
# How long a stopping process gives its connections to leave cleanly.
DRAIN_SECONDS = 5.0


class ProcessRuntime:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Everything loaded so far (Django, the app) lives as long as the process: keep it out
        # of the garbage collector's full passes, which otherwise stall every socket for a while.
        gc.freeze()
        self.loop = loop
        # Each process pushes the online count to its own connections through this group.
        self.online_group = f"online.{secrets.token_hex(8)}"
        self.last_online: int | None = None
        self.redis_down = False
        self.events = EventBuffer()
        self.connection_reports = ConnectionReportBuffer()
        self.connections = 0
        self.releases: set[asyncio.Task[None]] = set()
        self.draining = False
        self.drained = asyncio.Event()
        self.drain_task: asyncio.Task[None] | None = None
        self.task = loop.create_task(self._run(), name="alienmeet-runtime")
        self._install_sigterm_handler()

    def _install_sigterm_handler(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            self.request_drain(previous, signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)

    def request_drain(self, previous: Any, signum: int, frame: FrameType | None) -> None:
        """Start the drain on the loop, in a context of its own.

        A signal handler runs between two steps of whatever task was running, inside that task's
        context. Had it been this runtime's own task in the middle of a database write, asgiref's
        mark for "a thread-sensitive call is under way" would be copied into the drain, and the
        drain's last flush refused ("would deadlock"): the last ended matches were lost."""
        self.loop.call_soon_threadsafe(self._start_drain, previous, signum, frame, context=contextvars.Context())

    def _start_drain(self, previous: Any, signum: int, frame: FrameType | None) -> None:
        # Held: a task nobody holds may be collected before it runs.
        self.drain_task = self.loop.create_task(self.drain(previous, signum, frame), name="alienmeet-drain")

    async def drain(self, previous: Any, signum: int, frame: FrameType | None) -> None:
        """Graceful stop: refuse new sockets, free every partner, ask browsers to reconnect elsewhere,
        give up the lease, then let the server stop as it would have."""
        if self.draining:
            return
        self.draining = True
        logger.info("event=draining connections=%d", self.connections)
        try:
            await get_channel_layer().group_send(self.online_group, messages.Shutdown().encode())
            await asyncio.wait_for(self.drained.wait(), DRAIN_SECONDS) if self.connections else None
        except Exception:
            logger.warning("event=drain_incomplete connections=%d", self.connections)
        self.task.cancel()
        await self.events.flush()
        await self.connection_reports.flush()
        with contextlib.suppress(Exception):
            await get_matchmaker().shutdown()
        logger.info("event=drained")
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    def opened(self) -> None:
        self.connections += 1

    def closed(self) -> None:
        self.connections -= 1
        if self.draining and self.connections <= 0:
            self.drained.set()

    def release_later(self, peer_id: str, channel: str, delay: float) -> None:
        """Forget, after ``delay``, a peer whose connection broke mid-call, unless a new connection
        has taken its match over meanwhile (docs/protocol.md, resuming). Its consumer is gone by
        then, so the process does it."""
        self.loop.call_later(delay, self._start_release, peer_id, channel)

    def _start_release(self, peer_id: str, channel: str) -> None:
        task = self.loop.create_task(self._release(peer_id, channel))
        self.releases.add(task)  # a task nobody holds may be collected before it runs
        task.add_done_callback(self.releases.discard)

    async def _release(self, peer_id: str, channel: str) -> None:
        try:
            ended = await get_matchmaker().unregister(peer_id, channel)
            if ended:
                await announce_end(get_channel_layer(), ended, self.events)
        except MatchmakerUnavailable:
            # The peer is no longer served here, so the heartbeat's sweep drops it once Redis is back.
            logger.warning("event=release_deferred")
        except Exception:
            logger.exception("event=release_failed")

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
                await self.events.flush()
                await self.connection_reports.flush()
                await get_address_limits().renew()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("event=runtime_tick_failed")
            await asyncio.sleep(TICK_SECONDS)

    async def tick(self) -> None:
        matchmaker = get_matchmaker()
        layer = get_channel_layer()
        try:
            reaped = await matchmaker.heartbeat()
            snapshot = await matchmaker.snapshot()
            for ended in reaped:
                await announce_end(layer, ended, self.events)
            if snapshot.online != self.last_online:
                await layer.group_send(self.online_group, messages.Online(snapshot.online).encode())
                self.last_online = snapshot.online
        except (MatchmakerUnavailable, ChannelLayerUnavailable):
            if not self.redis_down:
                logger.warning("event=matchmaking_unavailable")
            self.redis_down = True
            return
        if self.redis_down:
            logger.info("event=matchmaking_available")
            self.redis_down = False


_runtimes: dict[int, ProcessRuntime] = {}


def ensure_runtime() -> ProcessRuntime:
    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(id(loop))
    if runtime is None or runtime.loop is not loop or runtime.task.done():
        for key, old in list(_runtimes.items()):
            if old.loop.is_closed():
                del _runtimes[key]
        runtime = _runtimes[id(loop)] = ProcessRuntime(loop)
    return runtime


async def stop_runtime() -> None:
    """Stop this loop's background task and give up the process lease (used at shutdown)."""
    runtime = _runtimes.pop(id(asyncio.get_running_loop()), None)
    if runtime is not None:
        runtime.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runtime.task
        await runtime.events.flush()
        await runtime.connection_reports.flush()
    await get_matchmaker().shutdown()
    await close_address_limits()
