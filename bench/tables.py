#!/usr/bin/env python
"""The Markdown tables of docs/benchmarks.md, from docs/benchmarks.json (and docs/first_frame.json).

.venv/bin/python bench/tables.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _n(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def results_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| configuration | match p50 / p95 / p99 ms | relay p50 / p95 / p99 ms | msgs/s | CPU ms / 1k msgs "
        "| browser-like relay p50 / p99 ms (vs floor) | matches/s (vs floor) | connections held | KiB / connection |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        m, rl, b, c, k = r["match"], r["relay"], r["browser_like"], r["churn"], r["connections"]
        burst = f"{_n(b['p50'])} / {_n(b['p99'])} ({_n(b.get('p50_vs_floor'), 1)}x, {_n(b.get('p99_vs_floor'), 1)}x)"
        lines.append(
            f"| {r['config']['name']} | {_n(m['p50'])} / {_n(m['p95'])} / {_n(m['p99'])} "
            f"| {_n(rl['p50'])} / {_n(rl['p95'])} / {_n(rl['p99'])} | {rl['saturated']['messages_per_second']:,} "
            f"| {_n(rl['server_cpu_ms_per_1000_messages'], 1)} | {burst} "
            f"| {c['matches_per_second']:,.0f} ({_n(c.get('vs_floor'))}x) "
            f"| {k['held']:,} | {_n(k['kib_per_connection'], 1)} |"
        )
    return "\n".join(lines)


def redis_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| configuration | per | commands | round trips | bytes in / out | Redis CPU µs |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for cost in (r["relay"].get("redis_per_message"), r["churn"].get("redis_per_match")):
            if cost:
                lines.append(
                    f"| {r['config']['name']} | {cost['unit']} | {_n(cost['commands'], 1)} "
                    f"| {_n(cost['round_trips'], 1)} "
                    f"| {cost['bytes_in']:,} / {cost['bytes_out']:,} | {_n(cost['cpu_us'], 1)} |"
                )
        call = r["browser_like"].get("redis_per_call")
        if call:
            lines.append(
                f"| {r['config']['name']} | {call['unit']} | {_n(call['commands'], 1)} | {_n(call['round_trips'], 1)} "
                f"| {call['bytes_in']:,} / {call['bytes_out']:,} | {_n(call['cpu_us'], 1)} |"
            )
    return "\n".join(lines)


def main() -> None:
    document = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
    print(results_table(document["results"]))
    print()
    print(redis_table(document["results"]))
    first_frame = ROOT / "docs" / "first_frame.json"
    if first_frame.exists():
        ff = json.loads(first_frame.read_text())
        print()
        print("| figure | p50 ms | p95 ms | samples |")
        print("| --- | --- | --- | --- |")
        for key, label in (
            ("click_to_first_frame_both_ms", "click (or Next) to the first decoded remote frame, both sides"),
            ("matched_to_ice_connected_ms", "`matched` to ICE connected, each side"),
            ("click_to_matched_both_ms", "click (or Next) to `matched` on both sides"),
            ("ice_connected_to_first_frame_ms", "ICE connected to the first decoded remote frame, each side"),
        ):
            if key in ff:
                print(f"| {label} | {_n(ff[key]['p50'], 0)} | {_n(ff[key]['p95'], 0)} | {ff[key]['n']} |")


if __name__ == "__main__":
    main()
