"""Resume tokens: proof that a new connection may take over the match an earlier one held.

A token is ``<peer_id>.<mac>``. The MAC, keyed with the site's secret, covers the peer, the match and
the channel that holds the match, so nothing needs storing: a token stops working as soon as the match
moves to another channel (it is single use) or ends. The peer id was already the client's to know (its
``hello``); the channel name never leaves the server.
"""

from __future__ import annotations

import base64
import re

from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "alienmeet.meet.resume"
# Peer ids are secrets.token_urlsafe(16): 22 URL-safe base64 characters.
_TOKEN = re.compile(r"([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})")


def _mac(peer_id: str, match_id: str, channel: str) -> str:
    digest = salted_hmac(_SALT, f"{peer_id}\n{match_id}\n{channel}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def mint(peer_id: str, match_id: str, channel: str) -> str:
    return f"{peer_id}.{_mac(peer_id, match_id, channel)}"


def peer_of(token: str) -> str | None:
    """The peer a well-formed token speaks for, or None."""
    found = _TOKEN.fullmatch(token)
    return found.group(1) if found else None


def verifies(token: str, match_id: str, channel: str) -> bool:
    """Whether the token was minted for this match while ``channel`` held it."""
    peer_id = peer_of(token)
    return peer_id is not None and constant_time_compare(token, mint(peer_id, match_id, channel))
