"""Python run against a server's own database from another process, as an operator would with
`manage.py shell -c`: a decision made outside the server, which the server must notice.

`run_once` starts Django for one command. `OperatorShell` starts it once and runs every command it
is sent: a module that runs dozens of them (the moderators' desk) saves about a second of CPU each,
on a machine whose two cores the suite's workers share.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import textwrap

from tests.servers import ROOT

# The other process's loop: one JSON line in (the code), one JSON line out (what it printed, and the
# traceback if it failed). Each command gets fresh globals, as `shell -c` would.
_LOOP = """
import contextlib, io, json, sys, traceback
import django
django.setup()
from django.db import close_old_connections
for line in sys.stdin:
    printed = io.StringIO()
    reply = {}
    try:
        with contextlib.redirect_stdout(printed):
            exec(json.loads(line), {"__name__": "__main__"})
    except BaseException:
        reply["error"] = traceback.format_exc()
    close_old_connections()
    reply["out"] = printed.getvalue()
    sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
"""


def run_once(environ: dict[str, str], code: str, timeout: float = 120) -> str:
    """`manage.py shell -c code` in a new process; returns what it printed, fails with its stderr."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def ban_from_another_process(environ: dict[str, str], address: str) -> None:
    """Staff ban the address for a day (a decision made in another process, as in the admin)."""
    run_once(
        environ,
        "from moderation.models import ReportedAddress; from moderation.decisions import decide; "
        "from moderation.addresses import address_hash; "
        f"decide(ReportedAddress.objects.create(ip_hash=address_hash({address!r})), 'ban_1', None)",
    )


class OperatorShell:
    """One process with Django set up for `environ`, running each command sent to `run`."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOOP],
            cwd=ROOT,
            env={**environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, code: str, timeout: float = 60) -> str:
        """Run `code` there; returns what it printed, fails with its traceback."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(textwrap.dedent(code)) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise AssertionError(f"the operator's shell gave no answer within {timeout:.0f} s")
        reply = json.loads(line)
        assert "error" not in reply, reply["error"]
        return reply["out"]

    def close(self) -> None:
        """Ends the process: its loop ends with its input, or it is killed if it does not."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
