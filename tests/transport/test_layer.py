"""The Redis channel layer's pub/sub reader: a process with nothing subscribed answers at once."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from alienmeet_site.health import _release
from conftest import REDIS_URL
from transport.layer import ResilientRedisChannelLayer

pytestmark = pytest.mark.redis

ROUNDS = 20


async def test_the_first_channel_on_an_idle_process_gets_its_message_without_waiting_for_a_poll(
    redis_prefix, monkeypatch
):
    # channels_redis's reader, with nothing subscribed, slept 0.1 s and looked again. Here any such
    # sleep lasts a minute: a reader that polls would keep each round's message far past the wait
    # below, however fast or slow the machine; one that the subscription wakes delivers it at once.
    real_sleep = asyncio.sleep

    async def polls_last_a_minute(delay: float, *args: object, **kwargs: object) -> object:
        return await real_sleep(60 if delay == 0.1 else delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", polls_last_a_minute)
    layer = ResilientRedisChannelLayer(hosts=[{"address": REDIS_URL}], prefix=f"{redis_prefix}asgi")
    watcher = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        # A health probe on a process without visitors, again and again: a channel subscribed, a
        # message sent to it and read, the channel given back, nothing else subscribed in between.
        for round_ in range(ROUNDS):
            channel = await layer.new_channel("probe.")
            await layer.send(channel, {"type": "probe", "round": round_})
            assert (await asyncio.wait_for(layer.receive(channel), 10))["round"] == round_
            await _release(layer, channel)
            # Nothing subscribed any more, as Redis sees it; the reader hears so next, and waits.
            while (await watcher.pubsub_numsub(channel))[0][1]:
                await real_sleep(0.001)
    finally:
        await layer.flush()
        await watcher.aclose()
