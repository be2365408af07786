"""The language a WebSocket visitor reads: the switcher's cookie, else the browser's Accept-Language.

The same choice LocaleMiddleware makes for a page, made from the socket's handshake, so the
protocol's error messages come in the language of the call page that opened the socket.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _supported(code: str) -> str | None:
    try:
        return trans_real.get_supported_language_variant(code)
    except LookupError:
        return None


def visitor_language(scope: dict[str, Any]) -> str:
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie"))
    except Exception:  # a malformed Cookie header is the visitor's problem, not a reason to fail
        cookie = SimpleCookie()
    chosen = cookie.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen and (language := _supported(chosen.value)):
        return language
    for code, _quality in trans_real.parse_accept_lang_header(_header(scope, b"accept-language")[:500]):
        if code != "*" and (language := _supported(code)):
            return language
    return settings.LANGUAGE_CODE


def in_language(message: str | Promise, scope: dict[str, Any], **params: Any) -> str:
    """A (lazily translated) message as text in the visitor's language, its %(name)s filled from params."""
    with translation.override(visitor_language(scope)):
        text = str(message)
    return text % params if params else text
