"""A misbehaving client, run as its own process so its sending does not slow the measuring one.

Usage: python tests/flooder.py WS_URL FRAMES_PER_SECOND SECONDS
Connects, prints "ready", waits for a line on standard input, floods, then prints the
close code it got (or "open" if the server never closed it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

import websockets


async def flood(url: str, rate: int, seconds: float) -> str:
    frame = json.dumps({"type": "signal", "match_id": "x", "data": {"pad": "y" * 200}})
    async with websockets.connect(url, origin="http://127.0.0.1") as connection:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.monotonic()
        sent = 0
        with contextlib.suppress(websockets.ConnectionClosed):
            while time.monotonic() - started < seconds:
                await connection.send(frame)
                sent += 1
                # Keep to the rate on average, however coarse the sleeps are.
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(connection.wait_closed(), 5)
        return str(connection.close_code) if connection.close_code is not None else "open"


if __name__ == "__main__":
    print(asyncio.run(flood(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))))
