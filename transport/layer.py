"""The Redis channel layer (channels_redis's pub/sub flavour), made to ride out a Redis outage.

Pub/sub delivers a relayed signal in one hop, about twice as fast as the list-based
layer at half the CPU (see docs/benchmarks.md). Stock, it fails a new connection
outright when Redis is away; here a new channel is subscribed in the background
once Redis is back, and the sending calls raise one exception the consumer turns
into an ``unavailable`` error for the visitor.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

from transport.publisher import Publisher
from transport.redis_connection import REDIS_ERRORS, QuickWriteConnection

# Any error from Redis, not only a lost connection: out of memory and read-only after a
# failover come back as ResponseError, and they too mean "unavailable", never a crash.
RETRY_SECONDS = 0.5

# The pub/sub reader's loop is channels_redis's, and so is its logger: a Redis outage it meets is
# folded into one line, as before (alienmeet_site/logs.py).
reader_log = logging.getLogger("channels_redis.pubsub")


class ChannelLayerUnavailable(Exception):
    """The channel layer's Redis cannot be reached."""


class ResilientRedisChannelLayer(RedisPubSubChannelLayer):
    """The public layer: one loop layer per event loop, as in channels_redis (pinned in requirements)."""

    # Every relayed signal is a send and a receive: defined here, they skip the parent's
    # __getattr__, which builds a partial and runs an extra coroutine for each call.
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._get_layer().send(channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        return await self._get_layer().receive(channel)

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _ResilientLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer


class _WakefulShard(RedisSingleShardConnection):
    """A shard whose reader, with nothing subscribed, waits for the next subscription itself.

    channels_redis's reader sleeps 0.1 s at a time while nothing is subscribed, so the first channel
    subscribed on an idle process waited up to that long for its first message: every health probe
    of a process without visitors took about 100 ms, where the check itself takes under a
    millisecond. The loop is channels_redis's own (the version pinned in requirements.txt) but for
    that wait.
    """

    # How long one read of pub/sub waits for a message before the loop looks again.
    READ_WAIT = 0.1

    def __init__(self, host: dict[str, Any], channel_layer: RedisPubSubLoopLayer) -> None:
        super().__init__(host, channel_layer)
        self._subscribed = asyncio.Event()

    async def subscribe(self, channel: str) -> None:
        await super().subscribe(channel)
        self._subscribed.set()

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=self.READ_WAIT)
                    self._receive_message(message)
                else:
                    # No await between the look above and this: a subscription cannot slip in between.
                    self._subscribed.clear()
                    await self._subscribed.wait()
            except (asyncio.CancelledError, TimeoutError, GeneratorExit):
                raise
            except BaseException:
                reader_log.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)


class _ResilientLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_WakefulShard(shard.host, self) for shard in self._shards]
        for shard in self._shards:
            # A URL's own scheme still decides for rediss:// and unix:// (redis-py lets it override).
            if "address" in shard.host:
                shard.host = {"connection_class": QuickWriteConnection, **shard.host}
        self._publishers: dict[RedisSingleShardConnection, Publisher] = {}

    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = asyncio.Queue()
        try:
            await self._get_shard(channel).subscribe(channel)
        except REDIS_ERRORS:
            asyncio.get_running_loop().create_task(self._subscribe_when_back(channel))
        return channel

    async def _subscribe_when_back(self, channel: str) -> None:
        while channel in self.channels:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                await self._get_shard(channel).subscribe(channel)
            except REDIS_ERRORS:
                continue
            return

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        # channels_redis publishes under the shard's subscription lock, one publish at a time per
        # process, so every relayed signal queued behind the previous one's round trip. A publish
        # needs no subscription state: it goes through the shard's connection pool at once, in
        # one pipeline with the others of the same turn of the event loop.
        shard = self._get_shard(channel)
        payload = self.channel_layer.serialize(message)
        try:
            if shard._redis is None:
                async with shard._lock:
                    shard._ensure_redis()
            publisher = self._publishers.get(shard)
            if publisher is None or publisher.client is not shard._redis:  # flush() makes a new client
                publisher = self._publishers[shard] = Publisher(shard._redis)
            await publisher.publish(channel, payload)
        except REDIS_ERRORS as error:
            raise ChannelLayerUnavailable(str(error)) from error

    async def group_add(self, group: str, channel: str) -> None:
        try:
            await super().group_add(group, channel)
        except REDIS_ERRORS as error:
            raise ChannelLayerUnavailable(str(error)) from error

    async def group_discard(self, group: str, channel: str) -> None:
        try:
            await super().group_discard(group, channel)
        except REDIS_ERRORS as error:
            raise ChannelLayerUnavailable(str(error)) from error

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await super().group_send(group, message)
        except REDIS_ERRORS as error:
            raise ChannelLayerUnavailable(str(error)) from error
