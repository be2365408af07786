"""A real coturn on loopback for tests, configured from deploy/turnserver.conf.

The production file is used as it is, except for what only a machine in production has
(its addresses, ports, certificate and secret file) and the ban on relaying to loopback
peers, which a test on one machine needs lifted. The TLS certificate is made at test time.
"""

from __future__ import annotations

import functools
import random
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import ROOT, free_port
from tests.services import make_certificate, spawn_here, start_coturn, stop, stun_answers

DEPLOY_CONF = ROOT / "deploy" / "turnserver.conf"
# Settings that describe the production machine; the test machine brings its own.
MACHINE_SETTINGS = (
    "listening-ip",
    "listening-port",
    "tls-listening-port",
    "realm",
    "include-file",
    "cert",
    "pkey",
    "min-port",
    "max-port",
    "pidfile",
)
LOOPBACK_BANS = ("denied-peer-ip=127.", "denied-peer-ip=::1")


@dataclass
class Coturn:
    port: int  # TURN over UDP and TCP
    tls_port: int
    secret: str
    certificate: Path
    output: Path  # everything the process wrote to stdout and stderr
    directory: Path  # its working directory: where a stray log file would land

    def urls(self) -> dict[str, str]:
        return {
            "udp": f"turn:127.0.0.1:{self.port}?transport=udp",
            "tcp": f"turn:127.0.0.1:{self.port}?transport=tcp",
            "tls": f"turns:127.0.0.1:{self.tls_port}?transport=tcp",
        }

    def written(self) -> str:
        """All the text coturn left behind: its output and any file it created."""
        files = [self.output, *(path for path in self.directory.rglob("*") if path.is_file())]
        texts = [path.read_text(errors="replace") for path in files]
        return "\n".join(texts)


def production_settings() -> list[str]:
    lines = []
    for line in DEPLOY_CONF.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.split("=", 1)[0] in MACHINE_SETTINGS or line.startswith(LOOPBACK_BANS):
            continue
        lines.append(line)
    return lines


def accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def coturn(tmp_dir: Path) -> Iterator[Coturn]:
    keys, run = tmp_dir / "keys", tmp_dir / "run"
    keys.mkdir()
    run.mkdir()
    certificate, key = make_certificate(keys)
    port, tls_port, secret = free_port(), free_port(), secrets.token_hex(16)
    # Relay ports of their own, so that two test runs on one machine rarely meet.
    low = random.randrange(50000, 64000, 200)
    settings = [
        *production_settings(),
        "listening-ip=127.0.0.1",
        "relay-ip=127.0.0.1",
        f"listening-port={port}",
        f"tls-listening-port={tls_port}",
        "realm=alienmeet.test",
        f"static-auth-secret={secret}",
        "allow-loopback-peers",
        f"cert={certificate}",
        f"pkey={key}",
        f"min-port={low}",
        f"max-port={low + 199}",
        f"pidfile={keys / 'turnserver.pid'}",
    ]
    ready = [
        (functools.partial(stun_answers, "127.0.0.1", port), "coturn answering STUN"),
        (functools.partial(accepts_tcp, tls_port), "coturn's TLS listener"),
    ]
    # Its working directory is where a stray log file would land: apart from its configuration.
    process = start_coturn(keys, settings, ready, spawn_here(run))
    try:
        yield Coturn(port, tls_port, secret, certificate, keys / "turnserver.out", run)
    finally:
        stop(process)
