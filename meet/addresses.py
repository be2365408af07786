"""Client addresses: which one to believe, and the keyed hash that is all the site ever stores of it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac

HASH_SALT = "alienmeet.meet.address-hash"


def _in(address: str, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES]


def client_ip(scope: dict[str, Any]) -> str | None:
    """The socket's peer, or the X-Forwarded-For hop just before our trusted proxies."""
    client = scope.get("client")
    peer = client[0] if client else None
    proxies = trusted_proxies()
    if peer is None or not _in(peer, proxies):
        return peer
    forwarded = [
        value.decode("latin-1") for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"
    ]
    hops = [hop.strip() for header in forwarded for hop in header.split(",") if hop.strip()]
    # Walk from the nearest hop back; the first address that is not one of our proxies is the client.
    for hop in reversed(hops):
        if not _in(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return None
    return peer


def address_hash(ip: str | None) -> str:
    """HMAC-SHA256 of the address with a key derived from SECRET_KEY; "" when unknown."""
    if not ip:
        return ""
    return salted_hmac(HASH_SALT, ip, algorithm="sha256").hexdigest()
