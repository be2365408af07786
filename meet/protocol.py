"""Protocol version 1 of ``/ws/meet/``: message names, fields and limits, defined once.

The consumer, the tests and ``docs/protocol.md`` all follow this module.
Client frames are parsed into small command objects; anything else raises
ProtocolError carrying the ``error`` code the client receives.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from callstats.outcomes import MAX_CONNECT_MS, OUTCOME_FIELDS
from matchmaking.base import ENDED_BY_DISCONNECT, ENDED_BY_LEAVE, ENDED_BY_NEXT
from moderation.evidence import MAX_SNAPSHOT_BYTES, SentEvidence, SentLine

PROTOCOL_VERSION = 1

MAX_INTERESTS = 5
MAX_INTEREST_LENGTH = 24
# Languages the visitor speaks (BCP 47 tags, e.g. "es", "pt-BR"): matching prefers a shared one,
# compared on the primary language subtag ("pt-br" and "pt-pt" share "pt").
MAX_LANGUAGES = 3
MAX_LANGUAGE_TAG_LENGTH = 35
# A well-formed BCP 47 tag (lower-cased): a 2-3 letter language with up to three extended
# subtags, then an optional script, region, variants, extensions and private use. Registered
# 4-8 letter languages and the grandfathered tags are not accepted: no browser sends them.
_LANGUAGE_TAG = re.compile(
    r"[a-z]{2,3}(?:-[a-z]{3}){0,3}"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"
)
MAX_SIGNAL_BYTES = 64 * 1024
# The envelope around ``data`` ({"type":"signal","match_id":"…","data":…}) needs a little room.
MAX_FRAME_BYTES = MAX_SIGNAL_BYTES + 512
MAX_MATCH_ID_LENGTH = 64
# Bytes the server may hold for one socket that is not reading; relayed signals beyond are
# dropped and their sender told ``unavailable``.
MAX_QUEUED_BYTES = 256 * 1024
MAX_RULES_VERSION_LENGTH = 32
# Arrays and objects nest at most this deep, the frame's own object counting as the first level.
# SDP and ICE candidates need 3; the limit keeps every encoder on the way (JSON, msgpack) far
# from its own recursion limit.
MAX_DEPTH = 16
# Integers beyond what a JavaScript number holds exactly are refused, so every encoder on the
# way (msgpack takes 64 bits at most) and the partner's browser read the same value.
MAX_SAFE_INTEGER = 2**53 - 1
MAX_INTEGER_DIGITS = 16

# A lone UTF-16 surrogate ("\ud800" escaped in JSON) is no character: UTF-8 cannot carry it.
_SURROGATE = re.compile("[\ud800-\udfff]")

REPORT_REASONS = ("nudity", "harassment", "spam", "underage", "other")
# A report may carry evidence (``evidence``): one JPEG still frame (limits owned by moderation) and the last chat lines.
MAX_REPORT_CHAT_LINES = 20
MAX_REPORT_CHAT_LENGTH = 1000
CHAT_SIDES = ("me", "stranger")
# Only a report may be larger than MAX_FRAME_BYTES: the base64 snapshot plus 20 escaped chat lines.
MAX_REPORT_FRAME_BYTES = 320 * 1024
FRAME_LIMITS = {"report": MAX_REPORT_FRAME_BYTES}

# How a browser's side of a call connected (connection_report): the statistics own the outcomes and the longest time.
CONNECTION_OUTCOMES = OUTCOME_FIELDS

# Reasons a partner_left carries: the matchmaker records them with each ended match.
LEFT_NEXT = ENDED_BY_NEXT
LEFT_LEAVE = ENDED_BY_LEAVE
LEFT_DISCONNECT = ENDED_BY_DISCONNECT

# Error codes.
BAD_JSON = "bad_json"
BAD_MESSAGE = "bad_message"
TOO_LARGE = "too_large"
NOT_MATCHED = "not_matched"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
BANNED = "banned"
TOO_MANY_CONNECTIONS = "too_many_connections"
# Admission to the queue (meet/gate/admission.py): the rules and the proof of work.
RULES_REQUIRED = "rules_required"
POW_REQUIRED = "pow_required"
POW_INVALID = "pow_invalid"
POW_EXPIRED = "pow_expired"
RESUME_FAILED = "resume_failed"

# WebSocket close codes (4000-4999 are the application's own).
CLOSE_BANNED = 4003
CLOSE_FLOODING = 4008
CLOSE_TOO_MANY_CONNECTIONS = 4029
CLOSE_SHUTDOWN = 4012
CLOSE_SUPERSEDED = 4010
# A resume token: "<peer_id>.<mac>", both URL-safe base64 (see meet/resume.py).
MAX_RESUME_TOKEN_LENGTH = 200


class ProtocolError(Exception):
    # The message is translated lazily: the consumer turns it into text in the visitor's language.
    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


def normalize_interests(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ProtocolError(BAD_MESSAGE, _("interests must be a list of strings"))
    if len(value) > MAX_INTERESTS:
        raise ProtocolError(BAD_MESSAGE, format_lazy(_("at most {max} interests"), max=MAX_INTERESTS))
    interests: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ProtocolError(BAD_MESSAGE, _("interests must be a list of strings"))
        word = item.strip().lower()
        if not 1 <= len(word) <= MAX_INTEREST_LENGTH:
            raise ProtocolError(
                BAD_MESSAGE, format_lazy(_("each interest must be 1 to {max} characters"), max=MAX_INTEREST_LENGTH)
            )
        if "," in word:
            raise ProtocolError(BAD_MESSAGE, _("an interest cannot contain a comma"))
        if word not in interests:
            interests.append(word)
    return tuple(interests)


def normalize_languages(value: Any) -> tuple[str, ...]:
    """Up to MAX_LANGUAGES well-formed BCP 47 tags, lower-cased, duplicates dropped, order kept."""
    if not isinstance(value, list):
        raise ProtocolError(BAD_MESSAGE, _("languages must be a list of language tags"))
    if len(value) > MAX_LANGUAGES:
        raise ProtocolError(BAD_MESSAGE, format_lazy(_("at most {max} languages"), max=MAX_LANGUAGES))
    languages: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ProtocolError(BAD_MESSAGE, _("languages must be a list of language tags"))
        tag = item.strip().lower()
        if len(tag) > MAX_LANGUAGE_TAG_LENGTH or not _LANGUAGE_TAG.fullmatch(tag):
            raise ProtocolError(BAD_MESSAGE, _('each language must be a BCP 47 tag such as "es" or "pt-BR"'))
        if tag not in languages:
            languages.append(tag)
    return tuple(languages)


def primary_languages(tags: tuple[str, ...]) -> tuple[str, ...]:
    """The primary language subtags of normalised tags, once each: what matching compares."""
    primaries: list[str] = []
    for tag in tags:
        primary = tag.split("-", 1)[0]
        if primary not in primaries:
            primaries.append(primary)
    return tuple(primaries)


def _match_id(message: dict[str, Any]) -> str:
    match_id = message.get("match_id")
    if not isinstance(match_id, str) or not 0 < len(match_id) <= MAX_MATCH_ID_LENGTH:
        raise ProtocolError(BAD_MESSAGE, _("match_id must be a string"))
    return match_id


def _resume_wanted(message: dict[str, Any]) -> bool:
    wanted = message.get("resume", False)
    if not isinstance(wanted, bool):
        raise ProtocolError(BAD_MESSAGE, _("resume must be true or false"))
    return wanted


def _resume(message: dict[str, Any]) -> Resume:
    token = message.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_RESUME_TOKEN_LENGTH:
        raise ProtocolError(BAD_MESSAGE, _("token must be the resume token of a matched message"))
    return Resume(_match_id(message), token)


def _connection_report(message: dict[str, Any]) -> ConnectionReport:
    if set(message) - {"type", "match_id", "outcome", "connect_ms"}:
        raise ProtocolError(BAD_MESSAGE, _("connection_report takes only match_id, outcome and connect_ms"))
    outcome = message.get("outcome")
    if outcome not in CONNECTION_OUTCOMES:
        raise ProtocolError(
            BAD_MESSAGE, format_lazy(_("outcome must be one of {outcomes}"), outcomes=", ".join(CONNECTION_OUTCOMES))
        )
    connect_ms = message.get("connect_ms")
    if outcome == "failed":
        if connect_ms is not None:
            raise ProtocolError(BAD_MESSAGE, _("a failed connection has no connect_ms"))
    elif type(connect_ms) is not int or not 0 <= connect_ms <= MAX_CONNECT_MS:
        raise ProtocolError(
            BAD_MESSAGE, format_lazy(_("connect_ms must be a whole number from 0 to {max}"), max=MAX_CONNECT_MS)
        )
    return ConnectionReport(_match_id(message), outcome, connect_ms)


def _picture_recovered(message: dict[str, Any]) -> PictureRecovered:
    if set(message) - {"type", "match_id"}:
        raise ProtocolError(BAD_MESSAGE, _("picture_recovered takes only match_id"))
    return PictureRecovered(_match_id(message))


def _parse_evidence(value: Any) -> Evidence | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError(BAD_MESSAGE, _("evidence must be a JSON object"))
    snapshot = value.get("snapshot")
    if snapshot is not None:
        if not isinstance(snapshot, str):
            raise ProtocolError(BAD_MESSAGE, _("evidence.snapshot must be a base64 string"))
        if len(snapshot) > (MAX_SNAPSHOT_BYTES + 2) // 3 * 4:
            raise ProtocolError(
                TOO_LARGE, format_lazy(_("evidence.snapshot is limited to {max} bytes"), max=MAX_SNAPSHOT_BYTES)
            )
        try:
            snapshot = base64.b64decode(snapshot, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(BAD_MESSAGE, _("evidence.snapshot must be a base64 string")) from None
        if not snapshot:
            raise ProtocolError(BAD_MESSAGE, _("evidence.snapshot is empty"))
    chat = value.get("chat", [])
    if not isinstance(chat, list):
        raise ProtocolError(BAD_MESSAGE, _("evidence.chat must be a list"))
    if len(chat) > MAX_REPORT_CHAT_LINES:
        raise ProtocolError(
            BAD_MESSAGE, format_lazy(_("evidence.chat holds at most {max} lines"), max=MAX_REPORT_CHAT_LINES)
        )
    lines = []
    for line in chat:
        if not isinstance(line, dict) or line.get("from") not in CHAT_SIDES or not isinstance(line.get("text"), str):
            raise ProtocolError(BAD_MESSAGE, _('each chat line must be {"from": "me" or "stranger", "text": string}'))
        text = line["text"]
        if not 0 < len(text) <= MAX_REPORT_CHAT_LENGTH:
            raise ProtocolError(
                BAD_MESSAGE, format_lazy(_("each chat line must be 1 to {max} characters"), max=MAX_REPORT_CHAT_LENGTH)
            )
        if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
            raise ProtocolError(BAD_MESSAGE, _("chat lines must be valid Unicode text"))
        lines.append(ChatLine(line["from"], text))
    if snapshot is None and not lines:
        return None
    return Evidence(snapshot, tuple(lines))


_NOT_JSON = object()


def _frame_size(text: str) -> int:
    """The frame's UTF-8 size, or 0 when it is surely within MAX_FRAME_BYTES."""
    # A str of n characters is at most 4n bytes in UTF-8, so most frames skip encoding.
    if len(text) * 4 <= MAX_FRAME_BYTES:
        return 0
    return len(text.encode("utf-8", "surrogatepass"))


def _admission(message: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The optional ``rules`` and ``pow`` fields of join and next; their values are judged on admission."""
    rules = message.get("rules")
    if rules is not None and (not isinstance(rules, str) or len(rules) > MAX_RULES_VERSION_LENGTH):
        raise ProtocolError(
            BAD_MESSAGE,
            format_lazy(_("rules must be a string of at most {max} characters"), max=MAX_RULES_VERSION_LENGTH),
        )
    solution = message.get("pow")
    if solution is not None and not isinstance(solution, dict):
        raise ProtocolError(BAD_MESSAGE, _("pow must be a JSON object"))
    return rules, solution


def _parse_int(digits: str) -> int:
    # The length is checked before int() so a 4,000-digit number costs nothing; the value is checked
    # here, as it is read, so that no frame needs a walk over its values for its integers.
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS or abs(value := int(digits)) > MAX_SAFE_INTEGER:
        raise ProtocolError(BAD_MESSAGE, format_lazy(_("integers must lie within ±{max}"), max=MAX_SAFE_INTEGER))
    return value


def _parse_float(digits: str) -> float:
    # 1e999 reads as infinity, which no browser's JSON carries.
    value = float(digits)
    if not math.isfinite(value):
        raise ProtocolError(BAD_MESSAGE, _("numbers must be finite"))
    return value


def _refuse_constant(name: str) -> None:
    raise ProtocolError(BAD_JSON, format_lazy(_("{name} is not JSON"), name=name))


# Made once: json.loads and json.dumps build a new decoder or encoder on every call given options.
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
# A lone surrogate can only come escaped in JSON text ("\udc00"): the one escape to look for.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def dumps(message: dict[str, Any]) -> str:
    """A server message as compact JSON text; NaN and infinity refused."""
    return _ENCODER.encode(message)


def _needs_value_check(text: str) -> bool:
    """Whether the frame could hold what ``_check_values`` refuses beyond numbers (which the decoder
    checks as it reads them): nesting past MAX_DEPTH needs more than MAX_DEPTH brackets, and a lone
    surrogate needs a surrogate escape or (not from a socket, whose text is valid UTF-8) the character."""
    return (
        text.count("{") + text.count("[") > MAX_DEPTH
        or ("\\u" in text and _ESCAPED_SURROGATE.search(text) is not None)
        or (not text.isascii() and _SURROGATE.search(text) is not None)
    )


def _check_values(message: dict[str, Any]) -> None:
    """Refuse what some encoder between the two browsers cannot carry: deep nesting, lone
    surrogates, integers beyond 2**53 and infinite floats."""
    pending: list[tuple[Any, int]] = [(message, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise ProtocolError(BAD_MESSAGE, _("strings must not contain lone UTF-16 surrogates"))
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ProtocolError(
                    BAD_MESSAGE, format_lazy(_("arrays and objects nest at most {max} deep"), max=MAX_DEPTH)
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise ProtocolError(BAD_MESSAGE, _("strings must not contain lone UTF-16 surrogates"))
                pending.append((item, depth + 1))
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_SAFE_INTEGER:
                raise ProtocolError(
                    BAD_MESSAGE, format_lazy(_("integers must lie within ±{max}"), max=MAX_SAFE_INTEGER)
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(BAD_MESSAGE, _("numbers must be finite"))


def parse_frame(text: str) -> Command:
    """Turn one text frame into a command, or raise ProtocolError."""
    size = _frame_size(text)
    if size > max(MAX_FRAME_BYTES, *FRAME_LIMITS.values()):
        raise ProtocolError(TOO_LARGE, format_lazy(_("frames are limited to {max} bytes"), max=MAX_FRAME_BYTES))
    try:
        message = _DECODER.decode(text)
    except ProtocolError as error:
        message, refusal = _NOT_JSON, error
    except ValueError:
        message, refusal = _NOT_JSON, ProtocolError(BAD_JSON, _("frame is not valid JSON"))
    except RecursionError:
        # Far deeper than MAX_DEPTH: the decoder gave up before we could count.
        refusal = ProtocolError(
            BAD_MESSAGE, format_lazy(_("arrays and objects nest at most {max} deep"), max=MAX_DEPTH)
        )
        message = _NOT_JSON
    # Only a frame that is a message allowed to be larger escapes the normal limit.
    kind = message.get("type") if isinstance(message, dict) else None
    limit = FRAME_LIMITS.get(kind, MAX_FRAME_BYTES) if isinstance(kind, str) else MAX_FRAME_BYTES
    if size > limit:
        raise ProtocolError(TOO_LARGE, format_lazy(_("frames are limited to {max} bytes"), max=limit))
    if message is _NOT_JSON:
        raise refusal
    if not isinstance(message, dict):
        raise ProtocolError(BAD_MESSAGE, _("frame must be a JSON object"))
    if _needs_value_check(text):
        _check_values(message)
    if kind == "signal":
        data = message.get("data")
        if not isinstance(data, dict):
            raise ProtocolError(BAD_MESSAGE, _("data must be a JSON object"))
        return Signal(_match_id(message), data)
    if kind == "join":
        interests = message.get("interests", [])
        languages = message.get("languages", [])
        return Join(
            normalize_interests(interests if interests is not None else []),
            *_admission(message),
            languages=normalize_languages(languages if languages is not None else []),
            resume=_resume_wanted(message),
        )
    if kind == "next":
        return Next(*_admission(message), resume=_resume_wanted(message))
    if kind == "leave":
        return Leave()
    if kind == "report":
        reason = message.get("reason")
        if reason not in REPORT_REASONS:
            raise ProtocolError(
                BAD_MESSAGE, format_lazy(_("reason must be one of {reasons}"), reasons=", ".join(REPORT_REASONS))
            )
        return Report(_match_id(message), reason, _parse_evidence(message.get("evidence")))
    if kind == "connection_report":
        return _connection_report(message)
    if kind == "picture_recovered":
        return _picture_recovered(message)
    if kind == "resume":
        return _resume(message)
    if kind == "refresh_ice_servers":
        return RefreshIceServers()
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, _("type must be a string"))
    raise ProtocolError(BAD_MESSAGE, format_lazy(_("unknown message type {type}"), type=repr(kind[:32])))


# Server messages.


def hello(
    peer_id: str,
    online: int,
    ice_servers: list[dict[str, Any]],
    rules: str = "",
    challenge: dict[str, Any] | None = None,
    relay: bool = False,
) -> dict[str, Any]:
    return {
        "type": "hello",
        "peer_id": peer_id,
        "online": online,
        "ice_servers": ice_servers,
        "protocol": PROTOCOL_VERSION,
        "rules": rules,
        "challenge": challenge,
        "relay": relay,
    }


def waiting() -> dict[str, Any]:
    return {"type": "waiting"}


def matched(
    match_id: str,
    polite: bool,
    interests: tuple[str, ...],
    ice_servers: list[dict[str, Any]],
    languages: tuple[str, ...] = (),
    resume: str = "",
) -> dict[str, Any]:
    message = {
        "type": "matched",
        "match_id": match_id,
        "polite": polite,
        "interests": list(interests),
        "languages": list(languages),
        "ice_servers": ice_servers,
    }
    if resume:
        message["resume"] = resume
    return message


def resumed(
    match_id: str,
    polite: bool,
    interests: tuple[str, ...],
    ice_servers: list[dict[str, Any]],
    languages: tuple[str, ...],
    token: str,
) -> dict[str, Any]:
    return {**matched(match_id, polite, interests, ice_servers, languages, token), "type": "resumed"}


def ice_servers_message(ice_servers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "ice_servers", "ice_servers": ice_servers}


def partner_resumed(match_id: str) -> dict[str, Any]:
    return {"type": "partner_resumed", "match_id": match_id}


def signal(match_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "signal", "match_id": match_id, "data": data}


def partner_left(match_id: str, reason: str) -> dict[str, Any]:
    return {"type": "partner_left", "match_id": match_id, "reason": reason}


def online(count: int) -> dict[str, Any]:
    return {"type": "online", "count": count}


def reported(match_id: str) -> dict[str, Any]:
    return {"type": "reported", "match_id": match_id}


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}
