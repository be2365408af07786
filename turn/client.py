"""Ask a TURN server for a relay, as a browser would: a small STUN/TURN client.

Enough of RFC 8489 (STUN) and RFC 8656 (TURN) to send an Allocate request with
long-term credentials over UDP, TCP or TLS, read the answer, and release the
relay again at once. Staff use it to see that each configured TURN server
answers (``manage.py`` and the admin's TURN check); the tests use it against a
real coturn.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import socket
import ssl
import struct
import time
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qs

MAGIC_COOKIE = 0x2112A442
HEADER = struct.Struct("!HHI12s")

ALLOCATE = 0x0003
REFRESH = 0x0004
SUCCESS = 0x0100
ERROR = 0x0110

USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
LIFETIME = 0x000D
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_TRANSPORT = 0x0019
FINGERPRINT = 0x8028

UDP_PROTOCOL = 17
TCP_PROTOCOL = 6
FINGERPRINT_XOR = 0x5354554E
STALE_NONCE = 438


class TurnError(Exception):
    """The server could not be reached or did not answer as a TURN server."""


@dataclass(frozen=True)
class TurnUrl:
    secure: bool
    host: str
    port: int
    transport: str  # "udp" or "tcp" (TLS is tcp with secure=True)

    def __str__(self) -> str:
        kind = "TLS" if self.secure else self.transport.upper()
        return f"{kind} {self.host}:{self.port}"


def parse_turn_url(url: str) -> TurnUrl:
    """turn:host[:port][?transport=udp|tcp] or turns:host[:port][?transport=tcp] (RFC 7065)."""
    scheme, _, rest = url.partition(":")
    if scheme not in ("turn", "turns") or not rest:
        raise ValueError(f"not a TURN URL: {url!r}")
    address, _, query = rest.partition("?")
    secure = scheme == "turns"
    transport = parse_qs(query).get("transport", ["tcp" if secure else "udp"])[0].lower()
    if transport not in ("udp", "tcp") or (secure and transport != "tcp"):
        raise ValueError(f"unsupported transport in {url!r}")
    if address.startswith("["):
        host, _, port_text = address[1:].partition("]")
        port_text = port_text.removeprefix(":")
    else:
        host, _, port_text = address.partition(":")
    port = int(port_text) if port_text else (5349 if secure else 3478)
    if not host or not 0 < port < 65536:
        raise ValueError(f"bad address in {url!r}")
    return TurnUrl(secure, host, port, transport)


def _attribute(kind: int, value: bytes) -> bytes:
    padding = b"\0" * (-len(value) % 4)
    return struct.pack("!HH", kind, len(value)) + value + padding


def _message(method: int, transaction: bytes, attributes: list[bytes], key: bytes | None) -> bytes:
    body = b"".join(attributes)
    if key is not None:
        # The HMAC covers the message up to this attribute, with a length that already counts it (24 bytes).
        header = HEADER.pack(method, len(body) + 24, MAGIC_COOKIE, transaction)
        body += _attribute(MESSAGE_INTEGRITY, hmac.new(key, header + body, hashlib.sha1).digest())
    header = HEADER.pack(method, len(body) + 8, MAGIC_COOKIE, transaction)
    crc = (zlib.crc32(header + body) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
    body += _attribute(FINGERPRINT, struct.pack("!I", crc))
    return HEADER.pack(method, len(body), MAGIC_COOKIE, transaction) + body


@dataclass
class Response:
    kind: int
    attributes: dict[int, bytes]

    @property
    def success(self) -> bool:
        return self.kind & 0x0110 == SUCCESS

    @property
    def error(self) -> tuple[int, str]:
        value = self.attributes.get(ERROR_CODE, b"\0\0\0\0")
        return (value[2] & 0x07) * 100 + value[3], value[4:].decode("utf-8", "replace")


def _parse(data: bytes, transaction: bytes) -> Response | None:
    if len(data) < HEADER.size:
        return None
    kind, length, cookie, received = HEADER.unpack_from(data)
    if cookie != MAGIC_COOKIE or received != transaction or len(data) < HEADER.size + length:
        return None
    attributes: dict[int, bytes] = {}
    offset = HEADER.size
    end = HEADER.size + length
    while offset + 4 <= end:
        attribute, size = struct.unpack_from("!HH", data, offset)
        attributes.setdefault(attribute, data[offset + 4 : offset + 4 + size])
        offset += 4 + size + (-size % 4)
    return Response(kind, attributes)


class _Connection:
    """One socket to the server; requests and answers, each within the caller's deadline."""

    def __init__(self, url: TurnUrl, deadline: float, tls: ssl.SSLContext | None) -> None:
        self.url = url
        self.deadline = deadline
        family, kind, _, _, address = socket.getaddrinfo(
            url.host, url.port, type=socket.SOCK_DGRAM if url.transport == "udp" else socket.SOCK_STREAM
        )[0]
        self.address = address
        self.sock = socket.socket(family, kind)
        try:
            self.sock.settimeout(self._left())
            if url.transport == "tcp":
                self.sock.connect(address)
                if url.secure:
                    context = tls or ssl.create_default_context()
                    self.sock = context.wrap_socket(self.sock, server_hostname=url.host)
        except BaseException:
            self.sock.close()
            raise
        self.buffer = b""

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer in time")
        return left

    def close(self) -> None:
        self.sock.close()

    def request(self, message: bytes, transaction: bytes) -> Response:
        if self.url.transport == "udp":
            return self._request_datagram(message, transaction)
        self.sock.settimeout(self._left())
        self.sock.sendall(message)
        while True:
            while len(self.buffer) < HEADER.size or len(self.buffer) < HEADER.size + self._length():
                self.sock.settimeout(self._left())
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise TurnError("connection closed by the server")
                self.buffer += chunk
            size = HEADER.size + self._length()
            data, self.buffer = self.buffer[:size], self.buffer[size:]
            response = _parse(data, transaction)
            if response is not None:
                return response

    def _length(self) -> int:
        return struct.unpack_from("!H", self.buffer, 2)[0]

    def _request_datagram(self, message: bytes, transaction: bytes) -> Response:
        # UDP may lose the request or the answer: send again every half second until the deadline.
        while True:
            self.sock.sendto(message, self.address)
            resend = time.monotonic() + 0.5
            while time.monotonic() < resend:
                self.sock.settimeout(max(min(resend, self.deadline) - time.monotonic(), 0.01))
                try:
                    data = self.sock.recv(4096)
                except TimeoutError:
                    self._left()
                    continue
                response = _parse(data, transaction)
                if response is not None:
                    return response


def allocate(
    url: str,
    username: str,
    password: str,
    timeout: float = 3.0,
    tls: ssl.SSLContext | None = None,
    relay_protocol: int = UDP_PROTOCOL,
) -> str:
    """Allocate a relay with this credential and release it; "ok", or why not (never raises for a bad answer).

    Raises TurnError, OSError or TimeoutError when the server cannot be reached or talks nonsense.
    """
    target = parse_turn_url(url)
    connection = _Connection(target, time.monotonic() + timeout, tls)
    try:
        transport = _attribute(REQUESTED_TRANSPORT, bytes([relay_protocol, 0, 0, 0]))
        transaction = secrets.token_bytes(12)
        challenge = connection.request(_message(ALLOCATE, transaction, [transport], None), transaction)
        if challenge.success:
            raise TurnError("the server allocated without asking for a credential")
        for _ in range(2):
            code, reason = challenge.error
            if code not in (401, STALE_NONCE) or REALM not in challenge.attributes:
                return f"error {code} {reason}".strip()
            realm, nonce = challenge.attributes[REALM], challenge.attributes.get(NONCE, b"")
            # RFC 8489 section 9.2.2: the long-term key is MD5(username:realm:password), by definition.
            key = hashlib.md5(
                username.encode() + b":" + realm + b":" + password.encode(), usedforsecurity=False
            ).digest()
            credentials = [_attribute(USERNAME, username.encode()), _attribute(REALM, realm), _attribute(NONCE, nonce)]
            transaction = secrets.token_bytes(12)
            answer = connection.request(_message(ALLOCATE, transaction, [transport, *credentials], key), transaction)
            if answer.success:
                if XOR_RELAYED_ADDRESS not in answer.attributes:
                    raise TurnError("allocation without a relayed address")
                # Give the relay back at once: a check must not hold server resources. If that goes
                # unanswered the relay still worked, and the server drops it after its lifetime.
                transaction = secrets.token_bytes(12)
                release = [_attribute(LIFETIME, struct.pack("!I", 0)), *credentials]
                with contextlib.suppress(OSError, TurnError):
                    connection.request(_message(REFRESH, transaction, release, key), transaction)
                return "ok"
            challenge = answer
            if challenge.error[0] != STALE_NONCE:
                break
        code, reason = challenge.error
        return f"error {code} {reason}".strip()
    finally:
        connection.close()
