#!/usr/bin/env python
"""Nudity shield benchmark: the classifier in headless Chromium on this machine, on the fake camera.

    .venv/bin/python bench/shield.py                 # about two minutes
    .venv/bin/python bench/shield.py --window 10     # shorter CPU windows, to try the script

Starts one server, then measures with Debian's chromium (software only, --disable-gpu, like the tests):
- model load: from the visitor pressing Talk to Aliens to a classifier ready (scripts, WebAssembly,
  model, first prediction), on a first visit (empty cache) and on later visits (browser cache warm);
- first unblur: from the stranger's first frame on screen to the video shown, for several strangers,
  with the model already loaded (the usual case: it loads while the visitor waits to be matched),
  and once with both visitors pressing at the same moment (the model loads during the call set-up);
- time per classification: frame grab and prediction, averaged over the CPU window;
- CPU: the visitor's renderer process and its main thread (Chromium's ProcessTime and ThreadTime
  metrics) during a call, shield on and shield off in turns; the shield's share is the difference.
  The classifier runs in a worker (static/js/shield_worker.js), whose thread counts in the
  process's time only: the main thread's share is what the shield still costs the page itself
  (grabbing a frame and handing it over), the process's what it costs in all.
It prints one JSON document and a table, and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.servers import Server, migrate, server_env  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SHIELD = "window.alienmeetShield"


def wait_js(page: Page, expression: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"async () => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


# The rules version each server asks for, read before Playwright's event loop starts.
RULES_VERSION: dict[str, str] = {}


async def rules_version(server: Server) -> str:
    async with websockets.connect(server.ws_url, origin=server.http_url) as connection:
        return json.loads(await connection.recv()).get("rules") or ""


def new_visitor(browser: Browser, server: Server) -> Any:
    """A browser context that has accepted the site's rules, as the rules gate records it."""
    context = browser.new_context()
    acceptance = json.dumps({"version": RULES_VERSION[server.http_url], "acceptedAt": "2026-11-27T12:00:00Z"})
    context.add_init_script(
        f"try {{ localStorage.setItem('alienmeet.rules', {json.dumps(acceptance)}); }} catch (e) {{}}"
    )
    return context


def open_call_page(context: Any, server: Server) -> Page:
    page = context.new_page()
    page.goto(f"{server.http_url}/meet/")
    wait_js(page, "window.alienmeet && window.alienmeet.signalingOpen")
    return page


def talk(page: Page) -> None:
    page.get_by_role("button", name="Talk to Aliens").click()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure_model_load(browser: Browser, server: Server, visits: int) -> dict[str, Any]:
    context = new_visitor(browser, server)
    loads = []
    try:
        for _ in range(visits):
            page = open_call_page(context, server)
            talk(page)
            loads.append(wait_js(page, f"{SHIELD}.stats.modelLoadMs"))
            page.close()
    finally:
        context.close()
    return {"first_visit_ms": loads[0], "later_visits_ms": loads[1:]}


class CpuMeter:
    """CPU seconds of a page's renderer process and of its main thread (Chromium's ProcessTime and
    ThreadTime metrics; the session stays open, as ThreadTime counts only while it is enabled)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.session = page.context.new_cdp_session(page)
        self.session.send("Performance.enable")

    def times(self) -> tuple[float, float]:
        metrics = {metric["name"]: metric["value"] for metric in self.session.send("Performance.getMetrics")["metrics"]}
        return metrics["ProcessTime"], metrics["ThreadTime"]

    def share(self, seconds: float) -> tuple[float, float]:
        """Share of one core used by the renderer process and by its main thread over `seconds`."""
        (process, thread), started = self.times(), time.monotonic()
        self.page.wait_for_timeout(seconds * 1000)
        (process_after, thread_after), elapsed = self.times(), time.monotonic() - started
        return (process_after - process) / elapsed, (thread_after - thread) / elapsed


def first_unblur_ms(page: Page) -> float:
    wait_js(page, f"{SHIELD}.stats.firstClearAt !== null && {SHIELD}.stats.firstFrameAt !== null")
    stats = page.evaluate(f"{SHIELD}.stats")
    return stats["firstClearAt"] - stats["firstFrameAt"]


def measure_call(browser: Browser, server: Server, strangers: int, window: float) -> dict[str, Any]:
    alice_context, bob_context = new_visitor(browser, server), new_visitor(browser, server)
    try:
        alice, bob = open_call_page(alice_context, server), open_call_page(bob_context, server)
        # Bob's shield stays off, so his renderer does not compete with Alice's for the two cores.
        bob.get_by_role("switch", name="Nudity shield").uncheck()

        # Both press at once: the model loads while the call is set up.
        talk(alice)
        talk(bob)
        cold = first_unblur_ms(alice)

        # Model loaded: each Next brings a new call (the same two, re-matched), checked from scratch.
        warm = []
        for _ in range(strangers):
            previous = alice.evaluate("window.alienmeet.matchId")
            alice.get_by_role("button", name="Next", exact=True).first.click()
            wait_js(alice, f"window.alienmeet.phase === 'connected' && window.alienmeet.matchId !== '{previous}'")
            warm.append(first_unblur_ms(alice))

        # Shield on and off in turns, so a change in the machine's load hits both alike.
        switch = alice.get_by_role("switch", name="Nudity shield")
        meter = CpuMeter(alice)
        on: list[tuple[float, float]] = []
        off: list[tuple[float, float]] = []
        classified = classify_ms = 0.0
        for _ in range(2):
            wait_js(alice, f"{SHIELD}.state === 'clear'")
            before = alice.evaluate(f"({{ n: {SHIELD}.stats.classifications, ms: {SHIELD}.stats.classifyMs }})")
            on.append(meter.share(window / 2))
            after = alice.evaluate(f"({{ n: {SHIELD}.stats.classifications, ms: {SHIELD}.stats.classifyMs }})")
            classified += after["n"] - before["n"]
            classify_ms += after["ms"] - before["ms"]
            switch.uncheck()
            off.append(meter.share(window / 2))
            switch.check()
        thread_on = statistics.mean(thread for _, thread in on)
        thread_off = statistics.mean(thread for _, thread in off)
        frames = alice.evaluate("document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames")
        return {
            "first_unblur_cold_ms": round(cold),
            "first_unblur_warm_ms": [round(value) for value in warm],
            "classifications_in_window": int(classified),
            "classify_ms_mean": round(classify_ms / max(1, classified), 1),
            "renderer_cpu_shield_on": round(statistics.mean(process for process, _ in on), 3),
            "renderer_cpu_shield_off": round(statistics.mean(process for process, _ in off), 3),
            "main_thread_cpu_shield_on": round(thread_on, 3),
            "main_thread_cpu_shield_off": round(thread_off, 3),
            # The main thread's extra CPU per check (the shield was on for `window` seconds in all).
            "classify_cpu_ms": round(1000 * (thread_on - thread_off) * window / max(1, classified), 1),
            # The whole renderer's (worker included); noisier, as video decoding varies with the bitrate.
            "classify_process_cpu_ms": round(
                1000
                * (statistics.mean(p for p, _ in on) - statistics.mean(p for p, _ in off))
                * window
                / max(1, classified),
                1,
            ),
            "classifier_where": alice.evaluate(f"{SHIELD}.stats.where"),
            "remote_frames_shown": frames,
        }
    finally:
        alice_context.close()
        bob_context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=30, help="seconds measured with the shield on, and off")
    parser.add_argument("--strangers", type=int, default=5, help="calls measured with the model loaded")
    parser.add_argument("--visits", type=int, default=3, help="page visits measured for the model load")
    args = parser.parse_args()

    results: dict[str, Any] = {"cores": os.cpu_count(), "load_average_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="alienmeet-bench-shield-") as temp:
        environ = server_env(Path(temp), MATCH_INTEREST_WAIT="1", MEET_RATE_BURST="200")
        migrate(environ)
        server = Server(environ, Path(temp) / "server.log")
        try:
            RULES_VERSION[server.http_url] = asyncio.run(rules_version(server))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
                try:
                    results["chromium"] = browser.version
                    results["model_load"] = measure_model_load(browser, server, args.visits)
                    results["call"] = measure_call(browser, server, args.strangers, args.window)
                finally:
                    browser.close()
        finally:
            server.stop()
    results["load_average_after"] = load_average()
    print(json.dumps(results, indent=2))

    call, load = results["call"], results["model_load"]
    warm = call["first_unblur_warm_ms"]
    rows = [
        ("model load, first visit (empty cache)", f"{load['first_visit_ms']} ms"),
        ("model load, later visits (cached)", ", ".join(f"{ms} ms" for ms in load["later_visits_ms"])),
        ("time per classification, wall (mean)", f"{call['classify_ms_mean']} ms"),
        ("time per classification, main-thread CPU", f"{call['classify_cpu_ms']:.0f} ms"),
        ("time per classification, renderer CPU", f"{call['classify_process_cpu_ms']:.0f} ms"),
        ("classifier ran on", call["classifier_where"]),
        ("first unblur after 1st frame, model loaded", f"median {statistics.median(warm):.0f} ms, max {max(warm)} ms"),
        ("first unblur after 1st frame, model loading", f"{call['first_unblur_cold_ms']} ms"),
        ("renderer CPU during a call, shield on", f"{call['renderer_cpu_shield_on']:.1%} of one core"),
        ("renderer CPU during a call, shield off", f"{call['renderer_cpu_shield_off']:.1%} of one core"),
        (
            "main thread CPU, shield on / off",
            f"{call['main_thread_cpu_shield_on']:.1%} / {call['main_thread_cpu_shield_off']:.1%} of one core",
        ),
        ("load average before / after", f"{results['load_average_before']} / {results['load_average_after']}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
