"""The lab's public servers: the site (nginx with TLS in front of daphne) and coturn."""

from __future__ import annotations

import functools
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests import services
from tests.netlab.lab import SITE_ADDRESS, TURN_ADDRESS, Lab, in_ns, wait_for
from tests.servers import ROOT, migrate, server_env

DAPHNE_PORT = 8000
TURN_PORT = 3478
TURNS_PORT = 443


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for the site's and the relay's lab addresses."""
    return services.make_certificate(directory, (SITE_ADDRESS, TURN_ADDRESS), name="lab")


def spawn_in(lab: Lab, namespace: str) -> services.Spawn:
    """Start commands inside one of the lab's namespaces (the lab stops them when it is taken down)."""
    return functools.partial(lab.start, namespace)


def answers(namespace: str, url: str) -> bool:
    probe = in_ns(
        namespace,
        *("curl", "-ksf", "-o", "/dev/null", "--max-time", "1", "-H", f"Host: {SITE_ADDRESS}", url),
        check=False,
    )
    return probe.returncode == 0


@dataclass
class Turn:
    secret: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def stun_urls(self) -> str:
        return f"stun:{TURN_ADDRESS}:{TURN_PORT}"

    @property
    def turn_urls(self) -> str:
        # Every transport a visitor's network may allow: UDP, TCP, and TLS on the HTTPS port.
        return ",".join(
            [
                f"turn:{TURN_ADDRESS}:{TURN_PORT}?transport=udp",
                f"turn:{TURN_ADDRESS}:{TURN_PORT}?transport=tcp",
                f"turns:{TURN_ADDRESS}:{TURNS_PORT}?transport=tcp",
            ]
        )


def start_turn(lab: Lab, directory: Path, cert: Path, key: Path) -> Turn:
    secret = secrets.token_hex(16)
    log = directory / "turnserver.log"
    settings = [
        f"listening-ip={TURN_ADDRESS}",
        f"relay-ip={TURN_ADDRESS}",
        f"listening-port={TURN_PORT}",
        f"tls-listening-port={TURNS_PORT}",
        f"cert={cert}",
        f"pkey={key}",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        "realm=alienmeet.lab",
        "fingerprint",
        "no-dtls",
        "no-cli",
        "min-port=49160",
        "max-port=49960",
        f"log-file={log}",
        "simple-log",
        f"pidfile={directory / 'turnserver.pid'}",
    ]
    from_turn = ("ip", "netns", "exec", lab.turn)
    answers = functools.partial(services.stun_answers, TURN_ADDRESS, TURN_PORT, from_turn)
    process = services.start_coturn(directory, settings, [(answers, "coturn answering STUN")], spawn_in(lab, lab.turn))
    return Turn(secret, process, log)


@dataclass
class Site:
    url: str
    daphne: subprocess.Popen[bytes]
    nginx: subprocess.Popen[bytes]
    log: Path


def start_site(lab: Lab, directory: Path, cert: Path, key: Path, turn: Turn, **extra: str) -> Site:
    """daphne on the site namespace's loopback, and nginx with TLS on the site's public address."""
    static_root = directory / "static"
    environ = server_env(
        directory,
        DJANGO_HTTPS="1",
        DJANGO_ALLOWED_HOSTS=SITE_ADDRESS,
        DJANGO_STATIC_ROOT=str(static_root),
        TRUSTED_PROXIES="127.0.0.1",
        MEET_RATE_BURST="200",
        MATCH_INTEREST_WAIT="1",
        STUN_URLS=turn.stun_urls,
        TURN_URLS=turn.turn_urls,
        TURN_SECRET=turn.secret,
        TURN_TTL="600",
        # One process in the lab: the in-memory layer and matchmaking (Redis is not reachable from here).
        REDIS_URL="",
        **extra,
    )
    migrate(environ)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=environ,
        check=True,
        timeout=120,
    )
    log = directory / "daphne.log"
    daphne = lab.start(
        lab.site,
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(DAPHNE_PORT),
            "--access-log",
            "/dev/null",
            "alienmeet_site.asgi:application",
        ],
        log,
        env=environ,
    )
    wait_for(lambda: answers(lab.site, f"http://127.0.0.1:{DAPHNE_PORT}/healthz"), 30, "daphne in the lab")

    site = services.nginx_site(
        SITE_ADDRESS, DAPHNE_PORT, static_root, f"{SITE_ADDRESS}:443 ssl", access_log=directory / "access.log"
    )
    site = site.replace(f"/etc/letsencrypt/live/{SITE_ADDRESS}/fullchain.pem", str(cert))
    site = site.replace(f"/etc/letsencrypt/live/{SITE_ADDRESS}/privkey.pem", str(key))
    url = f"https://{SITE_ADDRESS}"
    ready = functools.partial(answers, lab.site, f"{url}/healthz")
    nginx = services.start_nginx(directory / "nginx", site, ready, spawn_in(lab, lab.site))
    return Site(url, daphne, nginx, log)
