"""ICE servers for one call: STUN as configured, TURN with short-lived credentials.

TURN uses coturn's shared-secret scheme (``use-auth-secret``): the username is
``expiry:label`` and the password is base64(HMAC-SHA1(TURN_SECRET, username)),
so the TURN server can check a credential without asking this site. The label
is random and new for each credential, so nothing coturn sees or logs links a
relay to a signaling connection.

coturn checks a credential when an allocation is made, not while it lasts: a
call that started in time keeps its relay, so the lifetime only needs to cover
setting the call up. A fresh credential comes with every ``matched``.
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


def ice_servers() -> list[dict[str, Any]]:
    conf = settings.MEET
    servers: list[dict[str, Any]] = []
    if conf["STUN_URLS"]:
        servers.append({"urls": list(conf["STUN_URLS"])})
    if conf["TURN_URLS"] and conf["TURN_SECRET"]:
        username, credential = visitor_credential()
        servers.append({"urls": list(conf["TURN_URLS"]), "username": username, "credential": credential})
    return servers
