"""Admission to the queue: the visitor accepted the current rules, and their browser did an ALTCHA proof of work.

A challenge is the classic ALTCHA one (``altcha`` package, version 1 format): find the
number n, at most ``maxNumber``, such that SHA-256(salt + n) is the ``challenge``; the
server signed the challenge with an HMAC key, and the salt carries its expiry and a random
tag of the connection it was issued to. A solution admits that connection only, so solutions
of challenges gathered on one connection (cheap ones, before its address turned busy) admit
no other; and a connection holds one challenge at a time (``ConnectionChallenge``). Once
solved, a challenge's signature is also kept until the expiry, so it is used once, on
whichever server process.

An address that opens connections unusually often gets harder challenges. Both the
spent signatures and the connection counts live in Redis when matchmaking does, so
every process sees them; otherwise in this process's memory.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from altcha import create_challenge_v1, extract_params_v1, verify_solution_v1
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from matchmaking import MatchmakerUnavailable, get_matchmaker
from meet import protocol
from transport.redis_connection import REDIS_ERRORS
from transport.shared_state import shared_redis

logger = logging.getLogger("alienmeet.meet")

ALGORITHM = "SHA-256"
KEY_SALT = "alienmeet.meet.altcha-key"
# Generous bounds on what a genuine solution holds, so nothing big is ever hashed.
MAX_FIELD_LENGTH = 256
MAX_NUMBER = 10**9
MEMORY_LIMIT = 100_000
# The salt parameter naming the connection a challenge was issued to (signed with the rest of the salt).
CONNECTION_PARAM = "conn"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str | Promise  # translated lazily, sent in the visitor's language


RULES_MESSAGE = gettext_lazy("Please read and accept the rules (18+ only) before meeting strangers.")
POW_MESSAGES = {
    protocol.POW_REQUIRED: gettext_lazy(
        "Your browser has not finished its anti-bot check yet; please try again in a moment."
    ),
    protocol.POW_INVALID: gettext_lazy("Your browser's anti-bot check did not pass; please try again."),
    protocol.POW_EXPIRED: gettext_lazy("Your browser's anti-bot check expired; please try again."),
}


def rules_version() -> str:
    return settings.ADMISSION["RULES_VERSION"]


def check_rules(accepted: str | None) -> Refusal | None:
    if accepted != rules_version():
        return Refusal(protocol.RULES_REQUIRED, RULES_MESSAGE)
    return None


def hmac_key() -> str:
    return settings.ADMISSION["POW_HMAC_KEY"] or salted_hmac(KEY_SALT, "altcha", algorithm="sha256").hexdigest()


def new_challenge(max_number: int, connection: str) -> dict[str, Any]:
    """A challenge only the connection tagged ``connection`` may use."""
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=settings.ADMISSION["POW_EXPIRES"])
    challenge = create_challenge_v1(
        algorithm=ALGORITHM,
        max_number=max_number,
        hmac_key=hmac_key(),
        expires=expires,
        params={CONNECTION_PARAM: connection},
    )
    return challenge.to_dict()


class ConnectionChallenge:
    """The one challenge a connection holds: every refusal repeats it until it expires, so asking
    again and again gathers nothing new."""

    def __init__(self, max_number: int) -> None:
        self.max_number = max_number
        self.tag = secrets.token_urlsafe(12)
        self._challenge: dict[str, Any] | None = None
        self._expires = 0.0

    def current(self) -> dict[str, Any]:
        if self._challenge is None or time.time() >= self._expires:
            self._challenge = new_challenge(self.max_number, self.tag)
            self._expires = _expires_at(self._challenge) or 0.0
        return self._challenge

    async def check(self, solution: dict[str, Any] | None) -> Refusal | None:
        return await check_pow(solution, self.tag)


def _well_formed(solution: dict[str, Any]) -> bool:
    number = solution.get("number")
    if type(number) is not int or not 0 <= number <= MAX_NUMBER:
        return False
    if solution.get("algorithm") != ALGORITHM:
        return False
    fields = (solution.get(name) for name in ("challenge", "salt", "signature"))
    return all(isinstance(value, str) and 0 < len(value) <= MAX_FIELD_LENGTH for value in fields)


def _expires_at(solution: dict[str, Any]) -> float | None:
    values = extract_params_v1(solution).get("expires")  # type: ignore[arg-type]
    try:
        return float(values[0]) if values and len(values) == 1 else None
    except ValueError:
        return None


async def check_pow(solution: dict[str, Any] | None, connection: str) -> Refusal | None:
    """None when the solution is good, of a challenge issued to ``connection``, and not used before
    (it is then spent), else why not."""
    if solution is None:
        return _pow_refusal(protocol.POW_REQUIRED)
    if not _well_formed(solution):
        return _pow_refusal(protocol.POW_INVALID)
    payload = {name: solution[name] for name in ("algorithm", "challenge", "number", "salt", "signature")}
    verified, _ = verify_solution_v1(payload, hmac_key(), check_expires=False)  # type: ignore[arg-type]
    expires = _expires_at(payload)
    if not verified or expires is None:
        return _pow_refusal(protocol.POW_INVALID)
    remaining = expires - time.time()
    if remaining <= 0:
        return _pow_refusal(protocol.POW_EXPIRED)
    if extract_params_v1(payload).get(CONNECTION_PARAM) != [connection]:  # type: ignore[arg-type]
        return _pow_refusal(protocol.POW_INVALID)
    if not await _spend(payload["signature"], remaining):
        return Refusal(protocol.POW_INVALID, gettext_lazy("This anti-bot check was already used; please try again."))
    return None


def _pow_refusal(code: str) -> Refusal:
    return Refusal(code, POW_MESSAGES[code])


async def difficulty(ip_hash: str) -> int:
    """The challenge size for a new connection from this address (and count the connection)."""
    conf = settings.ADMISSION
    if not ip_hash:
        return conf["POW_MAX_NUMBER"]
    try:
        count = await _count_connect(ip_hash, conf["POW_BUSY_WINDOW"])
    except MatchmakerUnavailable:
        count = 0
    if count > conf["POW_BUSY_CONNECTS"]:
        if count == conf["POW_BUSY_CONNECTS"] + 1:
            logger.info("event=pow_raised window=%d", conf["POW_BUSY_WINDOW"])  # once per address and window
        return conf["POW_BUSY_MAX_NUMBER"]
    return conf["POW_MAX_NUMBER"]


# Shared state: Redis when the site shares its state (transport/shared_state.py), else this process's memory.


def _redis() -> Any:
    if shared_redis() is None:
        return None
    # The matchmaker's pool: one per event loop, closed with it at shutdown.
    return get_matchmaker().client


def _key(*parts: str) -> str:
    return settings.MATCHMAKER["PREFIX"] + ":".join(("admission", *parts))


async def _spend(signature: str, ttl: float) -> bool:
    client = _redis()
    if client is None:
        return _memory.spend(signature, ttl)
    try:
        return bool(await client.set(_key("spent", signature), 1, nx=True, px=max(1, int(ttl * 1000))))
    except REDIS_ERRORS:
        # While Redis is away nobody is matched anyway; this process alone still refuses replays,
        # and the join goes on to wait for matching to come back.
        logger.warning("event=pow_replay_check_local")
        return _memory.spend(signature, ttl)


async def _count_connect(ip_hash: str, window: int) -> int:
    client = _redis()
    if client is None:
        return _memory.count(ip_hash, window)
    key = _key("connects", ip_hash)
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            count, _ = await pipe.execute()
    except REDIS_ERRORS as error:
        raise MatchmakerUnavailable(str(error)) from error
    return int(count)


class _MemoryState:
    """The single-process stand-in for the Redis keys, with the same expiry."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spent: dict[str, float] = {}
        self.connects: dict[str, tuple[float, int]] = {}

    def _prune(self, now: float) -> None:
        if len(self.spent) > MEMORY_LIMIT:
            self.spent = {key: until for key, until in self.spent.items() if until > now}
        if len(self.connects) > MEMORY_LIMIT:
            self.connects = {key: entry for key, entry in self.connects.items() if entry[0] > now}

    def spend(self, signature: str, ttl: float) -> bool:
        now = time.monotonic()
        with self.lock:
            self._prune(now)
            if self.spent.get(signature, 0.0) > now:
                return False
            self.spent[signature] = now + ttl
            return True

    def count(self, ip_hash: str, window: float) -> int:
        now = time.monotonic()
        with self.lock:
            self._prune(now)
            until, count = self.connects.get(ip_hash, (0.0, 0))
            if until <= now:
                until, count = now + window, 0
            self.connects[ip_hash] = (until, count + 1)
            return count + 1


_memory = _MemoryState()
