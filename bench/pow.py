#!/usr/bin/env python
"""What the anti-bot proof of work costs a visitor: ALTCHA challenges solved by the page's own
module (static/js/pow.js, which runs the vendored altcha worker on one Web Worker per core, at most
four) in this machine's headless Chromium.

    .venv/bin/python bench/pow.py                  # default and raised difficulty from the settings
    .venv/bin/python bench/pow.py --trials 10      # fewer solves per difficulty

Prints the median, 95th percentile and maximum wall time from handing over the challenge to
holding the solution (workers' start-up included), per difficulty. A challenge's secret number
is uniform in 0..maxNumber, so a solve tries half of them on average. Hashes per second count
every worker's tries: the workers go through their ranges side by side at about the same pace,
so when one finds the number each of them has tried about as many as its offset in its range.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import http.server
import math
import os
import shutil
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The site's settings as deployed (their defaults, or MEET_POW_* from the environment); debug
# only so that no secret key is needed to read them.
os.environ["DJANGO_SETTINGS_MODULE"] = "alienmeet_site.settings"
os.environ.setdefault("DJANGO_DEBUG", "1")

from altcha import create_challenge_v1  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGE = """<!doctype html><meta charset="utf-8"><title>pow bench</title>
<script type="module">
import { ProofOfWork } from "/js/pow.js";
// static/ is served at the root here, not under /static/ as on the site.
const pow = new ProofOfWork({ workerUrl: "/vendor/altcha-2.3.0/worker.js" });
window.solveOnce = async (challenge) => {
  const started = performance.now();
  pow.start(challenge);
  const solution = await pow.solution();
  return { ms: performance.now() - started, number: solution ? solution.number : null, workers: pow.lastWorkers };
};
window.ready = true;
</script>"""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def serve_static() -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(ROOT / "static"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    import django

    django.setup()
    from django.conf import settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument(
        "--max-number",
        type=int,
        action="append",
        help="difficulties to measure (default: the settings' normal and raised ones)",
    )
    args = parser.parse_args()
    conf = settings.ADMISSION
    sizes = args.max_number or [conf["POW_MAX_NUMBER"], conf["POW_BUSY_MAX_NUMBER"]]

    from playwright.sync_api import sync_playwright

    server = serve_static()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    print(f"Chromium {CHROMIUM}, {os.cpu_count()} CPU(s), {args.trials} solves per difficulty")
    print("| maxNumber | median ms | p95 ms | max ms | hashes/s (median) | workers |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.route(f"{base}/bench.html", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
        page.goto(f"{base}/bench.html")
        page.wait_for_function("window.ready === true")
        for size in sizes:
            times, rates, workers = [], [], set()
            for _ in range(args.trials):
                challenge = create_challenge_v1(max_number=size, hmac_key="bench", expires=expires)
                result = page.evaluate("(c) => window.solveOnce(c)", challenge.to_dict())
                number = result["number"]
                assert number is not None, "the worker found no solution"
                times.append(result["ms"])
                count = result["workers"]
                workers.add(count)
                tried = count * (number % math.ceil((size + 1) / count) + 1)
                rates.append(tried / (result["ms"] / 1000))
            print(
                f"| {size:,} | {statistics.median(times):.0f} | {percentile(times, 0.95):.0f} | "
                f"{max(times):.0f} | {statistics.median(rates):,.0f} | {', '.join(map(str, sorted(workers)))} |"
            )
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
