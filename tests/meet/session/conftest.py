"""A call session with no socket, no channel layer and no clock of its own.

Each visitor's session gets fakes of what the consumer would give it: a notifier whose messages wait
on a switchboard until the test delivers them, an outbox that keeps the frames, timers that only
note what the session wants done later, and a moderation that files in memory. The matchmaker is the
real in-memory one (or a wrapper that can fail or hold a step). So a race is made by choosing the order
in which the steps and the messages on the wire happen, never by timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from matchmaking import EndedMatch, MatchmakerUnavailable
from matchmaking.memory import MemoryMatchmaker, MemoryStore
from meet import protocol
from meet.gate import admission
from meet.session import messages
from meet.session.call_session import CallSession
from meet.session.ports import NotifierUnavailable, RecipientFull
from moderation import service

HANDLERS: dict[type, str] = {
    messages.Matched: "on_matched",
    messages.PartnerLeft: "on_partner_left",
    messages.SignalDropped: "on_signal_dropped",
    messages.Reported: "on_reported",
    messages.PartnerMoved: "on_partner_moved",
    messages.Superseded: "on_superseded",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Switchboard:
    """The channel layer between the test's visitors: messages wait here until delivered."""

    def __init__(self) -> None:
        self.inbox: dict[str, list[messages.Outgoing]] = defaultdict(list)
        self.down = False  # the channel layer is unreachable
        self.lose: Callable[[str, messages.Outgoing], bool] = lambda channel, message: False
        self.ended: list[EndedMatch] = []

    async def send(self, channel: str, message: messages.Outgoing) -> None:
        if self.down:
            raise NotifierUnavailable("down")
        if len(self.inbox[channel]) >= 100:
            raise RecipientFull(channel)
        if not self.lose(channel, message):
            self.inbox[channel].append(message)

    async def announce_end(self, ended: EndedMatch) -> None:
        # As meet.wiring.announce_end: the partner's notice may be lost, the ending still counts.
        if ended.other_channel:
            with contextlib.suppress(NotifierUnavailable, RecipientFull):
                await self.send(ended.other_channel, messages.PartnerLeft(ended.match_id, ended.reason))
        self.ended.append(ended)


class Notifier:
    def __init__(self, board: Switchboard, channel: str) -> None:
        self.board = board
        self.channel = channel

    async def send(self, channel: str, message: messages.Outgoing) -> None:
        await self.board.send(channel, message)

    async def announce_end(self, ended: EndedMatch) -> None:
        await self.board.announce_end(ended)


class Outbox:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        if self.closed is None:
            self.frames.append(frame)

    async def send_text(self, text: str) -> None:
        # Kept decoded, as the browser would read it, so tests compare frames either way.
        if self.closed is None:
            self.frames.append(json.loads(text))

    def translate(self, message: Any, **params: Any) -> str:
        text = str(message)
        return text % params if params else text

    async def close(self, code: int) -> None:
        self.closed = code


class Timers:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.retrying = False
        self.releases: list[tuple[str, str, float]] = []

    def now(self) -> float:
        return self.clock.now

    def keep_retrying(self) -> None:
        self.retrying = True

    def stop_retrying(self) -> None:
        self.retrying = False

    def release_later(self, peer_id: str, channel: str, delay: float) -> None:
        self.releases.append((peer_id, channel, delay))


class Counts:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, int | None]] = []
        self.picture_recoveries = 0

    def add(self, outcome: str, connect_ms: int | None) -> None:
        self.outcomes.append((outcome, connect_ms))

    def add_picture_recovery(self) -> None:
        self.picture_recoveries += 1


class Moderation:
    """Report forwarding and filing in memory. While a reporter waits for the answer, ``meanwhile``
    runs (the test delivers the stranger's messages there); no answer then means the wait ran out."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.handed_over: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
        self.left_behind: dict[str, str] = {}  # channel -> the address hash its connection left behind
        self.answers: dict[str, str] = {}
        self.filed: list[tuple[str, str]] = []  # (address hash, reason)
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def prepare_report(self, ip_hash: str, fallback_key: str, reason: str, evidence: Any) -> dict[str, Any]:
        return {"reason": reason, "reporter_key": ip_hash or fallback_key, "snapshot": None, "chat": []}

    async def hand_over_report(
        self, match_id: str, channel: str, report_id: str, filing: dict[str, Any], seconds: float
    ) -> str:
        if channel in self.left_behind:
            return self.left_behind[channel]
        self.handed_over[channel].append((report_id, match_id, filing))
        return ""

    async def take_reports(self, channel: str, match_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
        mine = self.handed_over[channel]
        taken = [(report_id, filing) for report_id, match_id, filing in mine if match_id in match_ids]
        self.handed_over[channel] = [entry for entry in mine if entry[1] not in match_ids]
        return taken

    async def leave_hash_behind(
        self, ip_hash: str, channel: str, match_ids: list[str], seconds: float
    ) -> list[tuple[str, dict[str, Any]]]:
        self.left_behind[channel] = ip_hash
        return await self.take_reports(channel, match_ids)

    async def answer_report(self, report_id: str, filed: bool) -> None:
        self.answers[report_id] = service.FILED if filed else service.FAILED

    async def await_report_answer(self, report_id: str, channel: str, seconds: float) -> str:
        if report_id not in self.answers and self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        if report_id in self.answers:
            return self.answers.pop(report_id)
        self.clock.advance(seconds)
        return service.NOTHING

    async def withdraw_report(self, match_id: str, channel: str, report_id: str) -> bool:
        entries = self.handed_over[channel]
        for entry in entries:
            if entry[0] == report_id:
                entries.remove(entry)
                return True
        return False

    async def file_reported(self, ip_hash: str, payload: dict[str, Any]) -> None:
        self.filed.append((ip_hash, payload["reason"]))


class Matchmaker(MemoryMatchmaker):
    """The in-memory matchmaker, which can be made unreachable, or made to hold a join until let go."""

    def __init__(self, rematch_cooldown: float = 0) -> None:
        super().__init__(interest_wait=0.4, rematch_cooldown=rematch_cooldown, store=MemoryStore())
        self.down = False
        self.held: asyncio.Event | None = None  # a join waits for it once it is set here
        self.holding = asyncio.Event()  # a join is being held

    def _check(self) -> None:
        if self.down:
            raise MatchmakerUnavailable("down")

    async def register(self, *args: Any, **kwargs: Any) -> None:
        self._check()
        await super().register(*args, **kwargs)

    async def join(self, *args: Any, **kwargs: Any) -> Any:
        if self.held is not None:
            self.holding.set()
            await self.held.wait()
        self._check()
        return await super().join(*args, **kwargs)

    async def next(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        return await super().next(*args, **kwargs)

    async def end(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        return await super().end(*args, **kwargs)

    async def unregister(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        return await super().unregister(*args, **kwargs)

    def peers(self) -> set[str]:
        return set(self.store.peers)


_numbers = itertools.count(1)


class Visitor:
    """One browser's session, and what it has been sent."""

    def __init__(self, world: World, name: str, address: str) -> None:
        self.world = world
        self.name = name
        self.channel = f"{name}.{next(_numbers)}"
        self.outbox = Outbox()
        self.timers = Timers(world.clock)
        self.counts = Counts()
        self.session = CallSession(
            secrets.token_urlsafe(16),
            address,
            world.matchmaker,
            Notifier(world.board, self.channel),
            self.outbox,
            self.timers,
            self.counts,
            world.moderation,
        )

    async def open(self) -> None:
        await self.session.open()
        self.session.admittance.admitted = True  # the proof of work is admission's to test

    async def send(self, command: protocol.Command) -> None:
        await self.session.handle(command)

    async def join(self, resume: bool = False) -> None:
        await self.send(protocol.Join(rules=admission.rules_version(), resume=resume))

    async def next(self) -> None:
        await self.send(protocol.Next(rules=admission.rules_version()))

    async def deliver(self) -> None:
        """Hand the session every message waiting for it, in order."""
        inbox = self.world.board.inbox[self.channel]
        while inbox:
            message = inbox.pop(0)
            if isinstance(message, dict):  # a relayed signal, as the consumer's meet_signal hands it on
                await self.session.on_signal(message["match_id"], messages.signal_frame(message), backlog=0)
            else:
                await getattr(self.session, HANDLERS[type(message)])(message)

    def waiting_for_me(self) -> list[messages.Outgoing]:
        return list(self.world.board.inbox[self.channel])

    def take(self) -> list[dict[str, Any]]:
        """The frames sent since the last take."""
        frames, self.outbox.frames = self.outbox.frames, []
        return frames

    def types(self) -> list[str]:
        frames = self.take()
        return [frame["type"] if frame["type"] != "error" else f"error:{frame['code']}" for frame in frames]


class World:
    def __init__(self, rematch_cooldown: float = 0) -> None:
        self.clock = Clock()
        self.board = Switchboard()
        self.matchmaker = Matchmaker(rematch_cooldown)
        self.moderation = Moderation(self.clock)

    async def visitor(self, name: str, address: str = "") -> Visitor:
        visitor = Visitor(self, name, address or f"hash-of-{name}")
        await visitor.open()
        visitor.take()  # hello
        return visitor

    async def pair(self, first: Visitor, second: Visitor, resume: bool = False) -> str:
        """``first`` waits, ``second`` joins and is matched with it; both see ``matched``."""
        await first.join(resume)
        assert first.types() == ["waiting"]
        await second.join(resume)
        match_id = second.take()[-1]["match_id"]
        await first.deliver()
        assert first.take()[-1]["match_id"] == match_id
        return match_id

    async def release_held(self, visitor: Visitor) -> None:
        """The resume grace of a visitor's broken socket runs out (what the process runtime does then)."""
        for peer_id, channel, _delay in visitor.timers.releases:
            ended = await self.matchmaker.unregister(peer_id, channel)
            if ended:
                await self.board.announce_end(ended)
        visitor.timers.releases.clear()


def relayed(match_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A signal as it travels to the partner's connection: its frame encoded once by the sender."""
    return messages.signal(match_id, protocol.dumps(protocol.signal(match_id, data)))


@pytest.fixture
def world() -> World:
    return World()
