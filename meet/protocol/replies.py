"""The messages the server sends a browser."""

from __future__ import annotations

from typing import Any

from meet.protocol.limits import PROTOCOL_VERSION


def hello(
    peer_id: str,
    online: int,
    ice_servers: list[dict[str, Any]],
    rules: str = "",
    challenge: dict[str, Any] | None = None,
    relay: bool = False,
) -> dict[str, Any]:
    return {
        "type": "hello",
        "peer_id": peer_id,
        "online": online,
        "ice_servers": ice_servers,
        "protocol": PROTOCOL_VERSION,
        "rules": rules,
        "challenge": challenge,
        "relay": relay,
    }


def waiting() -> dict[str, Any]:
    return {"type": "waiting"}


def matched(
    match_id: str,
    polite: bool,
    interests: tuple[str, ...],
    ice_servers: list[dict[str, Any]],
    languages: tuple[str, ...] = (),
    resume: str = "",
) -> dict[str, Any]:
    message = {
        "type": "matched",
        "match_id": match_id,
        "polite": polite,
        "interests": list(interests),
        "languages": list(languages),
        "ice_servers": ice_servers,
    }
    if resume:
        message["resume"] = resume
    return message


def resumed(
    match_id: str,
    polite: bool,
    interests: tuple[str, ...],
    ice_servers: list[dict[str, Any]],
    languages: tuple[str, ...],
    token: str,
) -> dict[str, Any]:
    return {**matched(match_id, polite, interests, ice_servers, languages, token), "type": "resumed"}


def ice_servers_message(ice_servers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "ice_servers", "ice_servers": ice_servers}


def partner_resumed(match_id: str) -> dict[str, Any]:
    return {"type": "partner_resumed", "match_id": match_id}


def signal(match_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "signal", "match_id": match_id, "data": data}


def partner_left(match_id: str, reason: str) -> dict[str, Any]:
    return {"type": "partner_left", "match_id": match_id, "reason": reason}


def online(count: int) -> dict[str, Any]:
    return {"type": "online", "count": count}


def reported(match_id: str) -> dict[str, Any]:
    return {"type": "reported", "match_id": match_id}


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}
