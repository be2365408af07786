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
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket shows an IPv4 proxy as ::ffff:a.b.c.d
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


# An IPv6 subscriber gets a whole /64 and privacy extensions rotate the rest every few hours,
# so the /64 is what stands for one household, as the single address does in IPv4.
IPV6_HOUSEHOLD_PREFIX = 64


def address_key(ip: str | None) -> str:
    """What stands for one visitor's address: the IPv4 address, or the IPv6 /64 ("" when unknown)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:198.51.100.7 is the IPv4 visitor 198.51.100.7 seen through a dual-stack socket.
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        network = ipaddress.IPv6Network((address, IPV6_HOUSEHOLD_PREFIX), strict=False)
        return str(network)
    return str(address)


def address_hash(ip: str | None) -> str:
    """HMAC-SHA256 of the address key with a key derived from SECRET_KEY; "" when unknown."""
    key = address_key(ip)
    if not key:
        return ""
    return salted_hmac(HASH_SALT, key, algorithm="sha256").hexdigest()
