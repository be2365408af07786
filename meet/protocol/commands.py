"""The commands a browser sends, as parsed from its frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moderation.evidence import SentEvidence, SentLine


@dataclass(frozen=True)
class Join:
    interests: tuple[str, ...] = ()
    rules: str | None = None
    pow: dict[str, Any] | None = None
    languages: tuple[str, ...] = ()  # normalised BCP 47 tags, see normalize_languages
    resume: bool = False  # the client can resume its matches on a new connection


@dataclass(frozen=True)
class Signal:
    match_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Next:
    # Only read when ``next`` is a connection's first step into the queue.
    rules: str | None = None
    pow: dict[str, Any] | None = None
    resume: bool = False


@dataclass(frozen=True)
class Leave:
    pass


# Evidence is moderation's noun: the protocol parses frames into its types.
ChatLine = SentLine
Evidence = SentEvidence


@dataclass(frozen=True)
class Report:
    match_id: str
    reason: str
    evidence: Evidence | None = None


@dataclass(frozen=True)
class ConnectionReport:
    match_id: str
    outcome: str
    connect_ms: int | None


@dataclass(frozen=True)
class PictureRecovered:
    match_id: str


@dataclass(frozen=True)
class RefreshIceServers:
    pass


@dataclass(frozen=True)
class Resume:
    match_id: str
    token: str


Command = Join | Signal | Next | Leave | Report | ConnectionReport | PictureRecovered | Resume | RefreshIceServers
