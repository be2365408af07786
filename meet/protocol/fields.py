"""Fields of client frames, each checked and normalized, or ProtocolError."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from callstats.outcomes import MAX_CONNECT_MS
from meet.protocol.commands import ChatLine, ConnectionReport, Evidence, PictureRecovered, Resume
from meet.protocol.limits import (
    BAD_MESSAGE,
    CHAT_SIDES,
    CONNECTION_OUTCOMES,
    LANGUAGE_TAG,
    MAX_INTEREST_LENGTH,
    MAX_INTERESTS,
    MAX_LANGUAGE_TAG_LENGTH,
    MAX_LANGUAGES,
    MAX_MATCH_ID_LENGTH,
    MAX_REPORT_CHAT_LENGTH,
    MAX_REPORT_CHAT_LINES,
    MAX_RESUME_TOKEN_LENGTH,
    TOO_LARGE,
    ProtocolError,
)
from moderation.evidence import MAX_SNAPSHOT_BYTES


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
        if len(tag) > MAX_LANGUAGE_TAG_LENGTH or not LANGUAGE_TAG.fullmatch(tag):
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


def parse_match_id(message: dict[str, Any]) -> str:
    match_id = message.get("match_id")
    if not isinstance(match_id, str) or not 0 < len(match_id) <= MAX_MATCH_ID_LENGTH:
        raise ProtocolError(BAD_MESSAGE, _("match_id must be a string"))
    return match_id


def parse_resume_wanted(message: dict[str, Any]) -> bool:
    wanted = message.get("resume", False)
    if not isinstance(wanted, bool):
        raise ProtocolError(BAD_MESSAGE, _("resume must be true or false"))
    return wanted


def parse_resume(message: dict[str, Any]) -> Resume:
    token = message.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_RESUME_TOKEN_LENGTH:
        raise ProtocolError(BAD_MESSAGE, _("token must be the resume token of a matched message"))
    return Resume(parse_match_id(message), token)


def parse_connection_report(message: dict[str, Any]) -> ConnectionReport:
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
    return ConnectionReport(parse_match_id(message), outcome, connect_ms)


def parse_picture_recovered(message: dict[str, Any]) -> PictureRecovered:
    if set(message) - {"type", "match_id"}:
        raise ProtocolError(BAD_MESSAGE, _("picture_recovered takes only match_id"))
    return PictureRecovered(parse_match_id(message))


def parse_evidence(value: Any) -> Evidence | None:
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
