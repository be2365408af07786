"""The channel-layer messages between connections (and from this process's runtime), defined once.

``meet/protocol.py`` defines what the browser and the server say to each other; this module defines
what the server's connections say to one another. Each message is a small frozen class: its ``type``
(the handler it reaches on the receiving consumer: ``meet.partner_left`` -> ``meet_partner_left``), its
fields, ``encode()`` for the channel layer and ``decode()`` for the receiving side. A message from an
older process may lack a field added since; ``decode`` gives that field its default.

A relayed signal is the one exception: it is the relay's hot path, so it travels as a plain dict
(``signal``) holding its partner's ``signal`` frame already encoded, with no class of its own.

``moderation.banned`` is moderation's own (``moderation.bans`` sends it to an address's group, and
moderation never imports ``meet``): it is read here, as ``Banned``, and defined there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from meet import protocol
from moderation.service import BANNED_MESSAGE


@dataclass(frozen=True)
class Matched:
    """To the waiting side: the joining side paired you; ``ticket`` names the queue entry it matched."""

    type: ClassVar[str] = "meet.matched"
    match_id: str
    ticket: str
    partner_channel: str
    partner_id: str = ""  # absent from a process that predates reports of ended calls
    interests: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # absent from a process that predates languages

    def encode(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "match_id": self.match_id,
            "ticket": self.ticket,
            "partner_channel": self.partner_channel,
            "partner_id": self.partner_id,
            "interests": list(self.interests),
            "languages": list(self.languages),
        }

    @classmethod
    def decode(cls, message: dict[str, Any]) -> Matched:
        return cls(
            message["match_id"],
            message["ticket"],
            message["partner_channel"],
            message.get("partner_id", ""),
            tuple(message["interests"]),
            tuple(message.get("languages", ())),
        )


SIGNAL = "meet.signal"


def signal(match_id: str, frame: str) -> dict[str, Any]:
    """A browser's signaling data for its partner: ``frame`` is the partner's ``signal`` frame
    (``protocol.signal``), encoded once by the sender, so nothing on the way decodes or encodes
    the data again; the receiving side checks ``match_id`` and sends ``frame`` as it is."""
    return {"type": SIGNAL, "match_id": match_id, "frame": frame}


def signal_frame(message: dict[str, Any]) -> str:
    """The frame of a relayed signal; one from a process that predates ``frame`` has ``data``."""
    frame: str | None = message.get("frame")
    return frame if frame is not None else protocol.dumps(protocol.signal(message["match_id"], message["data"]))


@dataclass(frozen=True)
class SignalDropped:
    """To the sender of signals: its partner's browser is not reading, so one was dropped."""

    type: ClassVar[str] = "meet.signal_dropped"
    match_id: str

    def encode(self) -> dict[str, Any]:
        return {"type": self.type, "match_id": self.match_id}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> SignalDropped:
        return cls(message["match_id"])


@dataclass(frozen=True)
class PartnerLeft:
    """The match ended (a matchmaking reason: next, leave, disconnect); sent by whoever ended it."""

    type: ClassVar[str] = "meet.partner_left"
    match_id: str
    reason: str

    def encode(self) -> dict[str, Any]:
        return {"type": self.type, "match_id": self.match_id, "reason": self.reason}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> PartnerLeft:
        return cls(message["match_id"], message["reason"])


@dataclass(frozen=True)
class Reported:
    """To the reported side's connection: a report of this match was handed over; take it and file it.

    ``filing`` only comes from a process that predates hand-overs, when the report travelled in the notice."""

    type: ClassVar[str] = "meet.reported"
    match_id: str
    filing: dict[str, Any] | None = None

    def encode(self) -> dict[str, Any]:
        message: dict[str, Any] = {"type": self.type, "match_id": self.match_id}
        if self.filing is not None:
            message["filing"] = self.filing
        return message

    @classmethod
    def decode(cls, message: dict[str, Any]) -> Reported:
        return cls(message["match_id"], message.get("filing"))


@dataclass(frozen=True)
class PartnerMoved:
    """The partner resumed the match on a new connection: relay to ``channel`` from now on."""

    type: ClassVar[str] = "meet.partner_moved"
    match_id: str
    channel: str

    def encode(self) -> dict[str, Any]:
        return {"type": self.type, "match_id": self.match_id, "channel": self.channel}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> PartnerMoved:
        return cls(message["match_id"], message["channel"])


@dataclass(frozen=True)
class Superseded:
    """To a browser's older connection: a newer one took its match over; go quietly."""

    type: ClassVar[str] = "meet.superseded"
    peer_id: str

    def encode(self) -> dict[str, Any]:
        return {"type": self.type, "peer_id": self.peer_id}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> Superseded:
        return cls(message["peer_id"])


@dataclass(frozen=True)
class Online:
    """From the runtime, to every connection of its process: how many people are online."""

    type: ClassVar[str] = "meet.online"
    count: int

    def encode(self) -> dict[str, Any]:
        return {"type": self.type, "count": self.count}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> Online:
        return cls(message["count"])


@dataclass(frozen=True)
class Shutdown:
    """From the runtime, to every connection of its process: the process is stopping."""

    type: ClassVar[str] = "meet.shutdown"

    def encode(self) -> dict[str, Any]:
        return {"type": self.type}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> Shutdown:
        return cls()


@dataclass(frozen=True)
class Banned:
    """From moderation, to every connection of an address: it was banned until ``until`` (ISO 8601)."""

    type: ClassVar[str] = BANNED_MESSAGE
    until: str

    def encode(self) -> dict[str, Any]:
        return {"type": self.type, "until": self.until}

    @classmethod
    def decode(cls, message: dict[str, Any]) -> Banned:
        return cls(message["until"])


Message = Matched | SignalDropped | PartnerLeft | Reported | PartnerMoved | Superseded | Online | Shutdown | Banned
# What a connection sends another: a message, or a relayed signal as it travels (``signal``).
Outgoing = Message | dict[str, Any]
