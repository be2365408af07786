"""The systemd units an operator installs from deploy/systemd."""

from __future__ import annotations

import configparser
from pathlib import Path

UNITS = Path(__file__).resolve().parent.parent / "deploy" / "systemd"


def service_section(name: str) -> configparser.SectionProxy:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read(UNITS / name)
    return unit["Service"]


def test_a_process_may_hold_far_more_sockets_than_the_default_limit():
    # One file descriptor per visitor's WebSocket; 1,024 (systemd's default) would cap a process at
    # about a thousand visitors, a twentieth of what the capacity model puts on it.
    assert int(service_section("alienmeet@.service")["LimitNOFILE"]) >= 32768


def test_a_process_is_stopped_by_sigterm_with_time_to_drain():
    service = service_section("alienmeet@.service")
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 10
