"""Protocol version 1 of ``/ws/meet/``: message names, fields and limits, defined once.

The consumer, the tests and ``docs/protocol.md`` all follow this module.
Client frames are parsed into small command objects; anything else raises
ProtocolError carrying the ``error`` code the client receives.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1

MAX_INTERESTS = 5
MAX_INTEREST_LENGTH = 24
MAX_SIGNAL_BYTES = 64 * 1024
# The envelope around ``data`` ({"type":"signal","match_id":"…","data":…}) needs a little room.
MAX_FRAME_BYTES = MAX_SIGNAL_BYTES + 512
MAX_MATCH_ID_LENGTH = 64
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

# Reasons a partner_left carries.
LEFT_NEXT = "next"
LEFT_LEAVE = "leave"
LEFT_DISCONNECT = "disconnect"

# Error codes.
BAD_JSON = "bad_json"
BAD_MESSAGE = "bad_message"
TOO_LARGE = "too_large"
NOT_MATCHED = "not_matched"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
BANNED = "banned"

# WebSocket close codes (4000-4999 are the application's own).
CLOSE_BANNED = 4003
CLOSE_FLOODING = 4008
CLOSE_SHUTDOWN = 4012


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Join:
    interests: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signal:
    match_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Next:
    pass


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class Report:
    match_id: str
    reason: str


Command = Join | Signal | Next | Leave | Report


def normalize_interests(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ProtocolError(BAD_MESSAGE, "interests must be a list of strings")
    if len(value) > MAX_INTERESTS:
        raise ProtocolError(BAD_MESSAGE, f"at most {MAX_INTERESTS} interests")
    interests: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ProtocolError(BAD_MESSAGE, "interests must be a list of strings")
        word = item.strip().lower()
        if not 1 <= len(word) <= MAX_INTEREST_LENGTH:
            raise ProtocolError(BAD_MESSAGE, f"each interest must be 1 to {MAX_INTEREST_LENGTH} characters")
        if "," in word:
            raise ProtocolError(BAD_MESSAGE, "an interest cannot contain a comma")
        if word not in interests:
            interests.append(word)
    return tuple(interests)


def _match_id(message: dict[str, Any]) -> str:
    match_id = message.get("match_id")
    if not isinstance(match_id, str) or not 0 < len(match_id) <= MAX_MATCH_ID_LENGTH:
        raise ProtocolError(BAD_MESSAGE, "match_id must be a string")
    return match_id


def _parse_int(digits: str) -> int:
    # Checked before int() so a 4,000-digit number costs nothing.
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ProtocolError(BAD_MESSAGE, f"integers must lie within ±{MAX_SAFE_INTEGER}")
    return int(digits)


def _refuse_constant(name: str) -> None:
    raise ProtocolError(BAD_JSON, f"{name} is not JSON")


def _check_values(message: dict[str, Any]) -> None:
    """Refuse what some encoder between the two browsers cannot carry: deep nesting, lone
    surrogates, integers beyond 2**53 and infinite floats."""
    pending: list[tuple[Any, int]] = [(message, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise ProtocolError(BAD_MESSAGE, "strings must not contain lone UTF-16 surrogates")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ProtocolError(BAD_MESSAGE, f"arrays and objects nest at most {MAX_DEPTH} deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise ProtocolError(BAD_MESSAGE, "strings must not contain lone UTF-16 surrogates")
                pending.append((item, depth + 1))
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_SAFE_INTEGER:
                raise ProtocolError(BAD_MESSAGE, f"integers must lie within ±{MAX_SAFE_INTEGER}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(BAD_MESSAGE, "numbers must be finite")


def parse_frame(text: str) -> Command:
    """Turn one text frame into a command, or raise ProtocolError."""
    # A str of n characters is at most 4n bytes in UTF-8, so most frames skip encoding.
    if len(text) * 4 > MAX_FRAME_BYTES and len(text.encode("utf-8")) > MAX_FRAME_BYTES:
        raise ProtocolError(TOO_LARGE, f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        message = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except ValueError:
        raise ProtocolError(BAD_JSON, "frame is not valid JSON") from None
    except RecursionError:
        # Far deeper than MAX_DEPTH: the decoder gave up before we could count.
        raise ProtocolError(BAD_MESSAGE, f"arrays and objects nest at most {MAX_DEPTH} deep") from None
    if not isinstance(message, dict):
        raise ProtocolError(BAD_MESSAGE, "frame must be a JSON object")
    _check_values(message)
    kind = message.get("type")
    if kind == "signal":
        data = message.get("data")
        if not isinstance(data, dict):
            raise ProtocolError(BAD_MESSAGE, "data must be a JSON object")
        return Signal(_match_id(message), data)
    if kind == "join":
        interests = message.get("interests", [])
        return Join(normalize_interests(interests if interests is not None else []))
    if kind == "next":
        return Next()
    if kind == "leave":
        return Leave()
    if kind == "report":
        reason = message.get("reason")
        if reason not in REPORT_REASONS:
            raise ProtocolError(BAD_MESSAGE, f"reason must be one of {', '.join(REPORT_REASONS)}")
        return Report(_match_id(message), reason)
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, "type must be a string")
    raise ProtocolError(BAD_MESSAGE, f"unknown message type {kind[:32]!r}")


# Server messages.


def hello(peer_id: str, online: int, ice_servers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "hello",
        "peer_id": peer_id,
        "online": online,
        "ice_servers": ice_servers,
        "protocol": PROTOCOL_VERSION,
    }


def waiting() -> dict[str, Any]:
    return {"type": "waiting"}


def matched(match_id: str, polite: bool, interests: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "matched", "match_id": match_id, "polite": polite, "interests": list(interests)}


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
