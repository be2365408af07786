"""In-memory matchmaking: the embedded default for a single server process.

Every operation runs to completion without awaiting, so on one event loop it is
as atomic as the Redis scripts. It cannot be shared between processes, which is
why settings switch to the Redis backend whenever REDIS_URL is set.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from matchmaking.base import (
    DEFAULT_REPORT_BLOCK,
    ENDED_BY_DISCONNECT,
    ENDED_BY_NEXT,
    Busy,
    EndedMatch,
    Gone,
    JoinResult,
    Matched,
    Moved,
    Queued,
    Snapshot,
)


@dataclass
class _Peer:
    peer_id: str
    channel: str
    address: str = ""
    state: str = "idle"  # idle | waiting | matched
    ticket: str = ""
    interests: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    queued_at: float = 0.0
    match_id: str = ""
    partner: str = ""


@dataclass
class _Match:
    started_at: float
    waits: tuple[float, float]
    shared: bool
    polite_id: str = ""  # the side that waited
    shared_language: bool = False


@dataclass
class MemoryStore:
    peers: dict[str, _Peer] = field(default_factory=dict)
    # Insertion-ordered dicts used as queues: oldest first, O(1) removal.
    queue: dict[str, None] = field(default_factory=dict)
    by_interest: dict[str, dict[str, None]] = field(default_factory=dict)
    by_language: dict[str, dict[str, None]] = field(default_factory=dict)
    matches: dict[str, _Match] = field(default_factory=dict)
    cooldowns: dict[frozenset[str], float] = field(default_factory=dict)
    # Pairs kept apart after a report, until the time given.
    blocks: dict[frozenset[str], float] = field(default_factory=dict)

    def clear(self) -> None:
        self.peers.clear()
        self.queue.clear()
        self.by_interest.clear()
        self.by_language.clear()
        self.matches.clear()
        self.cooldowns.clear()
        self.blocks.clear()


# The one store of this process.
STORE = MemoryStore()


class MemoryMatchmaker:
    def __init__(
        self,
        interest_wait: float,
        rematch_cooldown: float,
        report_block: float = DEFAULT_REPORT_BLOCK,
        store: MemoryStore = STORE,
    ) -> None:
        self.interest_wait = interest_wait
        self.rematch_cooldown = rematch_cooldown
        self.report_block = report_block
        self.store = store

    async def register(self, peer_id: str, channel_name: str, address: str = "") -> None:
        self.store.peers[peer_id] = _Peer(peer_id, channel_name, address)

    async def unregister(self, peer_id: str, channel: str = "") -> EndedMatch | None:
        me = self.store.peers.get(peer_id)
        if channel and me is not None and me.channel != channel:
            return None
        return self._forget(peer_id)

    async def take_over(
        self, peer_id: str, match_id: str, channel: str, replaced_id: str, verify: Callable[[str], bool]
    ) -> Moved | None:
        me = self.store.peers.get(peer_id)
        if me is None or me.state != "matched" or me.match_id != match_id or not verify(me.channel):
            return None
        old_channel, me.channel = me.channel, channel
        if replaced_id != peer_id:
            self._forget(replaced_id)
        view = self._busy(me)
        return Moved(
            match_id,
            old_channel,
            view.partner_channel,
            view.polite,
            view.shared_interests,
            view.shared_languages,
            me.interests,
            me.languages,
            me.partner,
        )

    async def join(
        self, peer_id: str, ticket: str, interests: tuple[str, ...], languages: tuple[str, ...] = ()
    ) -> JoinResult:
        me = self.store.peers.get(peer_id)
        if me is None:
            return Gone()
        if me.state == "matched":
            return self._busy(me)
        now = time.time()
        if me.state == "waiting":
            self._dequeue(peer_id)
        else:
            me.queued_at = now
        me.interests, me.languages, me.ticket = interests, languages, ticket
        partner = self._pick(me, now)
        if partner is None:
            self._enqueue(me)
            return Queued()
        self._dequeue(partner.peer_id)
        match_id = secrets.token_urlsafe(12)
        shared = tuple(i for i in me.interests if i in partner.interests)
        spoken = tuple(lang for lang in me.languages if lang in partner.languages)
        waits = (now - partner.queued_at, now - me.queued_at)
        self.store.matches[match_id] = _Match(now, waits, bool(shared), partner.peer_id, bool(spoken))
        for peer, other in ((me, partner), (partner, me)):
            peer.state, peer.match_id, peer.partner = "matched", match_id, other.peer_id
        return Matched(match_id, partner.peer_id, partner.channel, partner.ticket, shared, waits[1], spoken)

    async def next(
        self,
        peer_id: str,
        match_id: str,
        reason: str,
        ticket: str,
        interests: tuple[str, ...],
        languages: tuple[str, ...] = (),
    ) -> tuple[EndedMatch | None, JoinResult]:
        ended = self._end(peer_id, match_id, reason)
        return ended, await self.join(peer_id, ticket, interests, languages)

    async def end(self, peer_id: str, match_id: str | None, reason: str, keep_apart: bool = False) -> EndedMatch | None:
        return self._end(peer_id, match_id, reason, keep_apart)

    async def keep_apart(self, peer_id: str, other_peer_id: str = "", other_address: str = "") -> None:
        pair = frozenset((self._who(peer_id), other_address or self._who(other_peer_id)))
        if len(pair) < 2:
            pair = frozenset((f"peer:{peer_id}", f"peer:{other_peer_id}"))
        self.store.blocks[pair] = time.time() + self.report_block

    async def leave_queue(self, peer_id: str) -> None:
        me = self.store.peers.get(peer_id)
        if me is not None and me.state == "waiting":
            self._dequeue(peer_id)
            me.state = "idle"

    async def snapshot(self) -> Snapshot:
        return Snapshot(len(self.store.peers), len(self.store.queue), len(self.store.matches))

    async def heartbeat(self) -> list[EndedMatch]:
        now = time.time()
        for kept in (self.store.cooldowns, self.store.blocks):
            for pair, until in list(kept.items()):
                if until <= now:
                    del kept[pair]
        return []

    async def shutdown(self) -> None:
        return None

    # Internals, each runs without awaiting.

    def _forget(self, peer_id: str) -> EndedMatch | None:
        ended = self._end(peer_id, None, ENDED_BY_DISCONNECT)
        self._dequeue(peer_id)
        self.store.peers.pop(peer_id, None)
        return ended

    def _busy(self, me: _Peer) -> Busy:
        partner = self.store.peers.get(me.partner)
        record = self.store.matches.get(me.match_id)
        if partner is None or record is None:
            return Busy()
        shared = tuple(i for i in me.interests if i in partner.interests)
        spoken = tuple(lang for lang in me.languages if lang in partner.languages)
        polite = record.polite_id == me.peer_id
        return Busy(me.match_id, partner.channel, me.ticket, polite, shared, spoken, partner.peer_id)

    def _is_open(self, peer: _Peer, now: float) -> bool:
        holding_out = peer.interests or peer.languages
        return not holding_out or now - peer.queued_at >= self.interest_wait

    def _who(self, peer_id: str) -> str:
        """Who a peer is for the cooldown and report rules: its address, when known."""
        peer = self.store.peers.get(peer_id)
        return peer.address if peer is not None and peer.address else f"peer:{peer_id}"

    def _pair(self, a: str, b: str) -> frozenset[str]:
        pair = frozenset((self._who(a), self._who(b)))
        # Two people behind one address (a shared NAT) can only be told apart by connection.
        return pair if len(pair) == 2 else frozenset((f"peer:{a}", f"peer:{b}"))

    def _cooled(self, a: str, b: str, now: float) -> bool:
        return self.store.cooldowns.get(self._pair(a, b), 0.0) > now

    def _blocked(self, a: str, b: str, now: float) -> bool:
        return self.store.blocks.get(self._pair(a, b), 0.0) > now

    def _oldest_sharing(
        self, me: _Peer, index: dict[str, dict[str, None]], keys: tuple[str, ...], now: float
    ) -> _Peer | None:
        best: _Peer | None = None
        for key in keys:
            for other_id in index.get(key, {}):
                if self._blocked(me.peer_id, other_id, now):
                    continue
                if not self._cooled(me.peer_id, other_id, now):
                    other = self.store.peers[other_id]
                    if best is None or other.queued_at < best.queued_at:
                        best = other
                    break
        return best

    def _pick(self, me: _Peer, now: float) -> _Peer | None:
        peers, queue = self.store.peers, self.store.queue
        # 1. Oldest waiting peer sharing a language, else the oldest sharing an interest.
        best = self._oldest_sharing(me, self.store.by_language, me.languages, now) or self._oldest_sharing(
            me, self.store.by_interest, me.interests, now
        )
        if best is not None:
            return best
        # 2. Anyone, once neither side is holding out for a shared interest.
        cooled: list[_Peer] = []
        if self._is_open(me, now):
            for other_id in queue:
                other = peers[other_id]
                if self._blocked(me.peer_id, other_id, now):
                    continue
                if self._cooled(me.peer_id, other_id, now):
                    cooled.append(other)
                elif self._is_open(other, now):
                    return other
        # 3. A partner from a just-ended match, only when nobody else waits and both waited out the window.
        if cooled and len(cooled) == len(queue) and now - me.queued_at >= self.interest_wait:
            return next((o for o in cooled if now - o.queued_at >= self.interest_wait), None)
        return None

    def _enqueue(self, me: _Peer) -> None:
        me.state = "waiting"
        self.store.queue[me.peer_id] = None
        for interest in me.interests:
            self.store.by_interest.setdefault(interest, {})[me.peer_id] = None
        for language in me.languages:
            self.store.by_language.setdefault(language, {})[me.peer_id] = None

    def _dequeue(self, peer_id: str) -> None:
        if peer_id not in self.store.queue:
            return
        del self.store.queue[peer_id]
        peer = self.store.peers.get(peer_id)
        if peer is None:
            return
        for index, keys in ((self.store.by_interest, peer.interests), (self.store.by_language, peer.languages)):
            for key in keys:
                waiting = index.get(key)
                if waiting is not None:
                    waiting.pop(peer_id, None)
                    if not waiting:
                        del index[key]

    def _end(self, peer_id: str, match_id: str | None, reason: str, keep_apart: bool = False) -> EndedMatch | None:
        me = self.store.peers.get(peer_id)
        if me is None or me.state != "matched" or (match_id is not None and match_id != me.match_id):
            return None
        ended_id, other = me.match_id, self.store.peers.get(me.partner)
        me.state, me.match_id, me.partner = "idle", "", ""
        other_channel = ""
        if other is not None and other.match_id == ended_id:
            other.state, other.match_id, other.partner = "idle", "", ""
            other_channel = other.channel
        record = self.store.matches.pop(ended_id)
        now = time.time()
        if reason == ENDED_BY_NEXT and other is not None:
            self.store.cooldowns[self._pair(peer_id, other.peer_id)] = now + self.rematch_cooldown
        if keep_apart and other is not None:
            self.store.blocks[self._pair(peer_id, other.peer_id)] = now + self.report_block
        return EndedMatch(
            match_id=ended_id,
            other_id=other.peer_id if other else "",
            other_channel=other_channel,
            reason=reason,
            started_at=record.started_at,
            ended_at=now,
            waits=record.waits,
            interest_matched=record.shared,
            language_matched=record.shared_language,
        )
