"""This process's background duty, one task per event loop.

Every second it renews the process's lease in the matchmaking state, reaps
processes that stopped renewing theirs (telling their peers' partners), and
pushes the online count to this process's own connections when it changed.
Nothing here decides who meets whom; that lives in the shared state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from channels.layers import get_channel_layer

from meet.endings import announce_end
from meet.matchmaking import MatchmakerUnavailable, get_matchmaker

logger = logging.getLogger("alienmeet.meet")

TICK_SECONDS = 1.0


class ProcessRuntime:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        # Each process pushes the online count to its own connections through this group.
        self.online_group = f"online.{secrets.token_hex(8)}"
        self.last_online: int | None = None
        self.redis_down = False
        self.task = loop.create_task(self._run(), name="alienmeet-runtime")

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
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
        except MatchmakerUnavailable:
            if not self.redis_down:
                logger.error("event=matchmaking_unavailable")
            self.redis_down = True
            return
        if self.redis_down:
            logger.info("event=matchmaking_available")
            self.redis_down = False
        for ended in reaped:
            await announce_end(layer, ended)
        if snapshot.online != self.last_online:
            self.last_online = snapshot.online
            await layer.group_send(self.online_group, {"type": "meet.online", "count": snapshot.online})


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
    await get_matchmaker().shutdown()
