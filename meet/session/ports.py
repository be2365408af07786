"""What a call session talks to besides the matchmaker, as small interfaces.

The consumer gives the session a notifier (the channel layer), an outbox (this browser's socket) and
timers (the event loop); the unit tests give it fakes. Nothing here knows of Channels.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.utils.functional import Promise

from matchmaking import EndedMatch
from meet.session.messages import Outgoing


class NotifierUnavailable(Exception):
    """The channel layer cannot be reached: nothing was sent."""


class RecipientFull(Exception):
    """The recipient's channel holds too many messages already (its connection is not keeping up)."""


class Notifier(Protocol):
    """The channel layer, as one connection uses it."""

    channel: str  # this connection's own channel name

    async def send(self, channel: str, message: Outgoing) -> None:
        """Deliver to another connection (a message, or a relayed signal as ``messages.signal`` made it);
        NotifierUnavailable or RecipientFull when it cannot."""

    async def announce_end(self, ended: EndedMatch) -> None:
        """A match ended: tell the partner (``PartnerLeft``) and note the anonymous event. Never raises
        for an unreachable partner: the shared state already has it idle."""


class Outbox(Protocol):
    """This browser's socket."""

    async def send(self, frame: dict[str, Any]) -> None:
        """A server message (``meet.protocol``); nothing happens once the socket is gone."""

    async def send_text(self, text: str) -> None:
        """A server message already encoded (``protocol.dumps``): a relayed signal, sent as it came."""

    def translate(self, message: str | Promise, **params: Any) -> str:
        """A lazily translated message as text in the visitor's language, its %(name)s filled from params."""

    async def close(self, code: int) -> None:
        """Close the socket from the server's side."""


class Timers(Protocol):
    """The event loop's time, and what the session wants done later."""

    def now(self) -> float:
        """A monotonic clock, in seconds."""

    def keep_retrying(self) -> None:
        """Call ``CallSession.retry`` now and then until it returns True (a no-op when already doing so)."""

    def stop_retrying(self) -> None:
        """No more retries (a no-op when not retrying)."""

    def release_later(self, peer_id: str, channel: str, delay: float) -> None:
        """After ``delay``, unregister the peer unless a newer connection took its match over meanwhile."""


class ConnectionCounts(Protocol):
    """The anonymous counts of how calls connected (``callstats``)."""

    def add(self, outcome: str, connect_ms: int | None) -> None: ...

    def add_picture_recovery(self) -> None: ...


class Moderation(Protocol):
    """The part of ``moderation.service`` a call session uses (the unit tests give it a fake)."""

    async def prepare_report(self, ip_hash: str, fallback_key: str, reason: str, evidence: Any) -> dict[str, Any]: ...

    async def hand_over_report(
        self, match_id: str, channel: str, report_id: str, filing: dict[str, Any], seconds: float
    ) -> str: ...

    async def await_report_answer(self, report_id: str, channel: str, seconds: float) -> str: ...

    async def withdraw_report(self, match_id: str, channel: str, report_id: str) -> bool: ...

    async def take_reports(self, channel: str, match_ids: list[str]) -> list[tuple[str, dict[str, Any]]]: ...

    async def answer_report(self, report_id: str, filed: bool) -> None: ...

    async def file_reported(self, ip_hash: str, payload: dict[str, Any]) -> None: ...

    async def leave_hash_behind(
        self, ip_hash: str, channel: str, match_ids: list[str], seconds: float
    ) -> list[tuple[str, dict[str, Any]]]: ...
