"""Protocol version 1: names, limits, error codes and close codes (static/js/protocol.js mirrors them)."""

from __future__ import annotations

import re

from django.utils.functional import Promise

from callstats.outcomes import OUTCOME_FIELDS
from matchmaking.base import ENDED_BY_DISCONNECT, ENDED_BY_LEAVE, ENDED_BY_NEXT

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
LANGUAGE_TAG = re.compile(
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
SURROGATE = re.compile("[\ud800-\udfff]")

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
# A resume token: "<peer_id>.<mac>", both URL-safe base64 (see meet/session/resume_tokens.py).
MAX_RESUME_TOKEN_LENGTH = 200


class ProtocolError(Exception):
    # The message is translated lazily: the consumer turns it into text in the visitor's language.
    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
