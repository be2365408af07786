"""TURN against a real coturn configured like production: credentials as visitors get them,
over UDP, TCP and TLS, refused once expired, and no relaying of TCP."""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import time

import pytest

from conftest import require
from tests.servers import ROOT, wait_until
from tests.turn.coturn import Coturn, coturn
from turn.client import TCP_PROTOCOL, TurnUrl, allocate, parse_turn_url
from turn.credentials import turn_credential

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    with coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


def _tls(server: Coturn) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.certificate))


def test_credential_works_over_udp_tcp_and_tls_until_it_expires(turn):
    """What coturn guarantees: a new allocation is refused once coturn's own clock, in whole seconds,
    is past the expiry in the username (it refuses when expiry < time(NULL), so the expiry second itself
    is still good), and every transport is checked alike.

    The test used to ask at the first instant after expiry + 1 s, the very boundary of that rule, and
    coturn's time(NULL) reads the kernel's coarse clock, which turns over to a new second a tick (up to
    a few milliseconds here, more on a loaded or virtual machine) after the clock Python reads: a UDP
    allocation that arrived within that tick was still inside the expiry second and got "ok". Not a
    reused 5-tuple: every allocate() opens a fresh socket and releases its allocation, and coturn
    refuses an expired credential even from the same source port once the allocation is released.
    So the refusal is asked for one whole second past the boundary, where no clock skew reaches.
    """
    # Room for three allocations (one of them a TLS handshake) on a loaded machine before the expiry.
    ttl = 5
    started = time.monotonic()
    username, password = turn_credential(turn.secret, "lifetime-check", ttl=ttl)
    expiry = int(username.split(":")[0])
    for url in turn.urls().values():
        answer = allocate(url, username, password, tls=_tls(turn))
        assert answer == "ok", f"{url}: {answer} after {time.monotonic() - started:.1f} s of a {ttl} s credential"
    wait_until(lambda: time.time() >= expiry + 2, ttl + 5, what="one second past the credential's last second")
    for url in turn.urls().values():
        answer = allocate(url, username, password, tls=_tls(turn))
        assert answer.startswith("error 401"), f"{url}: {answer}"


def test_credential_from_another_secret_is_refused(turn):
    username, password = turn_credential("not-the-secret", "forged", ttl=300)
    assert allocate(turn.urls()["udp"], username, password).startswith("error 401")


def test_tls_listener_presents_the_certificate(turn):
    username, password = turn_credential(turn.secret, "tls-check", ttl=300)
    # Without the test certificate as a trusted root, the handshake is refused, as a browser would.
    with pytest.raises(ssl.SSLCertVerificationError):
        allocate(turn.urls()["tls"], username, password)


def test_no_tcp_relay(turn):
    username, password = turn_credential(turn.secret, "tcp-relay", ttl=300)
    answer = allocate(turn.urls()["tcp"], username, password, relay_protocol=TCP_PROTOCOL)
    assert answer.startswith("error 442"), answer


def test_coturn_writes_no_address_and_no_credential(turn):
    username, password = turn_credential(turn.secret, "log-check-label", ttl=300)
    for url in turn.urls().values():
        assert allocate(url, username, password, tls=_tls(turn)) == "ok"
    written = turn.written()
    for secret in ("127.0.0.1", "log-check-label", "lifetime-check", username):
        assert secret not in written, f"coturn wrote {secret!r}"


def test_per_address_firewall_rules_load():
    nft = shutil.which("nft")
    require(nft is not None and shutil.which("unshare") is not None, "nftables (Debian package nftables)")
    # Checked by the kernel in a network namespace of its own, so nothing on this machine changes.
    result = subprocess.run(
        ["unshare", "--net", nft, "-c", "-f", str(ROOT / "deploy" / "nftables-turn.nft")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_production_urls_match_the_listeners():
    """The README's TURN_URLS offer UDP, TCP and TLS, on the ports deploy/turnserver.conf listens on."""
    readme = (ROOT / "README.md").read_text()
    offered = re.search(r"`TURN_URLS=([^`]+)`", readme).group(1).split(",")
    conf = dict(
        line.split("=", 1) for line in (ROOT / "deploy" / "turnserver.conf").read_text().splitlines() if "=" in line
    )
    ports = {
        "udp": int(conf["listening-port"]),
        "tcp": int(conf["listening-port"]),
        "tls": int(conf["tls-listening-port"]),
    }
    found = {}
    for url in offered:
        target = parse_turn_url(url)
        found["tls" if target.secure else target.transport] = target.port
    assert found == ports


def test_turn_urls_are_read_as_rfc_7065_says():
    assert parse_turn_url("turn:relay.example") == TurnUrl(False, "relay.example", 3478, "udp")
    assert parse_turn_url("turns:relay.example") == TurnUrl(True, "relay.example", 5349, "tcp")
    assert parse_turn_url("turn:[2001:db8::1]:3479?transport=tcp") == TurnUrl(False, "2001:db8::1", 3479, "tcp")
    for bad in ("stun:relay.example", "turn:", "turns:relay.example?transport=udp", "turn:relay.example:0"):
        with pytest.raises(ValueError):
            parse_turn_url(bad)
