"""The WebSocket handshake is refused unless the page's origin is this site's, scheme and port included."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from alienmeet_site.asgi import application
from alienmeet_site.origins import origin_allowed, parse_origin


def scope(origin: str | None, host: str | None = "alienmeet.example", scheme: str = "ws", **headers: str):
    pairs = [(b"origin", origin.encode())] if origin is not None else []
    if host is not None:
        pairs.append((b"host", host.encode()))
    pairs += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.fixture
def site(settings):
    settings.ALLOWED_HOSTS = ["alienmeet.example", "[::1]"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def test_same_origin_is_allowed(site):
    assert origin_allowed(scope("http://alienmeet.example"))
    assert origin_allowed(scope("http://alienmeet.example:80"))
    assert origin_allowed(scope("https://alienmeet.example", scheme="wss"))
    assert origin_allowed(scope("http://alienmeet.example:8080", host="alienmeet.example:8080"))
    assert origin_allowed(scope("http://[::1]:8000", host="[::1]:8000"))


def test_scheme_must_match(site):
    # An HTTP page (say, a network attacker's injection) may not open the HTTPS site's socket.
    assert not origin_allowed(scope("http://alienmeet.example", scheme="wss"))
    assert not origin_allowed(scope("https://alienmeet.example", scheme="ws"))


def test_port_must_match(site):
    # Another service on the same host name is another origin.
    assert not origin_allowed(scope("http://alienmeet.example:8080"))
    assert not origin_allowed(scope("http://alienmeet.example", host="alienmeet.example:8080"))
    assert not origin_allowed(scope("https://alienmeet.example:8443", scheme="wss"))


def test_host_must_be_allowed_and_equal(site):
    assert not origin_allowed(scope("http://evil.example", host="evil.example"))
    assert not origin_allowed(scope("http://evil.example"))
    assert not origin_allowed(scope("http://alienmeet.example.evil.example"))


def test_https_behind_a_proxy(site):
    # TLS ends at the proxy: daphne sees ws://, the proxy says https.
    assert origin_allowed(scope("https://alienmeet.example", x_forwarded_proto="https"))
    assert not origin_allowed(scope("http://alienmeet.example", x_forwarded_proto="https"))
    site.SECURE_PROXY_SSL_HEADER = None
    # A proxy whose header is not configured: the operator lists the public origin instead.
    assert not origin_allowed(scope("https://alienmeet.example", x_forwarded_proto="https"))
    site.CSRF_TRUSTED_ORIGINS = ["https://alienmeet.example"]
    assert origin_allowed(scope("https://alienmeet.example", x_forwarded_proto="https"))
    assert not origin_allowed(scope("https://alienmeet.example:8443"))


def test_trusted_origins_with_subdomain_wildcard(site):
    site.CSRF_TRUSTED_ORIGINS = ["https://*.alienmeet.example"]
    assert origin_allowed(scope("https://eu.alienmeet.example", host="eu.alienmeet.example"))
    assert not origin_allowed(scope("http://eu.alienmeet.example", host="eu.alienmeet.example"))
    assert not origin_allowed(scope("https://eu.alienmeet.example.evil", host="eu.alienmeet.example.evil"))


def test_missing_odd_or_repeated_origins_are_refused(site):
    assert not origin_allowed(scope(None))
    for junk in (
        "null",
        "",
        "file://",
        "alienmeet.example",
        "http://alienmeet.example:99999",
        "ws://alienmeet.example",
    ):
        assert not origin_allowed(scope(junk)), junk
    twice = scope("http://alienmeet.example")
    twice["headers"].append((b"origin", b"http://evil.example"))
    assert not origin_allowed(twice)
    assert parse_origin("HTTP://AlienMeet.Example") == ("http", "alienmeet.example", 80)


@pytest.mark.django_db(transaction=True)
async def test_handshake_refused_for_another_port_and_accepted_for_our_own(backend, settings):
    settings.ALLOWED_HOSTS = ["alienmeet.example"]
    foreign = WebsocketCommunicator(
        application, "/ws/meet/", headers=[(b"origin", b"http://alienmeet.example:81"), (b"host", b"alienmeet.example")]
    )
    connected, _ = await foreign.connect(timeout=5)
    assert not connected
    await foreign.disconnect()
    own = WebsocketCommunicator(
        application, "/ws/meet/", headers=[(b"origin", b"http://alienmeet.example"), (b"host", b"alienmeet.example")]
    )
    connected, _ = await own.connect(timeout=5)
    assert connected
    await own.disconnect()
