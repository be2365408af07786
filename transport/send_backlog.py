"""How many bytes the server holds for one socket that the network has not taken yet.

A browser that stops reading (a frozen tab, a hostile client) does not stop its
partner's signals: daphne hands each frame to the Twisted transport, which keeps
everything the kernel's socket buffer will not take, without limit, until the ping
timeout closes the socket (tens of MB per socket). The channel layer is not where it
piles up: the consumer takes each message at once and passes it to the transport.
So the consumer asks the transport how much is waiting before it relays more.

ASGI has no such question, so ``SendBacklogMiddleware`` finds daphne's transport
behind the ``send`` callable (daphne passes ``partial(server.handle_reply, protocol)``)
and puts a function answering it into the scope. Under any other server the scope
holds None and nothing is bounded here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

SCOPE_KEY = "alienmeet.send_backlog"

Backlog = Callable[[], int]


def transport_backlog(send: Any) -> Backlog | None:
    if not isinstance(send, functools.partial) or not send.args:
        return None
    protocol = send.args[0]
    transport = getattr(protocol, "transport", None)
    # Twisted's FileDescriptor keeps what the kernel refused in dataBuffer (from offset on)
    # and what arrived since the last write attempt in _tempDataBuffer (_tempDataLen bytes).
    if transport is None or not all(hasattr(transport, name) for name in ("dataBuffer", "offset", "_tempDataLen")):
        return None

    def backlog() -> int:
        # autobahn queues chopped or synchronous frames itself before the transport.
        queued = sum(len(entry[0]) for entry in getattr(protocol, "send_queue", ()))
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen + queued

    return backlog


class SendBacklogMiddleware:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and scope.get(SCOPE_KEY) is None:
            scope = {**scope, SCOPE_KEY: transport_backlog(send)}
        return await self.application(scope, receive, send)


def backlog_of(scope: dict[str, Any]) -> int:
    """Bytes waiting for this socket; 0 when the server does not say."""
    backlog: Backlog | None = scope.get(SCOPE_KEY)
    return backlog() if backlog is not None else 0
