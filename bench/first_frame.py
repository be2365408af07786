#!/usr/bin/env python
"""First-frame benchmark: how soon two strangers see each other, in real browsers on loopback.

    .venv/bin/python bench/first_frame.py            # 20 calls, Next in between
    .venv/bin/python bench/first_frame.py --calls 5

Two headless Chromium pages (fake camera and microphone) on one server process as the tests start
it (hashed static files, production settings). The first visitor presses Talk to Aliens and waits;
the second presses it too; after each call one of them presses Next (the other finds the next
stranger automatically, the page's default), alternating. Per call: the time from that second
click (or the Next click) to the first decoded frame of the stranger's video on *both* sides, and
on each side from `matched` to ICE connected. Prints p50 and p95 and writes docs/first_frame.json.
Nothing in the pages is changed; an init script only listens (WebSocket frames, the peer
connection's ICE state, the first frame a video element gets from the remote track).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import Server, collect_static, migrate, server_env  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]

# Absolute milliseconds (comparable between the two pages of one machine).
LISTEN = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const ff = (window.__ff = { matched: [], ice: [], frame: [], clicks: [] });
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        try {
          if (JSON.parse(event.data).type === "matched") ff.matched.push(now());
        } catch (error) {}
      });
    }
  };
  const NativePeer = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeer {
    constructor(...args) {
      super(...args);
      let connected = false;
      this.addEventListener("iceconnectionstatechange", () => {
        if (!connected && (this.iceConnectionState === "connected" || this.iceConnectionState === "completed")) {
          connected = true;
          ff.ice.push(now());
        }
      });
      let seen = false;
      this.addEventListener("track", ({ track }) => {
        if (track.kind !== "video" || seen) return;
        seen = true;
        const video = document.createElement("video");
        video.muted = true;
        video.playsInline = true;
        video.srcObject = new MediaStream([track]);
        video.requestVideoFrameCallback(() => { ff.frame.push(now()); video.srcObject = null; });
        video.play().catch(() => {});
      });
    }
  };
})();
"""


def percentiles(samples: list[float]) -> dict[str, float | int | None]:
    if not samples:
        return {"p50": None, "p95": None, "n": 0}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 1)

    return {"p50": at(0.5), "p95": at(0.95), "n": len(ordered)}


async def rules_version(server: Server) -> str:
    async with websockets.connect(server.ws_url, origin=server.http_url) as connection:
        return json.loads(await connection.recv()).get("rules") or ""


def wait_for(page: Any, expression: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(5)


def click(page: Any, button: str) -> float:
    """Press a button the way a visitor does, and return when (page clock, ms)."""
    return page.evaluate(
        f"() => {{ const t = performance.timeOrigin + performance.now(); document.getElementById({button!r}).click(); "
        "return t; }"
    )


def run(calls: int, workdir: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    # Two visitors only: without the last two, a pair that parted with Next would wait out the
    # rematch rule (nobody else is there) and the figure would be that wait, not the set-up.
    environ = server_env(
        workdir,
        MEET_RATE_BURST="200",
        MEET_NEXT_PER_MINUTE="1000",
        ALIENMEET_LOG_LEVEL="WARNING",
        MATCH_REMATCH_COOLDOWN="0",
        MATCH_INTEREST_WAIT="0",
    )
    migrate(environ)
    collect_static(environ)
    server = Server(environ, workdir / "server.log")
    try:
        version = asyncio.run(rules_version(server))
        acceptance = json.dumps({"version": version, "acceptedAt": "2026-11-27T12:00:00Z"})
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            pages = []
            for _ in range(2):
                context = browser.new_context(viewport={"width": 1000, "height": 700})
                context.add_init_script(
                    f"try {{ localStorage.setItem('alienmeet.rules', {json.dumps(acceptance)}); }} catch (e) {{}}"
                )
                context.add_init_script(LISTEN)
                page = context.new_page()
                page.goto(f"{server.http_url}/meet/")
                wait_for(page, "window.alienmeet && window.alienmeet.signalingOpen", 30)
                pages.append(page)
            first, second = pages
            click(first, "start")
            wait_for(first, "window.alienmeet.phase === 'searching'")
            to_frames, to_ice, to_matched, ice_to_frame = [], [], [], []
            for call in range(calls):
                # The first call starts with the second visitor's click, every other one with Next.
                clicked = click(second, "start") if call == 0 else click(pages[call % 2], "next")
                for page in pages:
                    wait_for(page, f"window.__ff.frame.length > {call} && window.__ff.ice.length > {call}", 30)
                figures = [page.evaluate("() => window.__ff") for page in pages]
                to_frames.append(max(f["frame"][call] for f in figures) - clicked)
                to_matched.append(max(f["matched"][-1] for f in figures) - clicked)
                for f in figures:
                    to_ice.append(f["ice"][call] - f["matched"][-1])
                    ice_to_frame.append(f["frame"][call] - f["ice"][call])
                print(f"call {call + 1}: {to_frames[-1]:.0f} ms to both first frames", file=sys.stderr, flush=True)
                pages[0].wait_for_timeout(500)  # a short call
            browser.close()
    finally:
        server.stop()
    return {
        "calls": calls,
        "click_to_first_frame_both_ms": percentiles(to_frames),
        "matched_to_ice_connected_ms": percentiles(to_ice),
        # Where the time goes: the server's part, then the browser's after ICE.
        "click_to_matched_both_ms": percentiles(to_matched),
        "ice_connected_to_first_frame_ms": percentiles(ice_to_frame),
        "samples": {"click_to_first_frame_both_ms": [round(x, 1) for x in to_frames]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--output", default=str(ROOT / "docs" / "first_frame.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alienmeet-first-frame-") as tmp:
        result = run(args.calls, Path(tmp))
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
