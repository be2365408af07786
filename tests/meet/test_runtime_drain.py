"""A stopping process (SIGTERM) drains in a context of its own, whatever task the signal interrupted."""

from __future__ import annotations

import asyncio
import signal

from asgiref.sync import SyncToAsync, sync_to_async

from meet.runtime import ensure_runtime


async def test_a_drain_requested_during_a_database_write_can_still_write(monkeypatch):
    runtime = ensure_runtime()
    wrote = asyncio.get_running_loop().create_future()

    async def drain(previous, signum, frame) -> None:
        # What the real drain does last: save the ended matches through the database's thread (a
        # thread-sensitive call, as channels' database_sync_to_async makes; no database here).
        try:
            wrote.set_result(await sync_to_async(lambda: "saved")())
        except RuntimeError as refused:
            wrote.set_result(str(refused))

    monkeypatch.setattr(runtime, "drain", drain)
    # The signal arrives while this process's own task is inside a database write: the context the
    # handler runs in carries asgiref's mark for a thread-sensitive call under way.
    mark = SyncToAsync.deadlock_context.set(True)
    try:
        runtime.request_drain(None, signal.SIGTERM, None)
    finally:
        SyncToAsync.deadlock_context.reset(mark)
    assert await asyncio.wait_for(wrote, 10) == "saved"
    assert runtime.drain_task is not None
