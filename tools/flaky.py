#!/usr/bin/env python
"""Run the named tests N times in a row, each time in a fresh pytest process, and count passes per test.

    .venv/bin/python tools/flaky.py -n 10 tests/turn/test_turn.py::test_no_tcp_relay
    make flaky TESTS="tests/meet/test_consumer.py tests/turn/test_turn.py" N=10

Any pytest selection works (files, node ids, -k or -m after `--`). A fresh process per run is what CI
does, so module state, fixtures and servers start anew each time. Every run writes a JUnit XML file;
the table counts, per test, the runs it passed, failed (or errored), was skipped, or was missing
(collection broke), and the end of each failure's report is printed as it happens. Exits 1 unless
every test passed every run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ("passed", "failed", "skipped")


def outcomes(report: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Each test case of one JUnit XML report, as pytest's node id, with its outcome; and the end of
    each failure's report (a flake seen once is worth nothing without its why)."""
    found: dict[str, str] = {}
    failures: dict[str, str] = {}
    if not report.exists():
        return found, failures
    # The report is the one pytest just wrote for us, not outside input.
    for case in ElementTree.parse(report).iter("testcase"):  # noqa: S314
        # classname is the module's dotted path, and the class if any: back to a node id.
        parts = case.get("classname", "").split(".")
        module = [part for part in parts if not part[:1].isupper()]
        classes = [part for part in parts if part[:1].isupper()]
        node = "::".join(["/".join(module) + ".py", *classes, case.get("name", "")])
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            found[node] = "failed"
            failures[node] = (failure.text or failure.get("message", ""))[-3000:]
        elif case.find("skipped") is not None:
            found[node] = "skipped"
        else:
            found[node] = "passed"
    return found, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("tests", nargs="+", help="what pytest should run (add pytest options after --)")
    args = parser.parse_args()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    durations = []
    with tempfile.TemporaryDirectory(prefix="flaky-") as scratch:
        for run in range(1, args.runs + 1):
            report = Path(scratch) / f"run-{run}.xml"
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
            started = time.monotonic()
            result = subprocess.run(  # noqa: S603
                [*command, *args.tests], cwd=ROOT, capture_output=True, text=True, check=False
            )
            durations.append(time.monotonic() - started)
            seen, failures = outcomes(report)
            for node, outcome in seen.items():
                counts[node][outcome] += 1
            summary = result.stdout.strip().splitlines()[-1:] or ["(no output)"]
            print(f"run {run}/{args.runs}: {durations[-1]:.1f} s, {summary[0]}", flush=True)
            for node, text in failures.items():
                print(f"--- failed in run {run}: {node}\n{text}\n---", flush=True)
            if result.returncode not in (0, 1) or not seen:
                # Collection errors, a crash, an interrupted run: show why, once per run.
                print(result.stdout[-2000:], result.stderr[-2000:], sep="\n", flush=True)
    if not counts:
        print("no test ran")
        return 1
    print(f"\n{args.runs} runs, {sum(durations):.0f} s in all ({max(durations):.1f} s the longest)")
    print(f"{'passed':>8} {'failed':>7} {'skipped':>8} {'missing':>8}  test")
    steady = True
    for node in sorted(counts):
        count = counts[node]
        missing = args.runs - sum(count[outcome] for outcome in OUTCOMES)
        steady &= count["passed"] == args.runs
        print(f"{count['passed']:>5}/{args.runs:<2} {count['failed']:>7} {count['skipped']:>8} {missing:>8}  {node}")
    return 0 if steady else 1


if __name__ == "__main__":
    sys.exit(main())
