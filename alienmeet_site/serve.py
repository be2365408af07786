"""One ASGI server process, as production runs it: ``python -m alienmeet_site.serve --port 8001``.

The same command serves under each ASGI server the project has measured (docs/benchmarks.md,
"The production server"), with the settings that keep the site's guarantees on each:

- the access log off (it would hold visitors' addresses);
- the client address as the socket gives it (the site reads ``X-Forwarded-For`` itself, from
  ``TRUSTED_PROXIES`` only);
- pings every ``--ping-interval`` seconds and a socket that leaves one unanswered for
  ``--ping-timeout`` closed, so a vanished browser does not stay matched;
- a closing handshake the browser does not answer given up after about a second (what daphne's
  autobahn does), so a flooder that stops reading is dropped at once;
- no WebSocket compression (the signals are small and a zlib context per socket costs memory).

``--server`` picks the server; its default is the one production runs (``DEFAULT_SERVER``).
daphne stays what ``manage.py runserver`` uses. This module imports nothing heavy until
it runs, so tests can read ``DEFAULT_SERVER`` cheaply.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SERVERS = ("daphne", "uvicorn", "granian")
DEFAULT_SERVER = "uvicorn"
APPLICATION = "alienmeet_site.asgi:application"
# How long a closing handshake may wait for the browser's answer (autobahn's default under daphne).
CLOSE_TIMEOUT_SECONDS = 1.0
# How long a stopping uvicorn waits for the application after the drain (meet/runtime.py) ran.
GRACEFUL_SHUTDOWN_SECONDS = 5


def daphne_command(host: str, port: int, ping_interval: float, ping_timeout: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        host,
        "-p",
        str(port),
        "--access-log",
        os.devnull,
        "--ping-interval",
        _seconds(ping_interval),
        "--ping-timeout",
        _seconds(ping_timeout),
        "--application-close-timeout",
        "5",
        APPLICATION,
    ]


def granian_command(host: str, port: int) -> list[str]:
    # granian sends no WebSocket pings (it has no such setting): a browser that vanishes without
    # closing stays connected until the kernel gives up on it. See docs/benchmarks.md.
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asginl",  # no lifespan: the site has no start-up or shutdown hook
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
        APPLICATION,
    ]


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def run_uvicorn(host: str, port: int, ping_interval: float, ping_timeout: float) -> None:
    import uvicorn
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    class Protocol(WebSocketsSansIOProtocol):
        """uvicorn's sans-I/O websockets protocol, giving up on an unanswered close sooner.

        uvicorn waits 10 s (fixed) for the browser to answer a close; a flooder that stopped
        reading never answers, so it would keep its socket that long."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.close_timeout = CLOSE_TIMEOUT_SECONDS

    config = uvicorn.Config(
        APPLICATION,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        ws=Protocol,
        ws_ping_interval=ping_interval,
        ws_ping_timeout=ping_timeout,
        ws_per_message_deflate=False,
        lifespan="off",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=SERVERS, default=os.environ.get("ALIENMEET_SERVER") or DEFAULT_SERVER)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--ping-interval", type=float, default=15.0)
    parser.add_argument("--ping-timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alienmeet_site.settings")
    os.environ["ALIENMEET_SERVED_BY"] = args.server  # read by the settings (INSTALLED_APPS)
    if args.server == "uvicorn":
        run_uvicorn(args.host, args.port, args.ping_interval, args.ping_timeout)
        return
    if args.server == "daphne":
        command = daphne_command(args.host, args.port, args.ping_interval, args.ping_timeout)
    else:
        command = granian_command(args.host, args.port)
    # Replaced, not wrapped: the server gets the signals (SIGTERM drains) and the process id.
    os.execv(command[0], command)  # noqa: S606 (a fixed command, no shell)


if __name__ == "__main__":
    main()
