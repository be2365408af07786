"""The outside services tests start for real: a redis-server of their own, coturn, and nginx in front of
the site.

Each launcher starts its process here by default; given ``spawn`` (how to start a command, with its
output going to a file) and its own readiness check, the same launcher starts it elsewhere, as the
network lab does inside its namespaces (tests/netlab/services.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from conftest import require
from tests.servers import ROOT, free_port, wait_until

# Start a command with its output (stdout and stderr) appended to a file.
Spawn = Callable[[list[str], Path], subprocess.Popen[bytes]]


def program(name: str, package: str, fallback: str | None = None) -> str:
    """The path of an installed program; the test is skipped (failed under CI) without it."""
    path = shutil.which(name) or (fallback if fallback and Path(fallback).exists() else None)
    require(path is not None, f"{name} (Debian package {package})")
    assert path is not None
    return path


def spawn_here(cwd: Path | None = None) -> Spawn:
    """Start commands on this machine, in ``cwd`` (the repository by default)."""

    def spawn(argv: list[str], output: Path) -> subprocess.Popen[bytes]:
        with output.open("ab") as sink:
            return subprocess.Popen(argv, cwd=cwd or ROOT, stdout=sink, stderr=subprocess.STDOUT)

    return spawn


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process (resuming it first, if it was stopped), killing it if it does not end in 10 s."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGCONT)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def started(
    spawn: Spawn, argv: list[str], output: Path, ready: Sequence[tuple[Callable[[], bool], str]], timeout: float = 15
) -> subprocess.Popen[bytes]:
    """Start a command and wait for each readiness check in turn; never leaves it running when one fails."""
    process = spawn(argv, output)
    try:
        for check, what in ready:
            wait_until(check, timeout, interval=0.2, what=what)
    except BaseException:
        stop(process)
        raise
    return process


# --- redis-server


class RedisServer:
    """A redis-server of the test's own on a loopback port, without persistence. It can be stopped and
    started again on the same port, or frozen (SIGSTOP) and thawed, to play a Redis that goes away."""

    def __init__(self, directory: Path) -> None:
        self.binary = program("redis-server", "redis-server")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Start it (again) and wait until it answers PING."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.directory, stdout=subprocess.DEVNULL)
        try:
            wait_until(self.answers, 10, what="private redis")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A started ``RedisServer``, stopped at the end whatever state the test left it in."""
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- TLS certificates and coturn


def make_certificate(
    directory: Path, addresses: tuple[str, ...] = ("127.0.0.1",), name: str = "turn"
) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for these IP addresses, valid for a day: (certificate, key)."""
    require(shutil.which("openssl") is not None, "openssl (Debian package openssl)")
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


# A STUN Binding request; exits 0 once the success response to it comes back. A script rather than a
# function, so that it can run inside another network namespace too.
STUN_PROBE = """
import os, socket, struct, sys
address, port = sys.argv[1], int(sys.argv[2])
transaction = os.urandom(12)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(0.5)
    try:
        sock.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + transaction, (address, port))
        response = sock.recv(2048)
    except OSError:
        sys.exit(1)
sys.exit(0 if response[:2] == b"\\x01\\x01" and response[8:20] == transaction else 1)
"""


def stun_answers(address: str, port: int, run_in: Sequence[str] = ()) -> bool:
    """True when a STUN Binding request to address:port is answered; ``run_in`` prefixes the probe's
    command (``ip netns exec NAME`` to send it from a namespace)."""
    probe = subprocess.run(
        [*run_in, sys.executable, "-c", STUN_PROBE, address, str(port)], capture_output=True, timeout=20, check=False
    )
    return probe.returncode == 0


def start_coturn(
    directory: Path,
    settings: list[str],
    ready: Sequence[tuple[Callable[[], bool], str]],
    spawn: Spawn | None = None,
) -> subprocess.Popen[bytes]:
    """coturn with these settings (turnserver.conf lines), written to ``directory/turnserver.conf``, its
    output in ``directory/turnserver.out``; returns once every readiness check passes."""
    binary = program("turnserver", "coturn")
    config = directory / "turnserver.conf"
    config.write_text("\n".join([*settings, ""]))
    argv = [binary, "-c", str(config)]
    return started(spawn or spawn_here(), argv, directory / "turnserver.out", ready)


# --- nginx

NGINX_MAIN = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
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


def nginx_site(server_name: str, upstream_port: int, static_root: Path, listen: str, access_log: Path) -> str:
    """The site production runs (deploy/render-nginx.sh), with its access log at ``access_log``."""
    site = subprocess.run(
        [str(ROOT / "deploy" / "render-nginx.sh"), server_name, str(upstream_port), "1", str(static_root), listen],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return site.replace("/var/log/nginx/alienmeet.access.log", str(access_log))


def start_nginx(
    directory: Path, site: str, ready: Callable[[], bool], spawn: Spawn | None = None
) -> subprocess.Popen[bytes]:
    """nginx serving ``site``, with its configuration, temporary files, pid and error log
    (``nginx-error.log``) in ``directory``, its output in ``directory/nginx.out``; returns once ``ready``."""
    binary = program("nginx", "nginx-light", fallback="/usr/sbin/nginx")
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    config = directory / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    config.write_text(NGINX_MAIN.format(tmp=directory, site=site, user=user))
    argv = [binary, "-c", str(config), "-p", str(directory)]
    return started(spawn or spawn_here(), argv, directory / "nginx.out", [(ready, "nginx")])
