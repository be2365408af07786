"""The matchmaking interface that both backends implement and the contract tests check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# How a match ended, as the matchmaker records it; the browser sees these as partner_left reasons.
ENDED_BY_NEXT = "next"
ENDED_BY_LEAVE = "leave"
ENDED_BY_DISCONNECT = "disconnect"

# How long two people are kept apart after one reported the other, in seconds (30 days).
DEFAULT_REPORT_BLOCK = 30 * 24 * 3600


class MatchmakerUnavailable(Exception):
    """The shared matchmaking state (Redis) cannot be reached."""


@dataclass(frozen=True)
class Matched:
    """The caller was paired. The caller is the impolite side; the partner is polite."""

    match_id: str
    partner_id: str
    partner_channel: str
    partner_ticket: str
    shared_interests: tuple[str, ...]
    wait: float
    shared_languages: tuple[str, ...] = ()  # primary language subtags, in the caller's order


@dataclass(frozen=True)
class Queued:
    """No partner yet: the caller waits in the queue."""


@dataclass(frozen=True)
class Busy:
    """The caller was matched by someone else meanwhile; a ``matched`` notice is on its way.

    The fields name that match, so the caller can take it by itself should the notice be lost
    (published while its channel was not subscribed, during a Redis outage). ``ticket`` is the
    caller's queue entry that was matched.
    """

    match_id: str = ""
    partner_channel: str = ""
    ticket: str = ""
    polite: bool = True
    shared_interests: tuple[str, ...] = ()
    shared_languages: tuple[str, ...] = ()
    partner_id: str = ""  # so a report of an adopted match keeps the two apart as any other does


@dataclass(frozen=True)
class Gone:
    """The caller is not registered (its lease ran out): register again, then join."""


@dataclass(frozen=True)
class EndedMatch:
    """A match that just ended, told from the side that ended it.

    ``other_channel`` is where the partner_left notice goes ("" when the other
    side is gone too). The timing fields feed the anonymous match event.
    """

    match_id: str
    other_id: str
    other_channel: str
    reason: str
    started_at: float
    ended_at: float
    waits: tuple[float, float]
    interest_matched: bool
    language_matched: bool = False

    @property
    def duration(self) -> float:
        return max(0.0, self.ended_at - self.started_at)


@dataclass(frozen=True)
class Moved:
    """A match a new connection took over (``take_over``), told from the side that moved."""

    match_id: str
    old_channel: str  # the connection that held it until now (it may still be open)
    partner_channel: str
    polite: bool
    shared_interests: tuple[str, ...]
    shared_languages: tuple[str, ...]
    interests: tuple[str, ...]  # the moved side's own, for its next turn in the queue
    languages: tuple[str, ...]
    partner_id: str = ""  # so a report of the resumed match keeps the two apart as any other does


@dataclass(frozen=True)
class Snapshot:
    online: int
    waiting: int
    in_calls: int


JoinResult = Matched | Queued | Busy | Gone


class Matchmaker(Protocol):
    async def register(self, peer_id: str, channel_name: str, address: str = "") -> None:
        """Make a connected peer known (idle, not queued) under this process's lease.

        ``address`` is the keyed hash of the connection's address ("" when unknown): the Next
        cooldown and the report rule hold between addresses, so reconnecting resets neither.
        """

    async def unregister(self, peer_id: str, channel: str = "") -> EndedMatch | None:
        """Forget a peer that disconnected; end its match (reason ``disconnect``) if it had one.

        With ``channel``, only while that channel still holds the peer: a connection whose match a
        newer one took over (``take_over``) must not end it on its way out.
        """

    async def take_over(
        self, peer_id: str, match_id: str, channel: str, replaced_id: str, verify: Callable[[str], bool]
    ) -> Moved | None:
        """Move a matched peer to a new connection (``channel``, this process), keeping its match.

        Only if the peer is in that match and ``verify`` accepts the channel holding it now (the
        resume token was minted for it); otherwise None and nothing changes. ``replaced_id`` is the
        new connection's own idle peer, forgotten in the same step.
        """

    async def join(
        self, peer_id: str, ticket: str, interests: tuple[str, ...], languages: tuple[str, ...] = ()
    ) -> JoinResult:
        """Pair the peer with a compatible waiting peer, or queue it.

        ``languages`` are primary language subtags ("es", "pt"). The partner is the oldest
        waiting peer sharing a language, else the oldest sharing an interest; a peer who gave
        interests or languages holds out for such a partner for the interest wait, then takes
        anyone, so nobody waits longer for a language than for an interest.

        Calling it again while queued re-tries the match, keeping the original
        queue time (that is how the interest wait runs out). ``ticket`` tells
        the partner which queue entry was matched, so a stale notice is ignored.
        """

    async def next(
        self,
        peer_id: str,
        match_id: str,
        reason: str,
        ticket: str,
        interests: tuple[str, ...],
        languages: tuple[str, ...] = (),
    ) -> tuple[EndedMatch | None, JoinResult]:
        """``end(peer_id, match_id, reason)`` then ``join(peer_id, ticket, interests, languages)``, as one
        atomic step: what a visitor's Next does, in one round trip to the shared state."""

    async def end(self, peer_id: str, match_id: str | None, reason: str, keep_apart: bool = False) -> EndedMatch | None:
        """End the peer's current match (only if it is ``match_id``, when given).

        ``keep_apart`` (a report): the two are never paired again, whatever the cooldown says,
        for the report block period.
        """

    async def keep_apart(self, peer_id: str, other_peer_id: str = "", other_address: str = "") -> None:
        """A report of a match that has already ended: the two are never paired again for the report
        block period, as ``end(..., keep_apart=True)`` does for the current one. The other is named by
        its peer id, or by its address hash when its connection is gone."""

    async def leave_queue(self, peer_id: str) -> None:
        """Take a waiting peer out of the queue; a matched peer is untouched."""

    async def snapshot(self) -> Snapshot:
        """People online, waiting and in calls, across every process."""

    async def heartbeat(self) -> list[EndedMatch]:
        """Renew this process's lease and reap peers of processes whose lease ran out.

        Returns the matches ended by reaping, so their live partners can be told.
        """

    async def shutdown(self) -> None:
        """Give this process's lease up (the process is stopping)."""
