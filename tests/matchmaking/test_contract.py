"""The contract both matchmaking backends keep, checked on the interface itself."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from matchmaking import Busy, Gone, Matched, Queued, Snapshot, get_matchmaker


async def registered(*names: str, addresses: dict[str, str] | None = None):
    matchmaker = get_matchmaker()
    for name in names:
        await matchmaker.register(name, f"channel-{name}", (addresses or {}).get(name, ""))
    return matchmaker


async def test_first_waits_second_is_matched(backend):
    mm = await registered("a", "b")
    assert isinstance(await mm.join("a", "ta", ()), Queued)
    result = await mm.join("b", "tb", ())
    assert isinstance(result, Matched)
    assert (result.partner_id, result.partner_channel, result.partner_ticket) == ("a", "channel-a", "ta")
    assert result.shared_interests == ()
    assert await mm.snapshot() == Snapshot(online=2, waiting=0, in_calls=1)


async def test_never_matched_with_self_or_twice(backend):
    mm = await registered("a", "b", "c")
    assert isinstance(await mm.join("a", "t1", ()), Queued)
    assert isinstance(await mm.join("a", "t1", ()), Queued)
    assert isinstance(await mm.join("b", "t2", ()), Matched)
    assert isinstance(await mm.join("a", "t1", ()), Busy)
    assert isinstance(await mm.join("c", "t3", ()), Queued)


async def test_unknown_peer_is_gone(backend):
    mm = get_matchmaker()
    assert isinstance(await mm.join("nobody", "t", ()), Gone)


async def test_shared_interest_is_preferred_over_queue_order(backend):
    mm = await registered("old", "music", "me")
    await mm.join("old", "t1", ("chess",))
    await mm.join("music", "t2", ("music", "art"))
    result = await mm.join("me", "t3", ("art", "music"))
    assert isinstance(result, Matched)
    assert result.partner_id == "music"
    assert result.shared_interests == ("art", "music")


async def test_interests_hold_out_then_take_anyone(backend, settings):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ("chess",))
    assert isinstance(await mm.join("b", "t2", ("music",)), Queued)
    wait = settings.MATCHMAKER["INTEREST_WAIT"]
    await asyncio.sleep(wait + 0.1)
    result = await mm.join("b", "t2", ("music",))
    assert isinstance(result, Matched)
    assert result.partner_id == "a" and result.shared_interests == ()
    assert result.wait >= wait


async def test_peer_without_interests_waits_for_holdout_to_expire(backend, settings):
    mm = await registered("picky", "easy")
    await mm.join("picky", "t1", ("chess",))
    assert isinstance(await mm.join("easy", "t2", ()), Queued)
    await asyncio.sleep(settings.MATCHMAKER["INTEREST_WAIT"] + 0.1)
    assert isinstance(await mm.join("easy", "t2", ()), Matched)


async def test_shared_language_is_preferred_over_shared_interest(backend):
    mm = await registered("music", "spanish", "me")
    await mm.join("music", "t1", ("music",), ("en",))
    await mm.join("spanish", "t2", (), ("es",))
    result = await mm.join("me", "t3", ("music",), ("es", "fr"))
    assert isinstance(result, Matched) and result.partner_id == "spanish"
    assert result.shared_languages == ("es",) and result.shared_interests == ()
    ended = await mm.end("me", result.match_id, "leave")
    assert ended.language_matched and not ended.interest_matched


async def test_shared_interest_comes_second_before_anyone(backend):
    mm = await registered("anyone", "music", "me")
    await mm.join("anyone", "t1", ())
    await asyncio.sleep(0.01)  # queue times are kept to the millisecond
    await mm.join("music", "t2", ("music",), ("en",))
    result = await mm.join("me", "t3", ("music",), ("es",))
    assert isinstance(result, Matched) and result.partner_id == "music"
    assert result.shared_interests == ("music",) and result.shared_languages == ()
    ended = await mm.end("me", result.match_id, "leave")
    assert ended.interest_matched and not ended.language_matched


async def test_oldest_speaker_of_any_shared_language(backend):
    mm = await registered("french", "hindi", "me")
    await mm.join("french", "t1", (), ("fr",))
    await asyncio.sleep(0.01)
    await mm.join("hindi", "t2", ("chess",), ("hi", "en"))
    result = await mm.join("me", "t3", ("chess",), ("hi", "fr"))
    assert isinstance(result, Matched) and result.partner_id == "french"
    assert result.shared_languages == ("fr",)


async def test_languages_hold_out_no_longer_than_interests_then_take_anyone(backend, settings):
    mm = await registered("japanese", "spanish")
    await mm.join("japanese", "t1", (), ("ja",))
    assert isinstance(await mm.join("spanish", "t2", (), ("es",)), Queued)
    wait = settings.MATCHMAKER["INTEREST_WAIT"]
    await asyncio.sleep(wait + 0.1)
    result = await mm.join("spanish", "t2", (), ("es",))
    assert isinstance(result, Matched) and result.partner_id == "japanese"
    assert result.shared_languages == () and result.wait >= wait
    ended = await mm.end("spanish", result.match_id, "leave")
    assert not ended.language_matched


async def test_a_visitor_without_languages_or_interests_is_taken_at_once(backend):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ())
    assert isinstance(await mm.join("b", "t2", ()), Matched)


async def test_a_language_speaker_who_left_the_queue_is_not_matched(backend):
    mm = await registered("gone", "me", "later")
    await mm.join("gone", "t1", (), ("es",))
    await mm.leave_queue("gone")
    assert isinstance(await mm.join("me", "t2", (), ("es",)), Queued)
    result = await mm.join("later", "t3", (), ("es",))
    assert isinstance(result, Matched) and result.partner_id == "me"
    assert (await mm.snapshot()).waiting == 0


async def test_end_reports_match_and_frees_both(backend):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ("x",))
    matched = await mm.join("b", "t2", ("x",))
    ended = await mm.end("b", matched.match_id, "leave")
    assert ended is not None
    assert (ended.match_id, ended.other_id, ended.other_channel, ended.reason) == (
        matched.match_id,
        "a",
        "channel-a",
        "leave",
    )
    assert ended.interest_matched is True
    assert ended.ended_at >= ended.started_at
    assert await mm.end("a", matched.match_id, "leave") is None
    snapshot = await mm.snapshot()
    assert (snapshot.waiting, snapshot.in_calls) == (0, 0)


async def test_end_with_stale_match_id_does_nothing(backend):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ())
    await mm.join("b", "t2", ())
    assert await mm.end("a", "not-this-match", "next") is None
    assert (await mm.snapshot()).in_calls == 1


async def test_next_cooldown_while_someone_else_waits(backend):
    mm = await registered("a", "b", "c")
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    await mm.end("b", first.match_id, "next")
    assert isinstance(await mm.join("b", "t3", ()), Queued)
    await asyncio.sleep(0.01)  # queue times are kept to the millisecond
    # a comes back: b waits but is off limits; nobody else, so a waits too.
    assert isinstance(await mm.join("a", "t4", ()), Queued)
    result = await mm.join("c", "t5", ())
    assert isinstance(result, Matched) and result.partner_id == "b"


async def test_next_ends_the_match_and_joins_in_one_step(backend):
    mm = await registered("a", "b", "c")
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    await mm.join("c", "t3", ())
    ended, joined = await mm.next("b", first.match_id, "next", "t4", ())
    assert ended is not None
    assert (ended.match_id, ended.other_id, ended.other_channel, ended.reason) == (
        first.match_id,
        "a",
        "channel-a",
        "next",
    )
    # c was waiting: b meets c at once; a is free (the cooldown keeps a and b apart).
    assert isinstance(joined, Matched) and joined.partner_id == "c" and joined.partner_ticket == "t3"
    assert await mm.end("a", first.match_id, "leave") is None
    assert isinstance(await mm.join("a", "t5", ()), Queued)
    assert await mm.snapshot() == Snapshot(online=3, waiting=1, in_calls=1)


async def test_next_keeps_the_just_met_apart_and_queues(backend):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    ended, joined = await mm.next("a", first.match_id, "next", "t3", ("music",), ("es",))
    assert ended is not None and ended.other_channel == "channel-b"
    assert isinstance(joined, Queued)
    # b comes back at once: a waits, but they just parted with Next.
    assert isinstance(await mm.join("b", "t4", ()), Queued)
    assert await mm.snapshot() == Snapshot(online=2, waiting=2, in_calls=0)


async def test_next_with_a_stale_match_id_only_joins(backend):
    mm = await registered("a", "b", "c")
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    ended, joined = await mm.next("c", first.match_id, "next", "t3", ())
    assert ended is None and isinstance(joined, Queued)
    # A match that is not the caller's own, or no longer current, is left alone.
    ended, joined = await mm.next("b", "not-this-match", "next", "t4", ())
    assert ended is None and isinstance(joined, Busy) and joined.match_id == first.match_id
    assert (await mm.snapshot()).in_calls == 1


async def test_next_of_an_unknown_peer_is_gone(backend):
    mm = get_matchmaker()
    ended, joined = await mm.next("nobody", "m", "next", "t", ())
    assert ended is None and isinstance(joined, Gone)


async def test_cooldown_pair_meets_again_when_alone_after_the_wait(backend, settings):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    await mm.end("a", first.match_id, "next")
    assert isinstance(await mm.join("a", "t3", ()), Queued)
    assert isinstance(await mm.join("b", "t4", ()), Queued)
    await asyncio.sleep(settings.MATCHMAKER["INTEREST_WAIT"] + 0.1)
    assert isinstance(await mm.join("b", "t4", ()), Matched)


async def test_leave_queue_and_unregister(backend):
    mm = await registered("a", "b", "c")
    await mm.join("a", "t1", ())
    await mm.leave_queue("a")
    assert (await mm.snapshot()).waiting == 0
    await mm.join("b", "t2", ())
    matched = await mm.join("c", "t3", ())
    ended = await mm.unregister("b")
    assert ended is not None and ended.reason == "disconnect" and ended.other_id == "c"
    assert ended.match_id == matched.match_id
    assert await mm.unregister("a") is None
    snapshot = await mm.snapshot()
    assert (snapshot.online, snapshot.waiting, snapshot.in_calls) == (1, 0, 0)


async def test_concurrent_joins_pair_everyone_exactly_once(backend):
    names = [f"p{i}" for i in range(60)]
    mm = await registered(*names)
    results = await asyncio.gather(*(mm.join(name, f"t-{name}", ()) for name in names))
    partner = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, Matched):
            assert result.partner_id != name
            assert name not in partner and result.partner_id not in partner
            partner[name] = result.partner_id
            partner[result.partner_id] = name
    assert len(partner) == len(names)
    assert all(partner[partner[name]] == name for name in names)


@pytest.mark.parametrize("reason", ["next", "leave"])
async def test_ended_match_events_carry_reason(backend, reason):
    mm = await registered("a", "b")
    await mm.join("a", "t1", ())
    matched = await mm.join("b", "t2", ())
    ended = await mm.end("a", None, reason)
    assert ended.reason == reason and ended.match_id == matched.match_id
    assert len(ended.waits) == 2 and min(ended.waits) >= 0


async def test_channel_layer_is_configured(backend):
    assert get_channel_layer() is not None


async def test_next_cooldown_follows_the_address_not_the_connection(backend):
    """Reconnecting (a new peer id from the same address) does not reset the Next cooldown."""
    mm = await registered("a", "b", "c", addresses={"a": "hash-a", "b": "hash-b", "c": "hash-c"})
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    await mm.end("a", first.match_id, "next")
    await mm.unregister("a")
    await mm.register("a-again", "channel-a-again", "hash-a")
    assert isinstance(await mm.join("b", "t3", ()), Queued)
    await asyncio.sleep(0.01)  # queue times are kept to the millisecond
    assert isinstance(await mm.join("a-again", "t4", ()), Queued)
    result = await mm.join("c", "t5", ())
    assert isinstance(result, Matched) and result.partner_id == "b"


async def test_reported_stranger_is_never_matched_with_the_reporter_again(backend, settings):
    """Unlike a Next, a report keeps the two addresses apart even when nobody else waits, once the
    cooldown is over, and across reconnects."""
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}
    addresses = {"reporter": "hash-r", "reported": "hash-x", "other": "hash-o"}
    mm = await registered("reporter", "reported", addresses=addresses)
    await mm.join("reported", "t1", ("chess",))
    first = await mm.join("reporter", "t2", ("chess",))
    ended = await mm.end("reporter", first.match_id, "next", keep_apart=True)
    assert ended is not None and ended.reason == "next"
    await mm.unregister("reported")
    await mm.register("reported-again", "channel-x2", "hash-x")
    assert isinstance(await mm.join("reported-again", "t3", ("chess",)), Queued)
    assert isinstance(await mm.join("reporter", "t4", ("chess",)), Queued)
    await asyncio.sleep(settings.MATCHMAKER["INTEREST_WAIT"] + 0.1)
    assert isinstance(await mm.join("reporter", "t4", ("chess",)), Queued)
    assert isinstance(await mm.join("reported-again", "t3", ("chess",)), Queued)
    # Anyone else is still matched with either of them.
    await mm.register("other", "channel-o", "hash-o")
    result = await mm.join("other", "t5", ("chess",))
    assert isinstance(result, Matched) and result.partner_id in {"reporter", "reported-again"}


async def test_a_report_after_the_match_ended_keeps_the_two_apart_too(backend, settings):
    """The stranger skipped on before the report arrived: the report's rule holds all the same, by
    peer while their connection lives and by address once it is gone."""
    settings.MATCHMAKER = {**settings.MATCHMAKER, "REMATCH_COOLDOWN": 0}
    addresses = {"reporter": "hash-r", "reported": "hash-x", "gone": "hash-g"}
    mm = await registered("reporter", "reported", "gone", addresses=addresses)
    await mm.join("reported", "t1", ())
    first = await mm.join("reporter", "t2", ())
    await mm.end("reported", first.match_id, "next")
    await mm.keep_apart("reporter", "reported")
    assert isinstance(await mm.join("reported", "t3", ()), Queued)
    await asyncio.sleep(settings.MATCHMAKER["INTEREST_WAIT"] + 0.1)
    assert isinstance(await mm.join("reporter", "t4", ()), Queued)
    await mm.leave_queue("reported")
    # A stranger whose connection has closed is named by the address hash it left behind.
    await mm.unregister("gone")
    await mm.keep_apart("reporter", other_address="hash-g")
    await mm.register("gone-again", "channel-g2", "hash-g")
    await asyncio.sleep(settings.MATCHMAKER["INTEREST_WAIT"] + 0.1)
    assert isinstance(await mm.join("gone-again", "t5", ()), Queued)
    assert isinstance(await mm.join("reporter", "t4", ()), Queued)


async def test_peers_without_an_address_are_told_apart_by_peer_id(backend):
    mm = await registered("a", "b", "c")
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    await mm.end("a", first.match_id, "next")
    assert isinstance(await mm.join("a", "t3", ()), Queued)
    result = await mm.join("c", "t4", ())
    assert isinstance(result, Matched) and result.partner_id == "a"


async def test_people_behind_one_address_are_told_apart_by_connection(backend):
    """A Next between two people sharing an address (a NAT) keeps only those two apart."""
    shared = {"a": "hash-nat", "b": "hash-nat", "c": "hash-nat"}
    mm = await registered("a", "b", "c", addresses=shared)
    await mm.join("a", "t1", ())
    first = await mm.join("b", "t2", ())
    await mm.end("a", first.match_id, "next", keep_apart=True)
    assert isinstance(await mm.join("a", "t3", ()), Queued)
    result = await mm.join("c", "t4", ())
    assert isinstance(result, Matched) and result.partner_id == "a"
    assert isinstance(await mm.join("b", "t5", ()), Queued)


async def test_busy_names_the_match_so_a_lost_notice_can_be_made_up_for(backend):
    mm = await registered("a", "b")
    await mm.join("a", "ta", ("chess", "art"))
    matched = await mm.join("b", "tb", ("art", "chess"))
    assert isinstance(matched, Matched)
    waited = await mm.join("a", "ta", ("chess", "art"))
    assert waited == Busy(matched.match_id, "channel-b", "ta", True, ("chess", "art"), partner_id="b")
    joined = await mm.join("b", "tb", ())
    assert (joined.match_id, joined.partner_channel, joined.ticket, joined.polite, joined.partner_id) == (
        matched.match_id,
        "channel-a",
        "tb",
        False,
        "a",
    )


async def test_take_over_moves_a_matched_peer_to_a_new_connection(backend):
    mm = await registered("a", "b", "fresh")
    await mm.join("a", "ta", ("chess",), ("es",))
    matched = await mm.join("b", "tb", ("chess",), ("es",))
    assert isinstance(matched, Matched)
    seen: list[str] = []

    def verify(channel: str) -> bool:
        seen.append(channel)
        return channel == "channel-a"

    moved = await mm.take_over("a", matched.match_id, "channel-fresh", "fresh", verify)
    assert moved is not None and seen == ["channel-a"]
    assert (moved.match_id, moved.old_channel, moved.partner_channel, moved.polite, moved.partner_id) == (
        matched.match_id,
        "channel-a",
        "channel-b",
        True,
        "b",
    )
    assert (moved.shared_interests, moved.shared_languages, moved.interests, moved.languages) == (
        ("chess",),
        ("es",),
        ("chess",),
        ("es",),
    )
    # The new connection's own idle peer is gone; the match is as it was.
    assert await mm.snapshot() == Snapshot(online=2, waiting=0, in_calls=1)
    # The old connection leaving ends nothing; the partner's end is told to the new connection.
    assert await mm.unregister("a", "channel-a") is None
    assert await mm.take_over("a", matched.match_id, "channel-other", "", verify) is None  # used once
    ended = await mm.end("b", matched.match_id, "next")
    assert ended is not None and ended.other_channel == "channel-fresh"


async def test_take_over_changes_nothing_unless_every_condition_holds(backend):
    mm = await registered("a", "b", "idle", "fresh")
    await mm.join("a", "ta", ())
    matched = await mm.join("b", "tb", ())
    assert isinstance(matched, Matched)
    yes = lambda channel: True  # noqa: E731
    assert await mm.take_over("a", "another-match", "channel-fresh", "fresh", yes) is None
    assert await mm.take_over("a", matched.match_id, "channel-fresh", "fresh", lambda channel: False) is None
    assert await mm.take_over("idle", matched.match_id, "channel-fresh", "fresh", yes) is None
    assert await mm.take_over("nobody", matched.match_id, "channel-fresh", "fresh", yes) is None
    assert await mm.snapshot() == Snapshot(online=4, waiting=0, in_calls=1)
    ended = await mm.end("b", matched.match_id, "next")
    assert ended is not None and ended.other_channel == "channel-a"
