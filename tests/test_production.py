"""Production set-up: check --deploy, security headers, /healthz, and nginx in front of two processes."""

from __future__ import annotations

import gzip
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message

import pytest
import websockets

from conftest import REDIS_URL
from tests.protocol_client import matched_pair
from tests.servers import ROOT, free_port, migrate, server_env, servers
from tests.services import nginx_site, start_nginx, stop


def test_check_deploy_passes_with_production_settings():
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "alienmeet_site.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "alienmeet.example",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_security_headers(client, settings):
    response = client.get("/meet/")
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "connect-src 'self' ws://testserver" in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert "camera=(self)" in response["Permissions-Policy"] and "microphone=(self)" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    secure = client.__class__().get("/", secure=True)  # a new client loads the middleware anew
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    assert "wss://testserver" in secure["Content-Security-Policy"]


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_each_dependency(client, settings):
    settings.MATCHMAKER = {**settings.MATCHMAKER, "BACKEND": "memory"}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok", "matchmaking": "ok"}
    settings.MATCHMAKER = {**settings.MATCHMAKER, "BACKEND": "redis", "URL": "redis://127.0.0.1:1/0", "PREFIX": "x:"}
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable" and down.json()["matchmaking"] == "unreachable"


@pytest.mark.slow
@pytest.mark.redis
async def test_nginx_in_front_of_two_processes(redis_prefix, tmp_path):
    static_root = tmp_path / "static"
    environ = server_env(
        tmp_path,
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=redis_prefix,
        TRUSTED_PROXIES="127.0.0.1",
        DJANGO_STATIC_ROOT=str(static_root),
    )
    migrate(environ)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=environ, check=True
    )
    with servers(2, environ, tmp_path) as (one, two):
        port = free_port()
        access_log = tmp_path / "access.log"
        site = nginx_site("127.0.0.1", one.port, static_root, f"127.0.0.1:{port}", access_log)
        # The second process is not next to the first; name both explicitly.
        site = site.replace(
            f"server 127.0.0.1:{one.port} max_fails=1 fail_timeout=5s;",
            f"server 127.0.0.1:{one.port} max_fails=1 fail_timeout=5s; "
            f"server 127.0.0.1:{two.port} max_fails=1 fail_timeout=5s;",
        )
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        process = start_nginx(tmp_path, site, answers)
        try:
            with urllib.request.urlopen(f"{base}/", timeout=5) as response:
                assert b"No borders. Just people." in response.read()
            with urllib.request.urlopen(f"{base}/static/css/site.css", timeout=5) as response:
                assert response.headers["X-Served-By"] == "nginx-static"
                assert b"--accent" in response.read()
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                assert json.loads(response.read())["status"] == "ok"
            # Both nginx and WhiteNoise (the ASGI process alone) serve the hashed modules gzipped, cached long.
            for origin, served_by in ((base, "nginx-static"), (one.http_url, None)):
                check_hashed_static(origin, served_by)

            url = f"ws://127.0.0.1:{port}/ws/meet/"
            alice, bob, match_id = await matched_pair(url, url)
            await bob.send({"type": "signal", "match_id": match_id, "data": {"via": "nginx"}})
            await alice.expect("signal", data={"via": "nginx"})
            await alice.close()
            await bob.close()
            # An error nginx would log with the client's address: a body over client_max_body_size.
            oversized = urllib.request.Request(f"{base}/", data=b"x" * (2 << 20), method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(oversized, timeout=5)
            assert refused.value.code == 413
            assert access_log.read_text()
            for log in (access_log, tmp_path / "nginx-error.log"):
                assert "127.0.0.1" not in log.read_text(), f"an address is in {log.name}"
                assert "client:" not in log.read_text()
            await check_websocket_limits(url)
        finally:
            stop(process)


def fetch(url: str, gzip_ok: bool = True) -> tuple[Message, bytes]:
    """Body and headers; header names compare case-insensitively, as HTTP says (some servers send them
    lower-case)."""
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return response.headers, response.read()


def check_hashed_static(origin: str, served_by: str | None) -> None:
    """The call page links content-hashed modules whose own imports are hashed too."""
    _, page = fetch(f"{origin}/meet/", gzip_ok=False)
    script = re.search(rb'src="(/static/js/call\.[0-9a-f]{12}\.js)"', page)
    stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
    assert script and stylesheet, page[:2000]
    for path in (script[1].decode(), stylesheet[1].decode()):
        headers, body = fetch(f"{origin}{path}")
        assert headers.get("Content-Encoding") == "gzip", (origin, path, headers)
        cache = headers.get("Cache-Control", "")
        max_age = int(re.search(r"max-age=(\d+)", cache)[1])
        assert max_age >= 365 * 24 * 3600 and "immutable" in cache, (origin, path, cache)
        if served_by:
            assert headers.get("X-Served-By") == served_by
        text = gzip.decompress(body)
        if path.endswith(".js"):
            imports = re.findall(rb'from "(\./[^"]+)"', text)
            assert imports and all(re.fullmatch(rb"\./\w+\.[0-9a-f]{12}\.js", name) for name in imports), imports
            # Each import resolves to a file the server has.
            headers, _ = fetch(f"{origin}/static/js/{imports[0][2:].decode()}")
            assert "max-age" in headers.get("Cache-Control", "")
        else:
            assert b"--accent" in text
    # Without gzip in Accept-Encoding, the plain file.
    headers, body = fetch(f"{origin}{script[1].decode()}", gzip_ok=False)
    assert "Content-Encoding" not in headers and body.startswith(b"//")


async def _handshake(url: str) -> websockets.ClientConnection | int:
    """An open socket, or the HTTP status nginx refused the handshake with."""
    try:
        return await websockets.connect(url, origin="http://127.0.0.1", open_timeout=10)
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


async def check_websocket_limits(url: str) -> None:
    """nginx's per-address backstop on /ws/: 40 sockets at once, then 1 a second after a burst of 60."""
    held = []
    try:
        for _ in range(40):
            socket = await _handshake(url)
            assert not isinstance(socket, int), f"socket {len(held) + 1} of 40 refused with {socket}"
            held.append(socket)
        # Fewer than 60 handshakes so far: this one is over the simultaneous limit, not the rate.
        assert await _handshake(url) == 429
    finally:
        for socket in held:
            await socket.close()

    # One socket at a time now, so only the rate can refuse; what is left of the burst runs out.
    deadline = time.monotonic() + 20
    accepted = 0
    while True:
        assert time.monotonic() < deadline, f"no 429 after {accepted} sequential handshakes"
        socket = await _handshake(url)
        if socket == 429:
            break
        assert not isinstance(socket, int), socket
        accepted += 1
        await socket.close()
    # Sockets were free again (several accepted) and the burst ran out well before 60 more.
    assert 5 <= accepted <= 40
