"""ICE servers for one call: STUN as configured, TURN with short-lived credentials.

TURN uses coturn's shared-secret scheme (``use-auth-secret``): the username is
``expiry:label`` and the password is base64(HMAC-SHA1(TURN_SECRET, username)),
so the TURN server can check a credential without asking this site. The label
is random and new for each credential, so nothing coturn sees or logs links a
relay to a signaling connection.

coturn checks a credential when an allocation is made, not while it lasts: a
call that started in time keeps its relay, so the lifetime only needs to cover
setting the call up. A fresh credential comes with every ``matched``.

Only a connection that was admitted (rules accepted, proof of work done) gets a TURN
credential: ``hello`` carries STUN alone, so a script cannot use the relay without
ever joining the queue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from django.conf import settings


def turn_credential(secret: str, label: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def visitor_credential(ttl: int | None = None) -> tuple[str, str]:
    """A credential exactly as a visitor gets one (also used by the staff TURN check)."""
    conf = settings.MEET
    return turn_credential(conf["TURN_SECRET"], secrets.token_urlsafe(12), ttl or conf["TURN_TTL"])


def stun_servers() -> list[dict[str, Any]]:
    """What any connection may have: STUN needs no credential."""
    urls = settings.MEET["STUN_URLS"]
    return [{"urls": list(urls)}] if urls else []


def relay_offered() -> bool:
    """Whether admitted visitors get a TURN relay (hello says so, without a credential)."""
    conf = settings.MEET
    return bool(conf["TURN_URLS"] and conf["TURN_SECRET"])


def ice_servers() -> list[dict[str, Any]]:
    """STUN and TURN with a fresh credential: for admitted connections only."""
    servers = stun_servers()
    if relay_offered():
        username, credential = visitor_credential()
        servers.append({"urls": list(settings.MEET["TURN_URLS"]), "username": username, "credential": credential})
    return servers
