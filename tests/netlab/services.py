"""The lab's public servers: the site (nginx with TLS in front of daphne) and coturn."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.netlab.lab import SITE_ADDRESS, TURN_ADDRESS, Lab, LabError, in_ns, wait_for
from tests.servers import ROOT, migrate, server_env
from tests.turn import coturn as turn

DAPHNE_PORT = 8000
TURN_PORT = 3478
TURNS_PORT = 443

NGINX_MAIN = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
user root;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
"""


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for the site's and the relay's lab addresses."""
    return turn.make_certificate(directory, (SITE_ADDRESS, TURN_ADDRESS), name="lab")


def answers(namespace: str, url: str) -> bool:
    probe = in_ns(
        namespace,
        *("curl", "-ksf", "-o", "/dev/null", "--max-time", "1", "-H", f"Host: {SITE_ADDRESS}", url),
        check=False,
    )
    return probe.returncode == 0


def stun_answers(namespace: str, address: str, port: int) -> bool:
    """A STUN Binding request from inside the namespace; True when the success response comes back."""
    script = (
        "import os,socket,struct,sys\n"
        "t=os.urandom(12)\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(0.5)\n"
        f"s.sendto(struct.pack('!HHI',1,0,0x2112A442)+t,({address!r},{port}))\n"
        "r=s.recv(2048)\n"
        "sys.exit(0 if r[:2]==b'\\x01\\x01' and r[8:20]==t else 1)\n"
    )
    return in_ns(namespace, sys.executable, "-c", script, check=False).returncode == 0


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
    binary = shutil.which("turnserver")
    if binary is None:
        raise LabError("coturn's turnserver is not installed (Debian package coturn)")
    secret = secrets.token_hex(16)
    log = directory / "turnserver.log"
    process = lab.start(
        lab.turn,
        [
            binary,
            "-n",
            f"--listening-ip={TURN_ADDRESS}",
            f"--relay-ip={TURN_ADDRESS}",
            f"--listening-port={TURN_PORT}",
            f"--tls-listening-port={TURNS_PORT}",
            f"--cert={cert}",
            f"--pkey={key}",
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            "--realm=alienmeet.lab",
            "--fingerprint",
            "--no-dtls",
            "--no-cli",
            "--min-port=49160",
            "--max-port=49960",
            f"--log-file={log}",
            "--simple-log",
            f"--pidfile={directory / 'turnserver.pid'}",
        ],
        directory / "turnserver.out",
    )
    wait_for(lambda: stun_answers(lab.turn, TURN_ADDRESS, TURN_PORT), 15, "coturn answering STUN")
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

    rendered = subprocess.run(
        [
            str(ROOT / "deploy" / "render-nginx.sh"),
            SITE_ADDRESS,
            str(DAPHNE_PORT),
            "1",
            str(static_root),
            f"{SITE_ADDRESS}:443 ssl",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rendered = rendered.replace(f"/etc/letsencrypt/live/{SITE_ADDRESS}/fullchain.pem", str(cert))
    rendered = rendered.replace(f"/etc/letsencrypt/live/{SITE_ADDRESS}/privkey.pem", str(key))
    rendered = rendered.replace("/var/log/nginx/alienmeet.access.log", str(directory / "access.log"))
    nginx_dir = directory / "nginx"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nginx_dir / name).mkdir(parents=True, exist_ok=True)
    config = nginx_dir / "nginx.conf"
    config.write_text(NGINX_MAIN.format(tmp=nginx_dir, site=rendered))
    nginx = lab.start(
        lab.site,
        [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(config), "-p", str(nginx_dir)],
        directory / "nginx.out",
    )
    url = f"https://{SITE_ADDRESS}"
    wait_for(lambda: answers(lab.site, f"{url}/healthz"), 15, "nginx in the lab")
    return Site(url, daphne, nginx, log)
