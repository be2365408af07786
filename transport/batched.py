"""Redis commands gathered per turn of the event loop and sent in one pipeline, each caller answered.

A command sent alone costs a pooled connection, a write (a system call that, on a local Redis, also
runs the receiving side of the network stack) and a read; under churn every ``join`` and ``next`` is
one such command (a matchmaking script), from many consumers in the same turn of the event loop.
Gathered, the turn's commands share one connection, one write and one read, as the relay's
publishes do (``transport.publisher``).

Each caller still waits for its own reply: a caller's commands keep their order (it sends the next
only after the last one was answered), a reply that is an error (a script's, or NOSCRIPT) reaches
only its caller, and a failure of the connection reaches every caller of the batch. A pipeline here
is not a transaction: each command is as atomic as it is alone (a Lua script, wholly), no more.
"""

from __future__ import annotations

import asyncio
from typing import Any

Batch = list[tuple[tuple[Any, ...], asyncio.Future[Any]]]


class BatchedCommands:
    def __init__(self, client: Any) -> None:
        self.client = client  # a redis.asyncio.Redis
        self.gathering: Batch | None = None
        self.sending: set[asyncio.Task[None]] = set()

    async def execute(self, *args: Any) -> Any:
        """Run one command (``"EVALSHA", sha, 0, ...``) with the others of this turn; its reply, or its error raised."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        if self.gathering is None:
            self.gathering = []
            # Runs once every callback already due in this turn has run, and so had its chance to add a command.
            loop.call_soon(self._send_gathered)
        self.gathering.append((args, waiter))
        return await waiter

    def _send_gathered(self) -> None:
        batch, self.gathering = self.gathering or [], None
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self.sending.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self.sending.discard)

    async def _send(self, batch: Batch) -> None:
        try:
            if len(batch) == 1:
                try:
                    results: list[Any] = [await self.client.execute_command(*batch[0][0])]
                except Exception as error:
                    # The command's own refusal or a lost connection: either way its one caller hears it.
                    results = [error]
            else:
                async with self.client.pipeline(transaction=False) as pipe:
                    for args, _ in batch:
                        pipe.execute_command(*args)
                    results = await pipe.execute(raise_on_error=False)
        except Exception as error:
            # Whatever went wrong (Redis away, a broken connection), every caller hears of it.
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        except BaseException:
            for _, waiter in batch:  # cancelled (the loop is closing): so are the callers
                waiter.cancel()
            raise
        if len(results) != len(batch):  # never from Redis; still, no caller may wait forever
            results = [RuntimeError(f"{len(results)} replies to {len(batch)} commands")] * len(batch)
        for (_, waiter), result in zip(batch, results, strict=True):
            if waiter.done():
                continue  # its caller was cancelled meanwhile
            if isinstance(result, Exception):
                waiter.set_exception(result)
            else:
                waiter.set_result(result)
