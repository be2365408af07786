"""The TURN server's per-address limits (deploy/nftables-turn.nft) hold on a real kernel.

coturn counts only per username, and a username is one call: the firewall is what stops one
address from opening relays without end. Here the shipped ruleset guards the lab's TURN host,
where plain listeners stand in for coturn on its ports, and two homes' routers knock on it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require
from tests.netlab.lab import ENDPOINT_INDEPENDENT, TURN_ADDRESS, Lab, built_lab, in_ns, unavailable_reason, wait_for

pytestmark = pytest.mark.netlab

RULES = Path(__file__).resolve().parents[2] / "deploy" / "nftables-turn.nft"
TURN_PORT = 3478

# Stands in for coturn: holds every TCP connection open and answers every datagram.
LISTENERS = f"""
import socket, threading
tcp = socket.socket()
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", {TURN_PORT}))
tcp.listen(200)
held = []
def accept():
    while True:
        held.append(tcp.accept()[0])
threading.Thread(target=accept, daemon=True).start()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", {TURN_PORT}))
while True:
    data, peer = udp.recvfrom(100)
    udp.sendto(data, peer)
"""

# Opens `count` TCP connections, all kept open, and prints how many were let in.
TCP_KNOCK = """
import json, socket, sys
count, address, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
kept, refused = [], 0
for _ in range(count):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((address, port))
        kept.append(s)
    except OSError:
        refused += 1
print(json.dumps({"open": len(kept), "refused": refused}))
"""

# Sends one datagram from each of `count` new sockets (a new flow each), `pace` seconds apart,
# keeps them all open, and prints how many were answered.
UDP_KNOCK = """
import json, socket, sys, time
count, address, port, pace = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sockets = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.setblocking(False)
    s.sendto(b"allocate", (address, port))
    sockets.append(s)
    time.sleep(pace)
answered = set()
deadline = time.monotonic() + 2
while time.monotonic() < deadline:
    for index, s in enumerate(sockets):
        try:
            if s.recv(100):
                answered.add(index)
        except BlockingIOError:
            pass
    time.sleep(0.02)
print(json.dumps({"answered": len(answered)}))
"""


def limit(pattern: str) -> int:
    """A number from the shipped ruleset, so the test follows the file rather than restating it."""
    found = re.search(pattern, RULES.read_text())
    assert found, pattern
    return int(found.group(1))


@pytest.fixture(scope="module")
def guarded_turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = unavailable_reason()
    require(reason is None, f"the network lab ({reason})")
    with built_lab({label: ENDPOINT_INDEPENDENT for label in ("first", "second", "third")}) as lab:
        in_ns(lab.turn, "nft", "-f", str(RULES))
        lab.start(lab.turn, [sys.executable, "-c", LISTENERS], tmp_path_factory.mktemp("turn") / "listeners.log")

        def listening() -> bool:
            return "LISTEN" in in_ns(lab.turn, "ss", "-ltn", f"sport = :{TURN_PORT}").stdout

        wait_for(listening, 10, "the stand-in listeners")
        yield lab


def knock(lab: Lab, home: str, script: str, *args: object) -> dict[str, int]:
    # From the home's router: its own public address is the one the TURN host sees.
    result = in_ns(lab.homes[home].router, sys.executable, "-c", script, *(str(arg) for arg in args))
    return json.loads(result.stdout)


def test_one_address_opens_only_so_many_tcp_connections(guarded_turn):
    most = limit(r"ip saddr ct count over (\d+) \} reject with tcp reset")
    seen = knock(guarded_turn, "first", TCP_KNOCK, most + 5, TURN_ADDRESS, TURN_PORT)
    assert seen == {"open": most, "refused": 5}
    # The limit is per address: another home is not held back by the first one's connections.
    assert knock(guarded_turn, "second", TCP_KNOCK, 3, TURN_ADDRESS, TURN_PORT) == {"open": 3, "refused": 0}


def test_one_address_opens_only_so_many_udp_flows_at_once(guarded_turn):
    most = limit(r"udp dport \d+ ct state new add @udpopen4 \{ ip saddr ct count over (\d+) \}")
    per_second = limit(r"udp dport \d+ ct state new update @udp4 \{ ip saddr limit rate over (\d+)/second")
    # Paced under the rate limit, so only the cap on open flows can turn any away.
    seen = knock(guarded_turn, "third", UDP_KNOCK, most + 10, TURN_ADDRESS, TURN_PORT, 1.5 / per_second)
    assert seen == {"answered": most}


def test_a_burst_of_new_udp_flows_is_cut_to_the_rate(guarded_turn):
    burst = limit(r"limit rate over \d+/second burst (\d+) packets \} drop")
    seen = knock(guarded_turn, "second", UDP_KNOCK, burst + 15, TURN_ADDRESS, TURN_PORT, 0)
    # The bucket refills while the burst is sent, so a flow or two more may pass, never all.
    assert burst <= seen["answered"] <= burst + 3, seen
