"""Redis commands gathered per turn of the event loop and sent in one pipeline, each caller answered.

A command sent alone costs a pooled connection, a write (a system call that, on a local Redis, also
runs the receiving side of the network stack) and a read; under churn every ``join`` and ``next`` is
one such command (a matchmaking script), from many consumers in the same turn of the event loop.
Gathered, the turn's commands share one connection, one write and one read, as the relay's
publishes do (``transport.publisher``). While one batch is on its way, the next gathers.

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
        self.waiting: Batch = []
        self.sender: asyncio.Task[None] | None = None  # held while it runs: the loop keeps only weak references

    async def execute(self, *args: Any) -> Any:
        """Run one command (``"EVALSHA", sha, 0, ...``) with the others of this turn; its reply, or its error raised."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        if self.sender is not None and self.sender.get_loop() is not loop:
            # A loop that ended with a batch under way (tests run a loop each): nothing of it can be
            # answered any more, and this loop sends its own.
            self.sender, self.waiting = None, []
        self.waiting.append((args, waiter))
        if self.sender is None:
            # The task first runs once every callback already due in this turn has run, and so had its
            # chance to add a command.
            self.sender = loop.create_task(self._send_while_waiting())
        return await waiter

    async def _send_while_waiting(self) -> None:
        """One batch on its way at a time. The commands that come while it is answered go out together
        right after it: under load the batches grow and the writes and reads per command shrink, where a
        batch of its own for every turn would have put many small ones on the wire at once. A Redis
        that stops answering holds the commands behind a batch until that batch times out: a caller
        waits at most the connection's timeout twice, once for the batch ahead and once for its own."""
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                await self._send(batch)
        except BaseException:
            for _, waiter in self.waiting:  # cancelled (the loop is closing): so are the callers still waiting
                waiter.cancel()
            self.waiting = []
            raise
        finally:
            self.sender = None

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
