"""The Redis channel layer's pub/sub reader: a process with nothing subscribed answers at once."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio

from alienmeet_site.health import _release
from conftest import REDIS_URL
from transport.layer import ResilientRedisChannelLayer

pytestmark = pytest.mark.redis

ROUNDS = 60


async def test_the_first_channel_on_an_idle_process_gets_its_message_without_waiting_for_a_poll(redis_prefix):
    # A health probe on a process without visitors: a channel subscribed, a message sent to it and
    # read, the channel given back, nothing else subscribed in between. A reader that slept 0.1 s at
    # a time while nothing was subscribed made each round wait for the rest of one such sleep, 50 ms
    # on average: 3 s for these rounds (give or take 0.2 s), against a few milliseconds a round when
    # the subscription wakes the reader. The bound sits between, some forty times what a round takes.
    layer = ResilientRedisChannelLayer(hosts=[{"address": REDIS_URL}], prefix=f"{redis_prefix}asgi")
    watcher = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        started = time.perf_counter()
        for round_ in range(ROUNDS):
            channel = await layer.new_channel("probe.")
            await layer.send(channel, {"type": "probe", "round": round_})
            assert (await asyncio.wait_for(layer.receive(channel), 5))["round"] == round_
            await _release(layer, channel)
            # Nothing subscribed any more, as Redis sees it; the reader hears so next, and waits.
            while (await watcher.pubsub_numsub(channel))[0][1]:
                await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
        assert elapsed < ROUNDS * 0.03, f"{ROUNDS} rounds took {elapsed:.2f} s"
    finally:
        await layer.flush()
        await watcher.aclose()
