"""The Redis channel layer, made to ride out a Redis outage.

Stock channels_redis raises from ``receive()`` when Redis goes away, which ends
every consumer (and so every WebSocket) on the process. Here receiving waits
and retries instead, and the sending calls raise one exception the consumer
turns into an ``unavailable`` error for the visitor.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.exceptions
from channels_redis.core import RedisChannelLayer

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 1.0


class ChannelLayerUnavailable(Exception):
    """The channel layer's Redis cannot be reached."""


class ResilientRedisChannelLayer(RedisChannelLayer):
    async def receive(self, channel: str) -> dict[str, Any]:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                return await super().receive(channel)
            except REDIS_ERRORS:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await super().send(channel, message)
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
