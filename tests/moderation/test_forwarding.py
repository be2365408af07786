"""The report hand-over store on both backends: every report handed over is filed once, or taken back."""

from __future__ import annotations

import asyncio

from moderation.forwarding import FAILED, FILED, NOTHING, WOKEN, get_forwarding

FILING = {"reason": "nudity", "reporter_key": "k", "snapshot": b"\xff\xd8jpeg\x00", "chat": [["reporter", "hi"]]}


async def test_a_report_handed_over_before_the_stranger_closes_is_taken_by_the_close(backend):
    store = get_forwarding()
    assert await store.deposit("m1", "bob", "r1", FILING, 10) == ""
    # Closing leaves the hash behind and takes, in the same step, what waited for it.
    assert await store.leave("bob-hash", "bob", ["m1", "m0"], 10) == [("r1", FILING)]
    assert await store.take("bob", ["m1"]) == []
    assert not await store.withdraw("m1", "bob", "r1")  # taken: the reporter waits for its answer


async def test_a_report_handed_over_after_the_stranger_closed_finds_the_hash(backend):
    store = get_forwarding()
    await store.leave("bob-hash", "bob", ["m1"], 10)
    assert await store.deposit("m1", "bob", "r1", FILING, 10) == "bob-hash"
    # Nothing was left waiting: the reporter files it itself.
    assert await store.take("bob", ["m1"]) == []
    assert not await store.withdraw("m1", "bob", "r1")


async def test_a_report_nobody_took_is_withdrawn_and_never_filed(backend):
    store = get_forwarding()
    await store.deposit("m1", "bob", "r1", FILING, 10)
    assert await store.take("bob", ["another match"]) == []  # a connection that forgot the call
    assert await store.withdraw("m1", "bob", "r1")
    assert await store.leave("bob-hash", "bob", ["m1"], 10) == []


async def test_the_answer_and_a_report_of_ones_own_side_wake_the_waiting_reporter(backend):
    store = get_forwarding()
    assert await store.wait("r1", "alice", 0.05) == NOTHING
    # The stranger, reporting this side too, hands its report over meanwhile.
    await store.deposit("m1", "alice", "r2", FILING, 10)
    assert await store.wait("r1", "alice", 1) == WOKEN
    waiting = asyncio.ensure_future(store.wait("r1", "alice", 1))
    await store.answer("r1", True)
    assert await waiting == FILED
    await store.answer("r1", False)
    assert await store.wait("r1", "", 1) == FAILED
