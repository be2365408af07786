"""The in-memory channel layer the site uses without Redis: same behaviour as Channels', cheaper per message."""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import ChannelFull

from transport import memory_layer
from transport.memory_layer import SweepingInMemoryChannelLayer


async def test_delivers_in_order_to_the_channel_and_to_group_members() -> None:
    layer = SweepingInMemoryChannelLayer()
    one, two = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("online.x", one)
    await layer.group_add("online.x", two)
    await layer.send(one, {"type": "meet.signal", "n": 1})
    await layer.send(one, {"type": "meet.signal", "n": 2})
    await layer.group_send("online.x", {"type": "meet.online", "count": 2})
    assert [(await layer.receive(one))["n"] for _ in range(2)] == [1, 2]
    assert (await layer.receive(one))["count"] == 2
    assert (await layer.receive(two))["count"] == 2


async def test_receiver_never_shares_the_senders_dict() -> None:
    layer = SweepingInMemoryChannelLayer()
    channel = await layer.new_channel()
    sent = {"type": "meet.signal", "match_id": "m"}
    await layer.send(channel, sent)
    sent["match_id"] = "changed"
    assert (await layer.receive(channel))["match_id"] == "m"


async def test_a_full_channel_refuses() -> None:
    layer = SweepingInMemoryChannelLayer(capacity=2)
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "a"})
    await layer.send(channel, {"type": "b"})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "c"})


async def test_expired_messages_are_swept_and_their_channel_leaves_groups(monkeypatch) -> None:
    monkeypatch.setattr(memory_layer, "SWEEP_EVERY_SECONDS", 0.0)
    layer = SweepingInMemoryChannelLayer(expiry=0.01)
    stale, fresh = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("online.x", stale)
    await layer.send(stale, {"type": "old"})
    await asyncio.sleep(0.05)
    layer.expiry = 60
    await layer.send(fresh, {"type": "new"})
    assert (await layer.receive(fresh))["type"] == "new"
    assert stale not in layer.channels
    assert stale not in layer.groups["online.x"]
