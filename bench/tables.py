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


SERVERS_START = "<!-- make bench: server comparison (bench/signaling.py writes this part) -->"
SERVERS_END = "<!-- end of the server comparison -->"


def _range(values: list[Any], digits: int = 2) -> str:
    return ", ".join(_n(v, digits) for v in values)


def _s(value: float | None, limit: float | None = None) -> str:
    if value is None:
        return f"not within {limit:g} s" if limit else "n/a"
    return f"{value:.2f} s"


def servers_section(document: dict[str, Any]) -> str:
    """The server comparison of `make bench` as Markdown: figures, ratios to the floor, abuse checks."""
    servers = document["servers"]
    lines = [
        f"Run of {document.get('date', '?')} on commit `{document.get('commit', '?')}`, "
        f"{document['rounds']} interleaved rounds (median, then each round).",
        "",
        f"- load at the start: `{document['uptime_start']}`",
        f"- load at the end: `{document['uptime_end']}`",
        "",
        "| server | matches/s | vs floor | server CPU ms / match (vs floor) | browser-like relay p50 / p99 ms "
        "| p99 vs floor | KiB / idle socket | two processes on Redis: CPU ms / match (vs floor), matches/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, figures in servers.items():
        s = figures["summary"]
        two = "n/a"
        if s.get("redis_2proc_cpu_ms_per_match") is not None:
            two = (
                f"{_n(s['redis_2proc_cpu_ms_per_match'])} ({_n(s['redis_2proc_cpu_vs_floor'], 1)}x), "
                f"{_n(s['redis_2proc_matches_per_second'], 0)}"
            )
        cpu_ratio = f" ({_n(s['cpu_per_match_vs_floor'], 1)}x)" if s.get("cpu_per_match_vs_floor") else ""
        lines.append(
            f"| {name} | {_n(s['matches_per_second'], 0)} ({_range(s['matches_per_second_rounds'], 0)}) "
            f"| {_n(s['vs_floor'])}x ({_range(s['vs_floor_rounds'])}) "
            f"| {_n(s['server_cpu_ms_per_match'])}{cpu_ratio} "
            f"| {_n(s['browser_like_p50_ms'])} / {_n(s['browser_like_p99_ms'])} "
            f"({_range(s['browser_like_p99_rounds'])}) "
            f"| {_n(s['browser_like_p99_vs_floor'])}x ({_range(s['browser_like_p99_vs_floor_rounds'])}) "
            f"| {_n(s['kib_per_idle_socket'], 1)} | {two} |"
        )
    lines += [
        "",
        "Load during each figure (`uptime` right after it; churn, then browser-like, per round):",
        "",
    ]
    for name, figures in servers.items():
        loads = [entry["uptime"].split("load average:")[-1].strip() for entry in figures["churn"]]
        loads += [entry["uptime"].split("load average:")[-1].strip() for entry in figures["browser_like"]]
        lines.append(f"- {name}: " + "; ".join(loads))
    abusive = {name: f["abuse"] for name, f in servers.items() if "abuse" in f}
    if abusive:
        lines += [
            "",
            "How each drops an abusive socket (production rate limits; `bench/abuse.py`):",
            "",
            "| server | flood (2,000 frames/s, reads nothing): server lets go after | stops reading in a call: "
            "partner told after, server memory growth | no pong (ping 1 s, timeout 2 s): dropped after "
            "| SIGTERM: close codes, closed after, process exited after |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, checks in abusive.items():
            flood, buffer, ping, drain = (
                checks["flood_close"],
                checks["bounded_send_buffer"],
                checks["ping_timeout"],
                checks["sigterm_drain"],
            )
            told = _s(buffer["sender_told_after_s"]) if buffer["sender_told_after_s"] is not None else "never"
            lines.append(
                f"| {name} | {_s(flood['dropped_after_s'], flood['limit_s'])} "
                f"| {told}, {_n(buffer['server_rss_growth_mib'], 1)} MiB "
                f"(of {buffer['sent_bytes'] / 2**20:.0f} MiB sent) "
                f"| {_s(ping['dropped_after_s'], ping['limit_s'])} "
                f"| {', '.join(str(c) for c in drain['close_codes'])}; {_s(drain['closed_after_s'])}; "
                f"{_s(drain['process_exited_after_s'], 15)} |"
            )
    return "\n".join(lines)


def write_servers_section(document: dict[str, Any]) -> None:
    """Put the comparison into docs/benchmarks.md between its markers (before Results the first time)."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    block = f"{SERVERS_START}\n{servers_section(document)}\n{SERVERS_END}"
    if SERVERS_START in text and SERVERS_END in text:
        before, rest = text.split(SERVERS_START, 1)
        after = rest.split(SERVERS_END, 1)[1]
        text = before + block + after
    else:
        heading = "## The production server: daphne, uvicorn and granian against the floor\n\n"
        marker = "## Results"
        at = text.index(marker) if marker in text else len(text)
        text = text[:at] + heading + block + "\n\n" + text[at:]
    path.write_text(text)


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
