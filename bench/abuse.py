"""How a server drops an abusive socket: the checks `bench/signaling.py` runs on each ASGI server.

- **flood close**: a client sends 2,000 frames a second and reads nothing; how long until the
  server's side of its TCP connection is gone (the site closes it with 4008 after 100 refused
  frames; the server must then let go although the client never answers the close).
- **bounded send buffer**: a client with a 4 KiB receive buffer stops reading in a call while its
  partner sends 60 kB signals within the rate limit for 8 s; whether the partner is told
  (``unavailable``) and how much the server's memory grew meanwhile.
- **ping timeout**: a client stops reading (so answers no ping) on a server pinging every 1 s with
  a 2 s timeout; how long until the server drops it.
- **SIGTERM drain**: two clients in a call and one waiting; the server gets SIGTERM; the close
  codes they get (4012 asks them to reconnect elsewhere) and how long the process takes to exit.

Each figure comes from the server's side of loopback sockets (`ss`), so it is the same question
for every server. Everything is bounded in time and stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import time
from typing import Any

import websockets

PAD = "y" * 200
BIG = "z" * 60_000


def established(server_port: int, client_port: int) -> bool:
    """Whether the server still holds its side of this loopback connection open."""
    output = subprocess.run(
        [
            "ss",
            "-Htn",
            "state",
            "established",
            "(",
            "sport",
            "=",
            f":{server_port}",
            "and",
            "dport",
            "=",
            f":{client_port}",
            ")",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return bool(output.strip())


async def seconds_until_dropped(server_port: int, client_port: int, since: float, limit: float) -> float | None:
    while time.monotonic() - since < limit:
        if not established(server_port, client_port):
            return round(time.monotonic() - since, 2)
        await asyncio.sleep(0.05)
    return None


def _port_of(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


async def _raw(url: str, origin: str, receive_buffer: int | None = None) -> websockets.ClientConnection:
    sock = None
    if receive_buffer:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", _port_of(url)))
    return await websockets.connect(
        url, origin=origin, sock=sock, max_queue=1, compression=None, ping_interval=None, open_timeout=30
    )


async def flood_close(url: str, origin: str, limit: float = 10) -> dict[str, Any]:
    connection = await _raw(url, origin)
    client_port = connection.transport.get_extra_info("sockname")[1]
    frame = json.dumps({"type": "signal", "match_id": "x", "data": {"pad": PAD}})
    started = time.monotonic()
    watcher = asyncio.ensure_future(seconds_until_dropped(_port_of(url), client_port, started, limit))
    sent = 0
    with contextlib.suppress(websockets.ConnectionClosed, OSError):
        while not watcher.done() and time.monotonic() - started < limit:
            await connection.send(frame)
            sent += 1
            ahead = sent / 2000 - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
    dropped = await watcher
    connection.transport.abort()
    return {"frames_sent": sent, "dropped_after_s": dropped, "limit_s": limit}


async def bounded_buffer(url: str, origin: str, admit: Any, rss_kib: Any, seconds: float = 8) -> dict[str, Any]:
    sleeper = await _raw(url, origin, receive_buffer=4096)
    hello = json.loads(await sleeper.recv())
    await sleeper.send(json.dumps(admit(hello, {"type": "join"})))
    sender = await _raw(url, origin)
    hello = json.loads(await sender.recv())
    await sender.send(json.dumps(admit(hello, {"type": "join"})))
    match_id = None
    deadline = time.monotonic() + 15
    while match_id is None and time.monotonic() < deadline:
        message = json.loads(await asyncio.wait_for(sender.recv(), 15))
        if message["type"] == "matched":
            match_id = message["match_id"]
    # From here on the sleeper reads nothing.
    before = rss_kib()
    told: list[float] = []
    started = time.monotonic()

    async def listen() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = json.loads(await sender.recv())
                if message["type"] == "error" and message.get("code") == "unavailable" and not told:
                    told.append(round(time.monotonic() - started, 2))

    listener = asyncio.ensure_future(listen())
    frame = json.dumps({"type": "signal", "match_id": match_id, "data": {"sdp": BIG}})
    sent = 0
    peak = before
    with contextlib.suppress(websockets.ConnectionClosed):
        while time.monotonic() - started < seconds:
            await sender.send(frame)
            sent += 1
            peak = max(peak, rss_kib())
            # 20 a second, under the production rate limit (25 a second).
            await asyncio.sleep(max(0.0, sent / 20 - (time.monotonic() - started)))
    await asyncio.sleep(0.5)
    peak = max(peak, rss_kib())
    listener.cancel()
    sleeper.transport.abort()
    await sender.close()
    return {
        "sent_bytes": sent * len(frame),
        "sender_told_after_s": told[0] if told else None,
        "server_rss_growth_mib": round((peak - before) / 1024, 1),
    }


async def ping_timeout(url: str, origin: str, limit: float = 10) -> dict[str, Any]:
    connection = await _raw(url, origin)
    await connection.recv()
    client_port = connection.transport.get_extra_info("sockname")[1]
    connection.transport.pause_reading()  # answers no ping from here on
    started = time.monotonic()
    dropped = await seconds_until_dropped(_port_of(url), client_port, started, limit)
    connection.transport.abort()
    return {"ping_interval_s": 1, "ping_timeout_s": 2, "dropped_after_s": dropped, "limit_s": limit}


async def sigterm_drain(url: str, origin: str, admit: Any, process: subprocess.Popen) -> dict[str, Any]:
    clients = []
    for _ in range(3):
        connection = await _raw(url, origin)
        hello = json.loads(await connection.recv())
        await connection.send(json.dumps(admit(hello, {"type": "join"})))
        clients.append(connection)
    await asyncio.sleep(0.5)  # two matched, one waiting
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)

    async def close_code(connection: websockets.ClientConnection) -> tuple[int | None, float]:
        with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
            while True:
                await asyncio.wait_for(connection.recv(), 10)
        return connection.close_code, round(time.monotonic() - started, 2)

    codes = await asyncio.gather(*(close_code(c) for c in clients))
    exited = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            exited = round(time.monotonic() - started, 2)
            break
        await asyncio.sleep(0.05)
    return {
        "close_codes": [code for code, _ in codes],
        "closed_after_s": max(after for _, after in codes),
        "process_exited_after_s": exited,
    }
