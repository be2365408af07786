"""Publishes gathered per turn of the event loop: each still delivered in its caller's order,
each caller answered, and a failure reaching every caller of the batch."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis

from conftest import REDIS_URL
from tests.transport.recording_redis import RecordingClient
from transport.publisher import Publisher


async def test_publishes_of_one_turn_share_one_write():
    client = RecordingClient()
    publisher = Publisher(client)
    await asyncio.gather(*(publisher.publish(f"c{n}", b"x") for n in range(5)))
    assert client.writes == [[("PUBLISH", f"c{n}", b"x") for n in range(5)]]
    await publisher.publish("alone", b"y")
    assert client.writes[-1] == [("PUBLISH", "alone", b"y")]


async def test_a_failure_reaches_every_caller_of_the_batch():
    client = RecordingClient(fail=redis.ConnectionError("gone"))
    publisher = Publisher(client)
    results = await asyncio.gather(*(publisher.publish(f"c{n}", b"x") for n in range(3)), return_exceptions=True)
    assert all(isinstance(r, redis.ConnectionError) for r in results), results
    client.fail = None  # Redis is back: the next publishes go through
    await publisher.publish("c", b"x")
    assert client.writes == [[("PUBLISH", "c", b"x")]]


async def test_a_reply_missing_fails_every_caller_instead_of_leaving_one_waiting():
    client = RecordingClient()
    client.replies_missing = 1
    publisher = Publisher(client)
    results = await asyncio.wait_for(
        asyncio.gather(*(publisher.publish(f"c{n}", b"x") for n in range(3)), return_exceptions=True), 2
    )
    assert all(isinstance(r, RuntimeError) for r in results), results


async def test_a_cancelled_caller_leaves_the_others_answered():
    client = RecordingClient()
    publisher = Publisher(client)
    doomed = asyncio.ensure_future(publisher.publish("doomed", b"x"))
    others = [asyncio.ensure_future(publisher.publish(f"c{n}", b"x")) for n in range(3)]
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.wait_for(asyncio.gather(*others), 2)
    assert doomed.cancelled()


@pytest.mark.redis
async def test_on_redis_every_senders_messages_arrive_in_order(redis_prefix):
    client = aioredis.Redis.from_url(REDIS_URL)
    listener = aioredis.Redis.from_url(REDIS_URL)
    pubsub = listener.pubsub()
    channels = [f"{redis_prefix}ch{n}" for n in range(4)]
    await pubsub.subscribe(*channels)
    publisher = Publisher(client)

    async def sender(channel: str) -> None:
        for n in range(30):
            await publisher.publish(channel, str(n).encode())

    try:
        await asyncio.gather(*(sender(channel) for channel in channels))
        received: dict[str, list[int]] = {channel: [] for channel in channels}
        while sum(map(len, received.values())) < 4 * 30:
            message = await asyncio.wait_for(pubsub.get_message(ignore_subscribe_messages=True, timeout=1), 5)
            if message:
                received[message["channel"].decode()].append(int(message["data"]))
        assert all(numbers == list(range(30)) for numbers in received.values()), received
    finally:
        await pubsub.aclose()
        await listener.aclose()
        await client.aclose()
