"""ICE servers for one connection: STUN as configured, TURN with short-lived credentials.

TURN uses coturn's shared-secret scheme (``use-auth-secret``): the username is
``expiry:peer_id`` and the password is base64(HMAC-SHA1(TURN_SECRET, username)),
so the TURN server can check a credential without asking this site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings


def turn_credential(secret: str, peer_id: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{peer_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(peer_id: str) -> list[dict[str, Any]]:
    conf = settings.MEET
    servers: list[dict[str, Any]] = []
    if conf["STUN_URLS"]:
        servers.append({"urls": list(conf["STUN_URLS"])})
    if conf["TURN_URLS"] and conf["TURN_SECRET"]:
        username, credential = turn_credential(conf["TURN_SECRET"], peer_id, conf["TURN_TTL"])
        servers.append({"urls": list(conf["TURN_URLS"]), "username": username, "credential": credential})
    return servers
