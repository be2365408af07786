"""A real coturn on loopback for tests, configured from deploy/turnserver.conf.

The production file is used as it is, except for what only a machine in production has
(its addresses, ports, certificate and secret file) and the ban on relaying to loopback
peers, which a test on one machine needs lifted. The TLS certificate is made at test time.
"""

from __future__ import annotations

import random
import secrets
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conftest import require
from tests.servers import ROOT, free_port, wait_until

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


def make_certificate(
    directory: Path, addresses: tuple[str, ...] = ("127.0.0.1",), name: str = "turn"
) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for these IP addresses, valid for a day."""
    certificate, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={addresses[0]}",
            "-addext",
            "subjectAltName=" + ",".join(f"IP:{address}" for address in addresses),
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


def stun_answers(port: int) -> bool:
    """Send a STUN Binding request; True once a Binding success response comes back."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.sendto(request, ("127.0.0.1", port))
            response, _ = sock.recvfrom(2048)
        except OSError:
            return False
    return response[:2] == b"\x01\x01" and response[8:20] == transaction


def accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def coturn(tmp_dir: Path) -> Iterator[Coturn]:
    binary = shutil.which("turnserver")
    require(binary is not None, "coturn's turnserver (Debian package coturn)")
    require(shutil.which("openssl") is not None, "openssl (Debian package openssl)")
    keys, run = tmp_dir / "keys", tmp_dir / "run"
    keys.mkdir()
    run.mkdir()
    certificate, key = make_certificate(keys)
    port, tls_port, secret = free_port(), free_port(), secrets.token_hex(16)
    # Relay ports of their own, so that two test runs on one machine rarely meet.
    low = random.randrange(50000, 64000, 200)
    config = keys / "turnserver.conf"
    config.write_text(
        "\n".join(
            [
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
                "",
            ]
        )
    )
    output = keys / "output.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen([binary, "-c", str(config)], cwd=run, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: stun_answers(port), 15, interval=0.2, what="coturn answering STUN")
        wait_until(lambda: accepts_tcp(tls_port), 15, interval=0.2, what="coturn's TLS listener")
        yield Coturn(port, tls_port, secret, certificate, output, run)
    finally:
        process.terminate()
        process.wait(timeout=10)
