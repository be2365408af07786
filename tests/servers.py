"""Real server processes for tests: the production ASGI server on loopback, sharing Redis and one database.

The server is the one production runs (``alienmeet_site.serve.DEFAULT_SERVER``) unless
``ALIENMEET_TEST_SERVER`` names another (daphne, uvicorn or granian), so the tests that start
real processes can be run against each:

    ALIENMEET_TEST_SERVER=daphne .venv/bin/python -m pytest tests/test_production.py
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from alienmeet_site.serve import DEFAULT_SERVER, SERVERS

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not met within {timeout}s")


def server_env(tmp_dir: Path, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "alienmeet_site.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "0",
            "DJANGO_SECRET_KEY": "test-servers-key",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The protocol clients present the port-less origin of a page on 127.0.0.1, as a
            # deployment lists its public origin; browsers present the server's own origin.
            "DJANGO_CSRF_TRUSTED_ORIGINS": "http://127.0.0.1",
            # Every test client comes from 127.0.0.1; tests of the per-address limits set their own.
            "MEET_ADDRESS_MAX_CONNECTIONS": "0",
            "MEET_ADDRESS_CONNECTS_PER_MINUTE": "0",
            "DATABASE_URL": f"sqlite:///{tmp_dir / 'servers.sqlite3'}",
            # Never a manifest left in the work tree by an earlier `collectstatic`: see collect_static().
            "DJANGO_STATIC_ROOT": str(tmp_dir / "static"),
            "PYTHONUNBUFFERED": "1",
            # Proofs of work the Python test clients solve in a blink, however many connections they open.
            "MEET_POW_MAX_NUMBER": "1000",
            "MEET_POW_BUSY_MAX_NUMBER": "2000",
            **extra,
        }
    )
    return environ


def _manage(environ: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=environ, check=True, timeout=120)


# Migrating a fresh SQLite database and collecting the static tree take about 8 s together, and some
# fifty servers are started in a run; both results depend only on the code, so each test process
# makes them once (in a folder of its own, removed when it exits) and every later server gets a copy.
_made_once = Path(tempfile.mkdtemp(prefix="alienmeet-tests-"))
atexit.register(shutil.rmtree, _made_once, ignore_errors=True)
_SQLITE = "sqlite:///"


def migrate(environ: dict[str, str]) -> None:
    """The environment's database, migrated. A new SQLite file is a copy of one migrated once per
    test process; any other database (PostgreSQL) is migrated for real."""
    url = environ.get("DATABASE_URL", "")
    target = Path(url.removeprefix(_SQLITE)) if url.startswith(_SQLITE) else None
    if target is None or target.exists():
        _manage(environ, "migrate", "--no-input", "-v0")
        return
    template = _made_once / "migrated.sqlite3"
    if not template.exists():
        _manage({**environ, "DATABASE_URL": f"{_SQLITE}{template}"}, "migrate", "--no-input", "-v0")
    shutil.copyfile(template, target)


def collect_static(environ: dict[str, str]) -> None:
    """Hashed, compressed static files at the environment's STATIC_ROOT, as a deployment has them: a
    link to the tree collected once per test process (servers only read it)."""
    target = Path(environ["DJANGO_STATIC_ROOT"])
    collected = _made_once / "static"
    if not (collected / "staticfiles.json").exists():
        _manage({**environ, "DJANGO_STATIC_ROOT": str(collected)}, "collectstatic", "--no-input", "-v0")
    if target.is_symlink() or target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(collected, target_is_directory=True)


def server_under_test() -> str:
    """The ASGI server the tests start: ALIENMEET_TEST_SERVER, else the one production runs."""
    name = os.environ.get("ALIENMEET_TEST_SERVER") or DEFAULT_SERVER
    if name not in SERVERS:
        raise ValueError(f"ALIENMEET_TEST_SERVER={name!r}: one of {', '.join(SERVERS)}")
    return name


# A server's first request builds what the process keeps (the middleware chain, WhiteNoise's index
# of the static tree): 1.7 s of it was seen on a busy machine. A probe that gave up after 1 s and
# asked again piled request on request, each slower for the others (eight were in flight when one
# start missed its 30 s), so a probe waits for its answer; refused connections still come back at once.
FIRST_ANSWER_SECONDS = 30
START_SECONDS = 60


class PortTaken(Exception):
    """The server could not bind its port: something else took it after free_port() found it free."""


class Server:
    """One ASGI server process serving the site on a loopback port, started as production starts it
    (``alienmeet_site/serve.py``: no access log, pings, a short closing handshake).

    ``ping_interval`` and ``ping_timeout`` default to daphne's own defaults (20 s and 30 s), long
    enough that no test's socket is closed by them unless it asks."""

    def __init__(
        self,
        environ: dict[str, str],
        log_path: Path,
        port: int | None = None,
        server: str | None = None,
        ping_interval: float = 20,
        ping_timeout: float = 30,
    ) -> None:
        self.environ = environ
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.server = server or server_under_test()
        self.options = ["--ping-interval", str(ping_interval), "--ping-timeout", str(ping_timeout)]
        self.last_probe = "not asked yet"
        # free_port() only finds a port that was free a moment ago: another worker's server, or any
        # process's outgoing connection, may take it before ours binds. Then another port is tried.
        for attempt in range(3):
            self.port = port or free_port()
            self.log.flush()
            self.log_start = log_path.stat().st_size  # where this attempt's lines begin
            command = ["-m", "alienmeet_site.serve", "--server", self.server, "--port", str(self.port), *self.options]
            self.process = subprocess.Popen(
                [sys.executable, *command],
                cwd=ROOT,
                env=environ,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until(self._answers, START_SECONDS, what=f"{self.server} on port {self.port}")
                return
            except PortTaken:
                if port or attempt == 2:
                    self.log.close()
                    raise
            except TimeoutError as error:
                self.stop()  # never left running behind a failed start
                raise TimeoutError(
                    f"{error}; last answer: {self.last_probe}; exit status {self.process.returncode}; "
                    f"end of its log:\n{self.log_text()[-4000:]}"
                ) from None
            except BaseException:
                self.stop()
                raise

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/meet/"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            log = self.log_text(since=self.log_start)
            if "address already in use" in log.lower():
                raise PortTaken(f"port {self.port} was taken before the {self.server} server could bind it")
            raise RuntimeError(f"server exited early (status {self.process.returncode}); log:\n{log[-4000:]}")
        try:
            with urllib.request.urlopen(f"{self.http_url}/articles/feed/", timeout=FIRST_ANSWER_SECONDS) as response:
                self.last_probe = f"HTTP {response.status}"
                return response.status == 200
        except OSError as error:
            self.last_probe = repr(error)
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def log_text(self, since: int = 0) -> str:
        """The server's log, from byte ``since`` on (where a start's attempt began)."""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_bytes()[since:].decode(errors="replace")


@contextlib.contextmanager
def servers(count: int, environ: dict[str, str], log_dir: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for index in range(count):
            started.append(Server(environ, log_dir / f"server-{index}.log"))
        yield started
    finally:
        for server in started:
            server.stop()
