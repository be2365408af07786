"""PUBLISHes to one Redis, gathered per turn of the event loop and sent in one pipeline.

Every relayed signal, ``matched`` notice and ``partner_left`` is a PUBLISH, and under load many
consumers publish in the same turn of the event loop. Sent one by one, each costs a pooled
connection, a write and a read on this side and a read and a write on Redis's; gathered
(``transport.batched``, as the matchmaking scripts are), the turn's publishes share one write and
one round trip. Each caller still waits for its own reply, so a consumer's publishes keep their
order (it sends the next only after the last one was taken) and a failure reaches the caller that
made it.
"""

from __future__ import annotations

from typing import Any

from transport.batched import BatchedCommands


class Publisher:
    def __init__(self, client: Any) -> None:
        self.client = client  # a redis.asyncio.Redis
        self.commands = BatchedCommands(client)

    async def publish(self, channel: str, payload: bytes) -> None:
        await self.commands.execute("PUBLISH", channel, payload)
