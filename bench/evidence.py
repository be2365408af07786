#!/usr/bin/env python
"""What checking a report's snapshot costs the server: CPU time of moderation.evidence.clean_snapshot
(the marker walk, the decode and the re-encoding) for a browser-like snapshot, for the most expensive
legal files we can craft, and for the refinement-scan attack it refuses.

    .venv/bin/python bench/evidence.py               # 20 checks per file
    .venv/bin/python bench/evidence.py --trials 5

Prints, per file, its size, the outcome, and the median and maximum CPU time (process time, so
other processes on the machine do not count, though they still cost it cache) of one check.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402

# The check needs no app, only its messages read in English.
settings.configure(USE_I18N=False)

from moderation.evidence import EvidenceError, clean_snapshot  # noqa: E402
from tests.moderation import jpeg_files  # noqa: E402


def files() -> list[tuple[str, Callable[[], bytes]]]:
    source = jpeg_files.noise()

    def band(progressive: bool) -> bytes:
        height, data = jpeg_files.coarse_noise_band(progressive, source)
        print(f"  ({'progressive' if progressive else 'baseline'} noise band: {height} of 1280 rows)")
        return data

    return [
        ("browser-like 640x480 baseline", jpeg_files.browser_like),
        ("1280x1280 baseline, noise band, 4:4:4", lambda: band(False)),
        ("1280x1280 baseline, restart after every block", lambda: jpeg_files.restart_every_block(source)),
        ("1280x1280 flat, the rest quantization tables", lambda: jpeg_files.padded_with_tables(jpeg_files.flat())),
        ("1280x1280 progressive (Pillow's 10 scans), refused", lambda: band(True)),
        ("refinement-scan attack, 131,068 B, refused", jpeg_files.largest_refinement_attack),
    ]


def check(data: bytes) -> tuple[float, str]:
    started = time.process_time()
    try:
        stored = clean_snapshot(data)
        outcome = f"stored {len(stored):,} B"
    except EvidenceError as error:
        outcome = f"refused: {error.message}"
    return (time.process_time() - started) * 1000, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    worst = 0.0
    print(f"{'file':55} {'bytes':>9} {'median ms':>10} {'max ms':>8}  outcome")
    for label, make in files():
        data = make()
        check(data)  # the first decode pays for libjpeg's tables and Python's imports
        times = []
        for _ in range(args.trials):
            elapsed, outcome = check(data)
            times.append(elapsed)
        print(f"{label:55} {len(data):>9,} {statistics.median(times):>10.1f} {max(times):>8.1f}  {outcome[:60]}")
        if not outcome.startswith("refused"):
            worst = max(worst, statistics.median(times))
    print(f"worst legal snapshot: {worst:.1f} ms of CPU (median of {args.trials})")


if __name__ == "__main__":
    main()
