"""The lab itself, without browsers: it is sealed off, its NATs behave as named, and it leaves nothing behind."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require
from tests.netlab.lab import (
    ENDPOINT_INDEPENDENT,
    OFFICE,
    PREFIX,
    SITE_ADDRESS,
    SYMMETRIC,
    TURN_ADDRESS,
    Lab,
    built_lab,
    in_ns,
    namespaces,
    remove_leftovers,
    run,
    unavailable_reason,
    wait_for,
)

pytestmark = pytest.mark.netlab

ECHO_PORT = 40000
# Answers each datagram with the address and port it came from, as the outside world sees them.
UDP_ECHO = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {ECHO_PORT}))
while True:
    data, peer = s.recvfrom(100)
    s.sendto(f"{{peer[0]}}:{{peer[1]}}".encode(), peer)
"""
# From one socket, ask both servers which address and port they saw.
UDP_ASK_BOTH = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
s.settimeout(1)
seen = []
for server in ({SITE_ADDRESS!r}, {TURN_ADDRESS!r}):
    try:
        s.sendto(b"?", (server, {ECHO_PORT}))
        seen.append(s.recv(100).decode())
    except OSError:
        seen.append("-")
print(" ".join(seen))
"""


@pytest.fixture(scope="module")
def bare_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = unavailable_reason()
    require(reason is None, f"the network lab ({reason})")
    with built_lab({kind: kind for kind in (ENDPOINT_INDEPENDENT, SYMMETRIC, OFFICE)}) as lab:
        log = tmp_path_factory.mktemp("echo") / "echo.log"
        for namespace in (lab.site, lab.turn):
            lab.start(namespace, [sys.executable, "-c", UDP_ECHO], log)
        yield lab


def seen_from(lab: Lab, kind: str) -> list[str]:
    def answered() -> bool:
        return "-" not in in_ns(lab.homes[kind].namespace, sys.executable, "-c", UDP_ASK_BOTH).stdout.split()

    if kind != OFFICE:
        wait_for(answered, 10, "UDP echo servers")
    return in_ns(lab.homes[kind].namespace, sys.executable, "-c", UDP_ASK_BOTH).stdout.split()


def test_endpoint_independent_nat_keeps_one_mapping_for_every_destination(bare_lab):
    home = bare_lab.homes[ENDPOINT_INDEPENDENT]
    first, second = seen_from(bare_lab, ENDPOINT_INDEPENDENT)
    assert first == second
    assert first.split(":")[0] == home.wan_address


def test_symmetric_nat_maps_each_destination_to_another_port(bare_lab):
    home = bare_lab.homes[SYMMETRIC]
    first, second = seen_from(bare_lab, SYMMETRIC)
    assert first.split(":")[0] == second.split(":")[0] == home.wan_address
    assert first.split(":")[1] != second.split(":")[1]


def test_office_drops_udp_and_allows_only_tcp_443(bare_lab):
    home = bare_lab.homes[OFFICE]
    assert seen_from(bare_lab, OFFICE) == ["-", "-"]
    # Nothing listens on the site in this module: 443 is refused by the site (it got through), 80 is
    # dropped by the office router (it times out).
    through = in_ns(home.namespace, "curl", "-s", "--max-time", "2", f"http://{SITE_ADDRESS}:443/", check=False)
    dropped = in_ns(home.namespace, "curl", "-s", "--max-time", "2", f"http://{SITE_ADDRESS}:80/", check=False)
    assert through.returncode == 7  # connection refused
    assert dropped.returncode == 28  # timed out


def test_nothing_leaves_the_lab(bare_lab):
    home = bare_lab.homes[ENDPOINT_INDEPENDENT]
    # No default route at the lab's edge: a packet to any other address has nowhere to go.
    routes = in_ns(bare_lab.inet, "ip", "-4", "route", "show").stdout
    assert "default" not in routes
    assert in_ns(bare_lab.inet, "ip", "route", "get", "192.0.2.1", check=False).returncode != 0
    probe = in_ns(home.namespace, "curl", "-s", "--max-time", "2", "http://192.0.2.1/", check=False)
    assert probe.returncode != 0
    # The lab's links live only in its own namespaces: the root namespace has none of them.
    root_links = run("ip", "-o", "link", "show").stdout
    assert "p-r1" not in root_links and "wan" not in root_links.split()


def test_leftovers_of_a_crashed_run_are_removed():
    reason = unavailable_reason()
    require(reason is None, f"the network lab ({reason})")
    # A lab namespace named after a process that no longer exists.
    dead = f"{PREFIX}999999999n1-inet"
    run("ip", "netns", "add", dead)
    try:
        assert dead in remove_leftovers()
        assert dead not in namespaces()
    finally:
        run("ip", "netns", "del", dead, check=False)


def test_destroy_removes_every_namespace_even_after_a_failed_build(tmp_path: Path):
    reason = unavailable_reason()
    require(reason is None, f"the network lab ({reason})")
    lab = Lab()
    lab.build()
    with pytest.raises(ValueError):
        lab.add_home("broken", "no-such-nat")
    lab.destroy()
    assert not [name for name in namespaces() if name.startswith(lab.ns(""))]
