"""The floor: the least a Python signaling relay can do, with the websockets library alone.

It speaks just enough of protocol version 1 for the benchmark (hello, join, matched,
signal, next, leave): pairs clients in arrival order and forwards signals, parsing
JSON like the real server does. No matchmaking rules, no limits, no persistence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys

from websockets.asyncio.server import ServerConnection, serve

waiting: list[ServerConnection] = []
partner: dict[ServerConnection, tuple[ServerConnection, str]] = {}
match_ids = itertools.count()


def unpair(connection: ServerConnection) -> tuple[ServerConnection, str] | None:
    paired = partner.pop(connection, None)
    if paired is not None:
        partner.pop(paired[0], None)
    return paired


async def handle(connection: ServerConnection) -> None:
    await connection.send(json.dumps({"type": "hello", "peer_id": "x", "online": 0, "ice_servers": [], "protocol": 1}))
    try:
        async for text in connection:
            message = json.loads(text)
            kind = message.get("type")
            if kind == "signal":
                paired = partner.get(connection)
                if paired is not None:
                    relayed = {"type": "signal", "match_id": message["match_id"], "data": message["data"]}
                    await paired[0].send(json.dumps(relayed))
            elif kind in ("join", "next", "leave"):
                paired = unpair(connection)
                if paired is not None:
                    await paired[0].send(json.dumps({"type": "partner_left", "match_id": paired[1], "reason": kind}))
                if kind == "leave":
                    continue
                if waiting and waiting[0] is not connection:
                    first = waiting.pop(0)
                    match_id = f"m{next(match_ids)}"
                    partner[first], partner[connection] = (connection, match_id), (first, match_id)
                    await connection.send(
                        json.dumps({"type": "matched", "match_id": match_id, "polite": False, "interests": []})
                    )
                    await first.send(
                        json.dumps({"type": "matched", "match_id": match_id, "polite": True, "interests": []})
                    )
                else:
                    waiting.append(connection)
                    await connection.send(json.dumps({"type": "waiting"}))
    finally:
        if connection in waiting:
            waiting.remove(connection)
        paired = unpair(connection)
        if paired is not None:
            with contextlib.suppress(Exception):
                await paired[0].send(
                    json.dumps({"type": "partner_left", "match_id": paired[1], "reason": "disconnect"})
                )


async def main(port: int) -> None:
    async with serve(handle, "127.0.0.1", port, max_size=2**20, compression=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
