"""Start the network lab by hand, or throw away what is left of one.

    sudo .venv/bin/python -m tests.netlab up [--homes endpoint-independent,symmetric]
    sudo .venv/bin/python -m tests.netlab down
    .venv/bin/python -m tests.netlab report


``up`` builds the lab with the site and coturn, one home per NAT kind given, prints how to run a
browser in each home, and keeps everything running until Ctrl-C, when it removes it all. ``down``
removes every lab namespace on this machine, also those of a lab that is still running.
``report`` prints the figures of the last scenario run (artifacts/netlab-measurements.json) as the
Markdown table kept in docs/connectivity.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path

from tests.netlab.lab import NAT_KINDS, PREFIX, Lab, namespaces, remove_namespace, unavailable_reason
from tests.netlab.services import make_certificate, start_site, start_turn

BROWSER_FLAGS = "--no-sandbox --ignore-certificate-errors --use-fake-device-for-media-stream --no-first-run"


def up(kinds: list[str]) -> int:
    reason = unavailable_reason()
    if reason:
        print(f"cannot build the lab: {reason}", file=sys.stderr)
        return 1
    lab = Lab()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        lab.build()
        for index, kind in enumerate(kinds, start=1):
            lab.add_home(f"home{index}", kind)
        directory = Path(tempfile.mkdtemp(prefix="alienmeet-netlab-"))
        cert, key = make_certificate(directory)
        turn = start_turn(lab, directory, cert, key)
        site = start_site(lab, directory, cert, key, turn)
        print(f"site: {site.url}/meet/  (logs in {directory})")
        for label, home in lab.homes.items():
            profile = directory / f"profile-{label}"
            print(
                f"{label} ({home.kind}, public {home.wan_address}):\n"
                f"  ip netns exec {home.namespace} chromium {BROWSER_FLAGS} "
                f"--user-data-dir={profile} {site.url}/meet/"
            )
        print("Ctrl-C removes the lab.")
        while not stop.wait(0.5):
            pass
    finally:
        # A second Ctrl-C must not stop the clean-up half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        lab.destroy()
    return 0


def down() -> int:
    removed = [name for name in namespaces() if name.startswith(PREFIX)]
    for name in removed:
        remove_namespace(name)
    print(f"removed {len(removed)} lab namespace(s)")
    return 0


def report() -> int:
    path = Path(__file__).resolve().parents[2] / "artifacts" / "netlab-measurements.json"
    if not path.exists():
        print(f"no measurements yet: run the scenarios first ({path} is missing)", file=sys.stderr)
        return 1
    rows = json.loads(path.read_text())
    print(
        "| Scenario | Path | Selected pair (each visitor: local -> remote) "
        "| First frame after match (s, each visitor) | Recovery / give-up (s) |"
    )
    print("|---|---|---|---|---|")
    for scenario, figures in rows.items():
        frames = ", ".join(f"{value:.2f}" for value in figures.get("first_frame_s", [])) or "-"
        other = figures.get("recovered_s", figures.get("gave_up_s"))
        values = other if isinstance(other, list) else [] if other is None else [other]
        seconds = ", ".join(f"{value:.2f}" for value in values) or "-"
        pairs = "; ".join(figures.get("pairs", [])) or "-"
        print(f"| {scenario} | {figures['kind']} | {pairs} | {frames} | {seconds} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.netlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="build the lab and keep it until Ctrl-C")
    start.add_argument(
        "--homes",
        default="endpoint-independent,endpoint-independent",
        help=f"comma-separated NAT kind per home, from: {', '.join(NAT_KINDS)}",
    )
    commands.add_parser("down", help="remove every lab namespace left on this machine")
    commands.add_parser("report", help="print the last scenario run's figures as a Markdown table")
    args = parser.parse_args(argv)
    if args.command == "down":
        return down()
    if args.command == "report":
        return report()
    kinds = [kind.strip() for kind in args.homes.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in NAT_KINDS]
    if unknown or not kinds:
        parser.error(f"unknown NAT kind(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(NAT_KINDS)}")
    return up(kinds)


if __name__ == "__main__":
    sys.exit(main())
