"""Strangers matched by a language they share: the `languages` field of `join`, end to end."""

import asyncio
import json

import pytest
import redis
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from callstats.models import MatchEvent
from conftest import REDIS_URL
from matchmaking import Busy, Matched, get_matchmaker
from meet import protocol
from tests.matchmaking.test_redis_lease import make
from tests.protocol_client import Peer

pytestmark = pytest.mark.django_db(transaction=True)


def join_languages(languages: object) -> tuple[str, ...]:
    command = protocol.parse_frame(json.dumps({"type": "join", "languages": languages}))
    assert isinstance(command, protocol.Join)
    return command.languages


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["es"], ("es",)),
        (["pt-BR", " EN-us ", "pt-br"], ("pt-br", "en-us")),
        (["zh-Hant-TW", "es-419", "sr-Latn"], ("zh-hant-tw", "es-419", "sr-latn")),
        (["de-CH-1996"], ("de-ch-1996",)),
        ([], ()),
        (None, ()),
    ],
)
def test_language_tags_are_validated_and_normalised(given, kept):
    assert join_languages(given) == kept


def test_join_without_languages_has_none():
    assert protocol.parse_frame('{"type": "join"}').languages == ()


@pytest.mark.parametrize(
    "given",
    [
        "es",
        ["es", "fr", "de", "it"],
        [42],
        ["english"],
        ["pt_BR"],
        ["es-"],
        ["-es"],
        ["e"],
        ["es--ES"],
        ["1es"],
        ["en-" + "a" * 40],
        ["es\u0000"],
        ["ES-<script>"],
    ],
)
def test_malformed_languages_are_refused(given):
    with pytest.raises(protocol.ProtocolError) as refused:
        join_languages(given)
    assert refused.value.code == protocol.BAD_MESSAGE


@hsettings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.from_regex(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}")), max_size=4))
def test_any_languages_field_is_kept_well_formed_or_refused(value):
    try:
        kept = join_languages(value)
    except protocol.ProtocolError as refused:
        assert refused.code == protocol.BAD_MESSAGE
        return
    assert len(kept) <= protocol.MAX_LANGUAGES and len(set(kept)) == len(kept)
    for tag in kept:
        assert tag == tag.lower() and len(tag) <= protocol.MAX_LANGUAGE_TAG_LENGTH
        # What matching compares is letters only, so it can never break the Redis scripts' lists.
        assert protocol.primary_languages((tag,))[0].isascii() and protocol.primary_languages((tag,))[0].isalpha()


def test_matching_compares_primary_subtags():
    assert protocol.primary_languages(("pt-br", "pt-pt", "en-us", "zh-hant-tw")) == ("pt", "en", "zh")


async def test_matched_by_language_while_a_stranger_who_shares_none_waits(backend):
    japanese = await Peer.connect()
    await japanese.send({"type": "join", "languages": ["ja-JP"]})
    await japanese.expect("waiting")
    brazilian = await Peer.connect()
    await brazilian.send({"type": "join", "languages": ["pt-BR", "en"]})
    await brazilian.expect("waiting")
    portuguese = await Peer.connect()
    await portuguese.send({"type": "join", "languages": ["pt-PT"]})
    matched = await portuguese.expect("matched", polite=False, languages=["pt"])
    await brazilian.expect("matched", polite=True, languages=["pt"], match_id=matched["match_id"])
    # The Japanese speaker was left waiting: the first frame they hear is their match with the next one.
    another = await Peer.connect()
    await another.send({"type": "join", "languages": ["ja"]})
    theirs = await another.receive()
    if theirs["type"] == "waiting":  # matching may take its next round
        theirs = await another.receive()
    assert theirs["type"] == "matched" and theirs["languages"] == ["ja"], theirs
    await japanese.expect("matched", match_id=theirs["match_id"])
    await portuguese.send({"type": "next"})
    await brazilian.expect("partner_left")
    for _ in range(50):  # events are written in batches, about once a second
        events = [event async for event in MatchEvent.objects.all()]
        if events:
            break
        await asyncio.sleep(0.1)
    assert len(events) == 1 and events[0].language_matched is True
    for peer in (japanese, brazilian, portuguese, another):
        await peer.close()


async def test_strangers_who_share_no_language_meet_after_the_hold_out_by_themselves(backend, settings):
    """The page always sends the browser's languages: two visitors who share none still meet, without
    pressing anything, once the hold-out (MATCH_INTEREST_WAIT) is over, as two with unshared interests do."""
    hold_out = settings.MATCHMAKER["INTEREST_WAIT"]
    spanish = await Peer.connect()
    await spanish.send({"type": "join", "languages": ["es-ES"]})
    await spanish.expect("waiting")
    hindi = await Peer.connect()
    started = asyncio.get_running_loop().time()
    await hindi.send({"type": "join", "languages": ["hi-IN"]})
    await hindi.expect("waiting")
    matched = await hindi.expect("matched", timeout=hold_out + 5, languages=[])
    waited = asyncio.get_running_loop().time() - started
    await spanish.expect("matched", match_id=matched["match_id"])
    assert hold_out * 0.9 <= waited <= hold_out + 3, waited
    for peer in (spanish, hindi):
        await peer.close()


async def test_a_bad_language_tag_is_answered_and_loses_nothing(backend):
    peer = await Peer.connect()
    await peer.send({"type": "join", "languages": ["not a tag"]})
    error = await peer.expect("error", code="bad_message")
    assert "BCP 47" in error["message"]
    await peer.send({"type": "join", "languages": ["es"]})
    await peer.expect("waiting")
    await peer.close()


async def test_busy_names_the_shared_languages_too(backend):
    mm = get_matchmaker()
    for name in ("a", "b"):
        await mm.register(name, f"channel-{name}")
    await mm.join("a", "ta", (), ("pt", "en"))
    matched = await mm.join("b", "tb", (), ("en", "pt"))
    assert isinstance(matched, Matched) and matched.shared_languages == ("en", "pt")
    waited = await mm.join("a", "ta", (), ("pt", "en"))
    assert isinstance(waited, Busy) and waited.shared_languages == ("pt", "en")


async def test_language_queues_expire_like_every_other_key(redis_prefix):
    mm = make(redis_prefix)
    await mm.register("a", "chan-a")
    await mm.join("a", "t1", (), ("es", "hi"))
    await mm.heartbeat()
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    keys = [f"{redis_prefix}ql:es", f"{redis_prefix}ql:hi"]
    assert all(0 < client.pttl(key) <= mm.peer_ttl_ms for key in keys), {key: client.pttl(key) for key in keys}
    await mm.leave_queue("a")
    assert not any(client.zcard(key) for key in keys)
    await mm.shutdown()
