"""A small internet inside this machine: network namespaces, veth pairs and nftables.

Layout (all addresses are documentation or private ranges; nothing is wired to a real interface):

    site  203.0.113.10  nginx (TLS on 443) in front of daphne, as in production
    turn  203.0.113.20  coturn: STUN/TURN on 3478 (UDP and TCP), TURN over TLS on 443
    inet  203.0.113.1 / 198.51.100.1  the "internet": one bridge, routes only between the two ranges
    home N: a router with 198.51.100.(10+N) on the internet side and 10.0.N.1 inside,
            and a host with 10.0.N.2 behind it, where a browser runs

The namespaces have no route out of the lab, so a packet to any other address is dropped at "inet".
Every namespace's name starts with ``amlab-<pid>n<count>-``: a lab whose process died is found and
removed by the next one (``remove_leftovers``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "amlab-"
PUBLIC_GATEWAY = "203.0.113.1"
ISP_GATEWAY = "198.51.100.1"
SITE_ADDRESS = "203.0.113.10"
TURN_ADDRESS = "203.0.113.20"
LAB_NETWORKS = ("203.0.113.0/24", "198.51.100.0/24")

# How a home's router treats traffic. Linux masquerade keeps the inside port when it is free and maps
# one inside socket to one outside port whatever the destination (endpoint-independent mapping);
# inbound packets pass only on a flow the inside opened (address-and-port-dependent filtering).
ENDPOINT_INDEPENDENT = "endpoint-independent"
# "random" derives the outside port from the destination too: a new mapping per destination.
SYMMETRIC = "symmetric"
# A strict office: no UDP at all, TCP only to port 443.
OFFICE = "office-tcp-443"
NAT_KINDS = (ENDPOINT_INDEPENDENT, SYMMETRIC, OFFICE)


class LabError(RuntimeError):
    pass


def run(*args: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def in_ns(namespace: str, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    command = ["ip", "netns", "exec", namespace, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False, input=stdin)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def namespaces() -> list[str]:
    listing = run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def remove_namespace(name: str) -> None:
    """Kill whatever still runs in the namespace, then delete it (its veths go with it)."""
    pids = run("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    run("ip", "netns", "del", name, check=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> list[str]:
    """Remove the namespaces of labs whose process is gone (a crashed or killed test run).

    A lab's namespaces are named ``amlab-<pid>n<count>-<role>``; those of a live process stay.
    """
    removed = []
    for name in namespaces():
        if not name.startswith(PREFIX):
            continue
        owner = re.match(r"\d+", name[len(PREFIX) :])
        if owner is None or _pid_alive(int(owner.group())):
            continue
        remove_namespace(name)
        removed.append(name)
    return removed


def unavailable_reason() -> str | None:
    """Why this machine cannot build the lab, or None when it can."""
    for tool in ("ip", "nft", "conntrack", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian packages iproute2, nftables, conntrack, curl)"
    if os.geteuid() != 0:
        return "creating network namespaces needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        made = run("ip", "netns", "add", probe, check=False)
        if made.returncode != 0:
            return f"cannot create a network namespace: {made.stderr.strip()}"
        nft = in_ns(probe, "nft", "list", "ruleset", check=False)
        if nft.returncode != 0:
            return f"nftables does not work in a namespace: {nft.stderr.strip()}"
    finally:
        run("ip", "netns", "del", probe, check=False)
    return None


def router_rules(kind: str, snat_to: str | None = None) -> str:
    """The nftables ruleset of a home's router: NAT on "wan", and what may come in or go out."""
    if kind not in NAT_KINDS:
        raise ValueError(f"unknown NAT kind {kind!r}")
    if snat_to:
        nat = f'oifname "wan" snat ip to {snat_to}'
    elif kind == SYMMETRIC:
        nat = 'oifname "wan" masquerade random'
    else:
        nat = 'oifname "wan" masquerade'
    outbound = 'iifname "lan" accept'
    if kind == OFFICE:
        outbound = 'iifname "lan" tcp dport 443 accept'
    return f"""
table ip labnat {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        {nat}
    }}
}}
table inet labfilter {{
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        {outbound}
    }}
    # Unsolicited packets to the router itself are dropped before their conntrack entry is confirmed:
    # such an entry would take the outside port a hole-punching peer is about to use.
    chain input {{
        type filter hook input priority filter; policy accept;
        iifname "wan" ct state established,related accept
        iifname "wan" drop
    }}
}}
"""


_lab_numbers = itertools.count(1)


@dataclass
class Home:
    """A private network behind a router; the browser runs in ``namespace``."""

    index: int
    kind: str
    namespace: str
    router: str
    wan_address: str
    address: str
    old_wan_addresses: list[str] = field(default_factory=list)


@dataclass
class Lab:
    """One lab's namespaces; ``build`` makes the internet, ``add_home`` a home, ``destroy`` removes all."""

    # The owner's process id first (see remove_leftovers), then a count: one process may run several labs.
    tag: str = field(default_factory=lambda: f"{os.getpid()}n{next(_lab_numbers)}")
    homes: dict[str, Home] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    made: list[str] = field(default_factory=list)

    def ns(self, role: str) -> str:
        return f"{PREFIX}{self.tag}-{role}"

    @property
    def inet(self) -> str:
        return self.ns("inet")

    @property
    def site(self) -> str:
        return self.ns("site")

    @property
    def turn(self) -> str:
        return self.ns("turn")

    def _add_ns(self, role: str) -> str:
        name = self.ns(role)
        run("ip", "netns", "add", name)
        self.made.append(name)
        in_ns(name, "ip", "link", "set", "lo", "up")
        return name

    def _wire(self, a: str, a_if: str, b: str, b_if: str) -> None:
        # Both ends are created straight inside their namespaces: nothing ever appears in the root one.
        run("ip", "link", "add", a_if, "netns", a, "type", "veth", "peer", "name", b_if, "netns", b)
        in_ns(a, "ip", "link", "set", a_if, "up")
        in_ns(b, "ip", "link", "set", b_if, "up")

    def build(self) -> None:
        remove_leftovers()
        inet = self._add_ns("inet")
        in_ns(inet, "ip", "link", "add", "pub", "type", "bridge")
        in_ns(inet, "ip", "link", "set", "pub", "up")
        in_ns(inet, "ip", "addr", "add", f"{PUBLIC_GATEWAY}/24", "dev", "pub")
        in_ns(inet, "ip", "addr", "add", f"{ISP_GATEWAY}/24", "dev", "pub")
        in_ns(inet, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for role, address in (("site", SITE_ADDRESS), ("turn", TURN_ADDRESS)):
            name = self._add_ns(role)
            self._wire(name, "eth0", inet, f"p-{role}")
            in_ns(inet, "ip", "link", "set", f"p-{role}", "master", "pub")
            in_ns(name, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
            in_ns(name, "ip", "route", "add", "default", "via", PUBLIC_GATEWAY)

    def add_home(self, label: str, kind: str) -> Home:
        index = len(self.homes) + 1
        router = self._add_ns(f"r{index}")
        host = self._add_ns(f"h{index}")
        wan = f"198.51.100.{10 + index}"
        self._wire(router, "wan", self.inet, f"p-r{index}")
        in_ns(self.inet, "ip", "link", "set", f"p-r{index}", "master", "pub")
        in_ns(router, "ip", "addr", "add", f"{wan}/24", "dev", "wan")
        in_ns(router, "ip", "route", "add", "default", "via", ISP_GATEWAY)
        self._wire(router, "lan", host, "eth0")
        in_ns(router, "ip", "addr", "add", f"10.0.{index}.1/24", "dev", "lan")
        in_ns(host, "ip", "addr", "add", f"10.0.{index}.2/24", "dev", "eth0")
        in_ns(host, "ip", "route", "add", "default", "via", f"10.0.{index}.1")
        in_ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        in_ns(router, "nft", "-f", "-", stdin=router_rules(kind))
        home = Home(index, kind, host, router, wan, f"10.0.{index}.2")
        self.homes[label] = home
        return home

    def renumber(self, label: str, keep_tcp_to: str | None = None) -> str:
        """The home's public address changes: every flow leaves from a new address from now on.

        Every mapping the router held is forgotten (the old flows die, as when an uplink reconnects),
        except TCP connections to ``keep_tcp_to``: the signaling WebSocket, for a change that only
        the call's own paths notice.
        """
        home = self.homes[label]
        new = f"198.51.100.{110 + home.index + 10 * len(home.old_wan_addresses)}"
        in_ns(home.router, "ip", "addr", "add", f"{new}/24", "dev", "wan")
        in_ns(home.router, "nft", "flush", "ruleset")
        in_ns(home.router, "nft", "-f", "-", stdin=router_rules(home.kind, snat_to=new))
        # conntrack -D exits 1 when nothing matched.
        in_ns(home.router, "conntrack", "-D", "-p", "udp", check=False)
        flows = in_ns(home.router, "conntrack", "-L", "-p", "tcp", check=False).stdout
        destinations = set()
        for line in flows.splitlines():
            original_destination = next((f[4:] for f in line.split() if f.startswith("dst=")), None)
            if original_destination:
                destinations.add(original_destination)
        for destination in destinations - {keep_tcp_to}:
            in_ns(home.router, "conntrack", "-D", "-p", "tcp", "--orig-dst", destination, check=False)
        home.old_wan_addresses.append(home.wan_address)
        home.wan_address = new
        return new

    def udp_flows(self, label: str) -> str:
        """The UDP mappings the home's router holds now, as conntrack lists them (for a failure's report)."""
        return in_ns(self.homes[label].router, "conntrack", "-L", "-p", "udp", check=False).stdout

    def block_all_input(self, namespace: str) -> None:
        """Nothing reaches this namespace any more (a relay that is down)."""
        rules = "table inet labdown {\n chain input {\n  type filter hook input priority filter; policy drop;\n }\n}\n"
        in_ns(namespace, "nft", "-f", "-", stdin=rules)

    def unblock_input(self, namespace: str) -> None:
        in_ns(namespace, "nft", "delete", "table", "inet", "labdown", check=False)

    def start(
        self, namespace: str, args: list[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", namespace, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=Path(__file__).resolve().parents[2],
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def destroy(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self.stop(process)
        self.processes.clear()
        for name in reversed(self.made):
            remove_namespace(name)
        self.made.clear()
        self.homes.clear()

    def chromium_wrapper(self, home: Home, directory: Path, chromium: str = "/usr/bin/chromium") -> Path:
        """A script that runs Chromium inside the home; Playwright speaks to it over a pipe."""
        path = directory / f"chromium-{home.namespace}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {home.namespace} {chromium} "$@"\n')
        path.chmod(0o755)
        return path


@contextlib.contextmanager
def built_lab(homes: dict[str, str]) -> Iterator[Lab]:
    """A lab with these homes (label: NAT kind), removed afterwards, also when building failed
    half-way: every namespace made so far goes."""
    lab = Lab()
    try:
        lab.build()
        for label, kind in homes.items():
            lab.add_home(label, kind)
        yield lab
    finally:
        lab.destroy()


def wait_for(condition, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise LabError(f"{what}: not ready within {timeout:.0f} s")
