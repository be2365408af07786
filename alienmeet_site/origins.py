"""Which pages may open the signaling WebSocket: this site's own origin, scheme and port included.

Channels' AllowedHostsOriginValidator compares the host name only, so a page on
http://alienmeet.example:8080 (another service on the same host) or a plain-HTTP page
could open a socket to the HTTPS site. Here the Origin must equal the origin the request
itself was made to (scheme from the connection or the trusted proxy header, host and port
from the Host header, which must be an allowed host), or be listed in CSRF_TRUSTED_ORIGINS,
the same rule Django applies to form posts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]
ASGIApp = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[Any]]


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an http(s) origin; None for "null", other schemes or junk."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in {"", "/"}:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    if len(values) != 1:
        return None  # absent, or repeated to confuse whoever reads the first one
    try:
        return values[0].decode("latin-1")
    except UnicodeDecodeError:
        return None


def _is_secure(scope: dict[str, Any]) -> bool:
    if scope.get("scheme") == "wss":
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, expected = proxy_header
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        value = _header(scope, header)
        return value is not None and value.split(",")[0].strip() == expected
    return False


def _trusted(origin: Origin) -> bool:
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        trusted = parse_origin(entry.replace("://*.", "://wildcard."))
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        if "://*." in entry:
            suffix = trusted[1].removeprefix("wildcard")
            if host.endswith(suffix):
                return True
        elif trusted[1] == host:
            return True
    return False


def origin_allowed(scope: dict[str, Any]) -> bool:
    raw = _header(scope, b"origin")
    origin = parse_origin(raw) if raw is not None else None
    if origin is None:
        return False
    if _trusted(origin):
        return True
    scheme = "https" if _is_secure(scope) else "http"
    host_header = _header(scope, b"host")
    if host_header is None:
        # Every HTTP/1.1 request names its host; only an in-process test client leaves it out,
        # and then the origin's own port is all there is to compare.
        domain, port = origin[1], origin[2]
    else:
        domain, port_text = split_domain_port(host_header)
        if not domain:
            return False
        try:
            port = int(port_text) if port_text else DEFAULT_PORTS[scheme]
        except ValueError:
            return False
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not validate_host(domain, allowed_hosts):
        return False
    return origin == (scheme, domain.strip("[]"), port)


class SameOriginValidator:
    """Refuses the WebSocket handshake (HTTP 403) unless ``origin_allowed``."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
