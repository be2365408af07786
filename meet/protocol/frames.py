"""Client frames to commands: size, JSON, value and field checks, in that order; and JSON out."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from meet.protocol.commands import Command, Join, Leave, Next, RefreshIceServers, Report, Signal
from meet.protocol.fields import (
    normalize_interests,
    normalize_languages,
    parse_connection_report,
    parse_evidence,
    parse_match_id,
    parse_picture_recovered,
    parse_resume,
    parse_resume_wanted,
)
from meet.protocol.limits import (
    BAD_JSON,
    BAD_MESSAGE,
    FRAME_LIMITS,
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    MAX_INTEGER_DIGITS,
    MAX_RULES_VERSION_LENGTH,
    MAX_SAFE_INTEGER,
    REPORT_REASONS,
    SURROGATE,
    TOO_LARGE,
    ProtocolError,
)

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
        or (not text.isascii() and SURROGATE.search(text) is not None)
    )


def _check_values(message: dict[str, Any]) -> None:
    """Refuse what some encoder between the two browsers cannot carry: deep nesting, lone
    surrogates, integers beyond 2**53 and infinite floats."""
    pending: list[tuple[Any, int]] = [(message, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if SURROGATE.search(value):
                raise ProtocolError(BAD_MESSAGE, _("strings must not contain lone UTF-16 surrogates"))
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ProtocolError(
                    BAD_MESSAGE, format_lazy(_("arrays and objects nest at most {max} deep"), max=MAX_DEPTH)
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and SURROGATE.search(key):
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
        return Signal(parse_match_id(message), data)
    if kind == "join":
        interests = message.get("interests", [])
        languages = message.get("languages", [])
        return Join(
            normalize_interests(interests if interests is not None else []),
            *_admission(message),
            languages=normalize_languages(languages if languages is not None else []),
            resume=parse_resume_wanted(message),
        )
    if kind == "next":
        return Next(*_admission(message), resume=parse_resume_wanted(message))
    if kind == "leave":
        return Leave()
    if kind == "report":
        reason = message.get("reason")
        if reason not in REPORT_REASONS:
            raise ProtocolError(
                BAD_MESSAGE, format_lazy(_("reason must be one of {reasons}"), reasons=", ".join(REPORT_REASONS))
            )
        return Report(parse_match_id(message), reason, parse_evidence(message.get("evidence")))
    if kind == "connection_report":
        return parse_connection_report(message)
    if kind == "picture_recovered":
        return parse_picture_recovered(message)
    if kind == "resume":
        return parse_resume(message)
    if kind == "refresh_ice_servers":
        return RefreshIceServers()
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, _("type must be a string"))
    raise ProtocolError(BAD_MESSAGE, format_lazy(_("unknown message type {type}"), type=repr(kind[:32])))
