"""PUBLISHes to one Redis, gathered per turn of the event loop and sent in one pipeline.

Every relayed signal, ``matched`` notice and ``partner_left`` is a PUBLISH, and under load many
consumers publish in the same turn of the event loop. Sent one by one, each costs a pooled
connection, a write and a read on this side and a read and a write on Redis's; gathered, the
turn's publishes share one write and one round trip. Each caller still waits for its own
reply, so a consumer's publishes keep their order (it sends the next only after the last one
was taken) and a failure reaches the caller that made it.
"""

from __future__ import annotations

import asyncio
from typing import Any

Batch = list[tuple[str, bytes, asyncio.Future[None]]]


class Publisher:
    def __init__(self, client: Any) -> None:
        self.client = client  # a redis.asyncio.Redis
        self.gathering: Batch | None = None
        self.sending: set[asyncio.Task[None]] = set()

    async def publish(self, channel: str, payload: bytes) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if self.gathering is None:
            self.gathering = []
            # Runs once every callback already due in this turn has run, and so had its chance to publish.
            loop.call_soon(self._send_gathered)
        self.gathering.append((channel, payload, waiter))
        await waiter

    def _send_gathered(self) -> None:
        batch, self.gathering = self.gathering or [], None
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self.sending.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self.sending.discard)

    async def _send(self, batch: Batch) -> None:
        try:
            if len(batch) == 1:
                channel, payload, _ = batch[0]
                results: list[Any] = [await self.client.publish(channel, payload)]
            else:
                async with self.client.pipeline(transaction=False) as pipe:
                    for channel, payload, _ in batch:
                        pipe.publish(channel, payload)
                    results = await pipe.execute(raise_on_error=False)
        except Exception as error:
            # Whatever went wrong (Redis away, a broken connection), every caller hears of it.
            for _, _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        except BaseException:
            for _, _, waiter in batch:  # cancelled (the loop is closing): so are the callers
                waiter.cancel()
            raise
        if len(results) != len(batch):  # never from Redis; still, no caller may wait forever
            results = [RuntimeError(f"{len(results)} replies to {len(batch)} publishes")] * len(batch)
        for (_, _, waiter), result in zip(batch, results, strict=True):
            if waiter.done():
                continue  # its caller was cancelled meanwhile
            if isinstance(result, Exception):
                waiter.set_exception(result)
            else:
                waiter.set_result(None)
