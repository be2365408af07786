#!/usr/bin/env python
"""Signaling benchmark: starts the server in each configuration, drives it from this process with
many WebSocket clients speaking protocol version 1, and prints one JSON document and a table.

    make bench                      # everything (about ten minutes on 2 cores)
    .venv/bin/python bench/signaling.py --quick     # a smaller run, to try the script

Figures per configuration: match latency (join -> matched while a partner waits) with N idle
clients connected, relay latency (signal -> signal), matches per second under churn, the most
concurrent connections held and server memory per connection, and server CPU per 1,000 relayed
messages. A minimal relay written with the websockets library alone (bench/floor_relay.py) runs
through the same phases as the floor. Plots go to docs/benchmarks-*.png.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from altcha import solve_challenge_v1

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Config:
    name: str
    processes: int
    redis: bool
    server: str  # daphne | uvicorn | granian | floor
    ping_interval: float = 15
    ping_timeout: float = 20
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Cluster:
    config: Config
    ports: list[int]
    processes: list[subprocess.Popen] = field(default_factory=list)
    redis_url: str | None = None

    def url(self, index: int) -> str:
        return f"ws://127.0.0.1:{self.ports[index % len(self.ports)]}/ws/meet/"

    def pids(self) -> list[int]:
        """Every server process and its descendants (granian serves from a worker it forks)."""
        return [pid for process in self.processes for pid in process_tree(process.pid)]

    def rss_kib(self) -> int:
        return sum(_status(pid, "VmRSS") for pid in self.pids())

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / TICKS
        return total


def process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    pending += [int(child) for child in (task / "children").read_text().split()]
    return found


def _status(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


@contextlib.contextmanager
def cluster(config: Config, workdir: Path) -> Iterator[Cluster]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "alienmeet_site.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"sqlite:///{workdir / (config.name + '.sqlite3')}",
            "MEET_RATE_BURST": "1000",
            "MEET_RATE_PER_SECOND": "1000",
            # The proof of work has its own benchmark (bench/pow.py); here it only has to be there.
            "MEET_POW_MAX_NUMBER": "1000",
            "MEET_POW_BUSY_MAX_NUMBER": "1000",
            "MEET_NEXT_PER_MINUTE": "100000",
            # Every client of the load generator comes from one address.
            "MEET_ADDRESS_MAX_CONNECTIONS": "0",
            "MEET_ADDRESS_CONNECTS_PER_MINUTE": "0",
            "ALIENMEET_LOG_LEVEL": "WARNING",
        }
    )
    env.update(config.env)
    database = None
    redis_server = None
    redis_url = None
    if config.redis:
        # Several processes: PostgreSQL, as in production.
        database = f"alienmeet_bench_{secrets.token_hex(3)}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
        # A Redis of its own, so INFO commandstats and INFO cpu count this configuration alone.
        redis_server, redis_url = start_redis(workdir)
        env.update(
            {
                "REDIS_URL": redis_url,
                "REDIS_PREFIX": f"bench-{secrets.token_hex(4)}:",
                "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
            }
        )
    if config.server != "floor" and config.redis:
        subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    elif config.server != "floor":
        # SQLite: migrated once per run, then copied (migrating takes tens of seconds on a loaded machine).
        template = workdir / "migrated.sqlite3"
        if not template.exists():
            migrating = {**env, "DATABASE_URL": f"sqlite:///{template}"}
            subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=migrating, check=True)
        shutil.copyfile(template, workdir / (config.name + ".sqlite3"))
    ports = [free_port() for _ in range(config.processes)]
    running = Cluster(config, ports, redis_url=redis_url)
    log = (workdir / f"{config.name}.log").open("ab")
    try:
        for port in ports:
            if config.server == "floor":
                command = [PYTHON, str(ROOT / "bench" / "floor_relay.py"), str(port)]
            else:
                # As production starts each server (alienmeet_site/serve.py): pings, no access log,
                # uvicorn on uvloop, httptools and websockets' sans-I/O protocol, granian on uvloop.
                command = [PYTHON, "-m", "alienmeet_site.serve", "--server", config.server, "--port", str(port)]
                command += ["--ping-interval", str(config.ping_interval), "--ping-timeout", str(config.ping_timeout)]
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            running.processes.append(process)
            wait_for_port(port, process)
        yield running
    finally:
        for process in running.processes:
            process.terminate()
        for process in running.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)
        if database:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", database], check=False)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process, f"redis://127.0.0.1:{port}/0"


class RedisMeter:
    """What a phase cost Redis, from INFO before and after: commands by name, reads (one per
    request batch a client sends, so round trips), bytes in and out, and Redis CPU time."""

    def __init__(self, url: str | None) -> None:
        import redis

        self.client = redis.Redis.from_url(url) if url else None
        self.before: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        assert self.client is not None
        figures: dict[str, float] = {}
        for name, stats in self.client.info("commandstats").items():
            figures[name.removeprefix("cmdstat_")] = stats["calls"]
        info = self.client.info("everything")
        for key in ("total_commands_processed", "total_reads_processed", "total_net_input_bytes"):
            figures["@" + key] = info[key]
        figures["@total_net_output_bytes"] = info["total_net_output_bytes"]
        figures["@cpu_seconds"] = info["used_cpu_sys"] + info["used_cpu_user"]
        return figures

    def start(self) -> None:
        if self.client is not None:
            self.before = self._sample()

    def stop(self, per: float, unit: str) -> dict[str, Any] | None:
        """Cost per `unit` (match, message), `per` of them in the phase; None without Redis."""
        if self.client is None or not per:
            return None
        after = self._sample()
        delta = {key: value - self.before.get(key, 0) for key, value in after.items()}
        # Leave out the meter's own INFO calls that fall between the two readings.
        for key in ("info", "@total_commands_processed", "@total_reads_processed"):
            delta[key] = delta.get(key, 0) - 2
        commands = {k: round(v / per, 2) for k, v in sorted(delta.items()) if not k.startswith("@") and v > 0}
        return {
            "unit": unit,
            "count": per,
            "commands": round(delta["@total_commands_processed"] / per, 2),
            "round_trips": round(delta["@total_reads_processed"] / per, 2),
            "bytes_in": round(delta["@total_net_input_bytes"] / per),
            "bytes_out": round(delta["@total_net_output_bytes"] / per),
            "cpu_us": round(delta["@cpu_seconds"] * 1e6 / per, 1),
            "by_command": commands,
        }


def own_cpu_seconds() -> float:
    """CPU time of this process (the load generator), user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def page_origin(url: str) -> str:
    """The origin of the call page that opens this socket (the server accepts its own origin only)."""
    return "http://" + url.removeprefix("ws://").split("/", 1)[0]


class Client:
    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.admission: dict[str, Any] = {}

    @classmethod
    async def open(cls, url: str) -> Client:
        connection = await websockets.connect(
            url, origin=page_origin(url), open_timeout=30, compression=None, max_size=2**20, ping_interval=None
        )
        client = cls(connection)
        client.admit(await client.expect("hello"))
        return client

    def admit(self, hello: dict[str, Any]) -> None:
        """What a browser sends with join and next: the accepted rules and the solved challenge."""
        challenge = hello.get("challenge")
        if not challenge:
            return  # the floor server asks for neither
        solution = solve_challenge_v1(
            challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
        )
        number = solution.number if solution else -1
        self.admission = {"rules": hello.get("rules"), "pow": {**challenge, "number": number}}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] in ("join", "next"):
            message = {**self.admission, **message}
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 15) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
            if message["type"] != "online":
                return message

    async def expect(self, kind: str, timeout: float = 15) -> dict[str, Any]:
        message = await self.receive(timeout)
        if message["type"] != kind:
            raise AssertionError(f"expected {kind}, got {message}")
        return message

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close()


def percentiles(samples: list[float]) -> dict[str, float | int | None]:
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 3)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


async def open_many(running: Cluster, count: int, offset: int = 0, parallel: int = 100) -> list[Client]:
    gate = asyncio.Semaphore(parallel)

    async def one(index: int) -> Client:
        async with gate:
            for attempt in range(3):  # a real browser retries a refused handshake too
                try:
                    return await Client.open(running.url(index))
                except (OSError, websockets.InvalidHandshake, websockets.InvalidMessage, TimeoutError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))
            raise AssertionError("unreachable")

    return list(await asyncio.gather(*(one(offset + i) for i in range(count))))


async def match_latency(running: Cluster, idle: int, trials: int) -> dict[str, Any]:
    """join -> matched for the second of two, while `idle` other clients stay connected."""
    bystanders = await open_many(running, idle)
    samples = []
    for trial in range(trials):
        first = await Client.open(running.url(trial))
        second = await Client.open(running.url(trial + 1))  # the other process, when there are two
        await first.send({"type": "join"})
        await first.expect("waiting")
        started = time.perf_counter()
        await second.send({"type": "join"})
        await second.expect("matched")
        samples.append((time.perf_counter() - started) * 1000)
        await first.expect("matched")
        await first.close()
        await second.close()
    await asyncio.gather(*(client.close() for client in bystanders))
    return {"idle_clients": idle, **percentiles(samples)}


async def matched_pairs(running: Cluster, count: int) -> list[tuple[Client, Client, str]]:
    pairs = []
    for index in range(count):
        first = await Client.open(running.url(index))
        second = await Client.open(running.url(index + 1))
        await first.send({"type": "join"})
        await first.expect("waiting")
        await second.send({"type": "join"})
        match_id = (await second.expect("matched"))["match_id"]
        await first.expect("matched")
        pairs.append((first, second, match_id))
    return pairs


CANDIDATE = {"candidate": {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host", "sdpMid": "0"}}


async def bounce(pairs: list[tuple[Client, Client, str]], rounds: int, pause: float, samples: list[float]) -> None:
    """Each pair sends a candidate back and forth; `pause` > 0 spaces the sends (jittered)."""

    async def one(first: Client, second: Client, match_id: str, seed: int) -> None:
        rng = random.Random(seed)
        sender, receiver = first, second
        if pause:
            await asyncio.sleep(rng.random() * pause)
        for _ in range(rounds):
            started = time.perf_counter()
            await sender.send({"type": "signal", "match_id": match_id, "data": CANDIDATE})
            await receiver.expect("signal")
            samples.append((time.perf_counter() - started) * 1000)
            sender, receiver = receiver, sender
            if pause:
                await asyncio.sleep(pause * (0.5 + rng.random()))

    await asyncio.gather(*(one(*pair, seed) for seed, pair in enumerate(pairs)))


async def relay(running: Cluster, pairs_count: int, rounds: int) -> dict[str, Any]:
    """Latency at a realistic load (pairs trading candidates every ~50 ms), then the most
    messages a second with every pair sending flat out, and the server CPU that costs."""
    pairs = await matched_pairs(running, pairs_count)
    paced: list[float] = []
    await bounce(pairs, rounds, 0.05, paced)
    flat_out: list[float] = []
    meter = RedisMeter(running.redis_url)
    meter.start()
    load_before = os.getloadavg()[0]
    cpu_before = running.cpu_seconds()
    started = time.perf_counter()
    await bounce(pairs, rounds * 4, 0, flat_out)
    elapsed = time.perf_counter() - started
    cpu = running.cpu_seconds() - cpu_before
    redis_cost = meter.stop(len(flat_out), "relayed message")
    for first, second, _ in pairs:
        await first.close()
        await second.close()
    return {
        "pairs": pairs_count,
        **percentiles(paced),
        "paced_messages_per_second": round(len(paced) / (rounds * 0.05 + 0.05)),
        "saturated": {**percentiles(flat_out), "messages_per_second": round(len(flat_out) / elapsed)},
        "server_cpu_ms_per_1000_messages": round(cpu / len(flat_out) * 1000 * 1000, 1),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "redis_per_message": redis_cost,
    }


async def churn(running: Cluster, clients: int, seconds: float) -> dict[str, Any]:
    """Pairs meet, trade three signals each way, and the impolite side presses Next."""
    peers = await open_many(running, clients)
    matches = 0
    stop = time.monotonic() + seconds

    async def drive(client: Client) -> None:
        nonlocal matches
        await client.send({"type": "join"})
        match_id, polite, received = None, False, 0
        while time.monotonic() < stop:
            try:
                message = await client.receive(timeout=max(0.05, stop - time.monotonic()))
            except TimeoutError:
                break
            kind = message["type"]
            if kind == "matched":
                match_id, polite, received = message["match_id"], message["polite"], 0
                if not polite:
                    matches += 1
                for n in range(3):
                    await client.send({"type": "signal", "match_id": match_id, "data": {"n": n}})
            elif kind == "signal" and message["match_id"] == match_id:
                received += 1
                if received == 3 and not polite:
                    match_id = None
                    await client.send({"type": "next"})
            elif kind == "partner_left" and message["match_id"] == match_id:
                match_id = None
                await client.send({"type": "join"})

    meter = RedisMeter(running.redis_url)
    meter.start()
    load_before = os.getloadavg()[0]
    cpu_before = running.cpu_seconds()
    own_before = own_cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(drive(peer) for peer in peers))
    elapsed = time.perf_counter() - started
    cpu = running.cpu_seconds() - cpu_before
    own = own_cpu_seconds() - own_before
    redis_cost = meter.stop(matches, "match (with its six relayed signals)")
    await asyncio.gather(*(peer.close() for peer in peers))
    per_match = max(1, matches)
    return {
        "clients": clients,
        "matches": matches,
        "matches_per_second": round(matches / elapsed, 1),
        "server_cpu_ms_per_match": round(cpu * 1000 / per_match, 3),
        # The load generator shares the cores: what it spends per match is taken from the server.
        "load_generator_cpu_ms_per_match": round(own * 1000 / per_match, 3),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "redis_per_match": redis_cost,
    }


def _description(kind: str) -> dict[str, Any]:
    # About the size of a real audio+video+data description from Chromium.
    return {"description": {"type": kind, "sdp": "v=0\r\n" + "a=x" * 1500}}


async def browser_like(running: Cluster, pairs: int, idle: int, seconds: float) -> dict[str, Any]:
    """Signaling as browsers send it: on every match the offering side sends its description and a
    burst of five candidates at once, the answering side answers with its own burst; then Next.
    `pairs` pairs churn this way (a jittered pause per call) while `idle` other clients stay connected."""
    bystanders = await open_many(running, idle)
    peers = await open_many(running, pairs * 2, offset=idle)
    samples: list[float] = []
    calls = 0
    stop = time.monotonic() + seconds

    async def burst(client: Client, match_id: str, kind: str) -> None:
        for data in (_description(kind), *([CANDIDATE] * 5)):
            await client.send({"type": "signal", "match_id": match_id, "data": {**data, "t": time.perf_counter()}})

    async def drive(client: Client, seed: int) -> None:
        nonlocal calls
        rng = random.Random(seed)
        await client.send({"type": "join"})
        match_id, polite, received = None, False, 0
        while time.monotonic() < stop:
            try:
                message = await client.receive(timeout=max(0.05, stop - time.monotonic()))
            except TimeoutError:
                break
            kind = message["type"]
            if kind == "matched":
                match_id, polite, received = message["match_id"], message["polite"], 0
                if not polite:
                    await burst(client, match_id, "offer")
            elif kind == "signal" and message["match_id"] == match_id:
                samples.append((time.perf_counter() - message["data"]["t"]) * 1000)
                received += 1
                if message["data"].get("description", {}).get("type") == "offer":
                    await burst(client, match_id, "answer")
                elif received == 6 and not polite:
                    calls += 1
                    match_id = None
                    await asyncio.sleep(0.05 + rng.random() * 0.1)  # the call, then Next
                    await client.send({"type": "next"})
            elif kind == "partner_left" and message["match_id"] == match_id:
                match_id = None
                await client.send({"type": "join"})

    meter = RedisMeter(running.redis_url)
    meter.start()
    load_before = os.getloadavg()[0]
    await asyncio.gather(*(drive(peer, seed) for seed, peer in enumerate(peers)))
    redis_cost = meter.stop(calls, "call (match, 12 relayed signals, Next)")
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    await asyncio.gather(*(client.close() for client in peers + bystanders))
    return {
        "pairs": pairs,
        "idle_clients": idle,
        "calls": calls,
        **percentiles(samples),
        "load_average": load,
        "redis_per_call": redis_cost,
    }


async def connections(running: Cluster, target: int, step: int) -> dict[str, Any]:
    await asyncio.sleep(1)
    before = running.rss_kib()
    held: list[Client] = []
    error = None
    while len(held) < target:
        try:
            held += await open_many(running, min(step, target - len(held)), offset=len(held), parallel=200)
        except Exception as failure:  # the limit reached: record what was held
            error = f"{type(failure).__name__}: {failure}"[:200]
            break
    await asyncio.sleep(2)
    after = running.rss_kib()
    result = {
        "held": len(held),
        "target": target,
        "server_rss_mib": round(after / 1024, 1),
        "kib_per_connection": round((after - before) / max(1, len(held)), 1),
        "stopped_by": error,
    }
    await asyncio.gather(*(client.close() for client in held))
    return result


PHASES = ("match", "relay", "churn", "browser_like", "connections")


async def run(config: Config, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with cluster(config, workdir) as running:
        result: dict[str, Any] = {"config": config.__dict__}
        if "match" in args.phases:
            result["match"] = await match_latency(running, args.idle, args.trials)
        if "relay" in args.phases:
            result["relay"] = await relay(running, args.pairs, args.rounds)
        if "churn" in args.phases:
            profiler = None
            if args.profile:
                # The process that runs the application: granian's worker, the server itself otherwise.
                pid = running.pids()[-1]
                command = [str(Path(PYTHON).parent / "py-spy"), "record", "-o", args.profile, "--pid", str(pid)]
                command += ["--duration", str(int(min(10, args.churn_seconds))), "--rate", "200"]
                if not args.profile.endswith(".svg"):
                    command += ["--format", "raw"]  # collapsed stacks, one line per stack, for counting
                profiler = await asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL)
            result["churn"] = await churn(running, args.churn_clients, args.churn_seconds)
            if profiler is not None:
                await asyncio.wait_for(profiler.wait(), 60)
        if "browser_like" in args.phases:
            result["browser_like"] = await browser_like(
                running, args.browser_pairs, args.browser_idle, args.browser_seconds
            )
        if "connections" in args.phases:
            target = args.max_connections * config.processes // 2 if config.processes else args.max_connections
            result["connections"] = await connections(running, target, step=500)
        return result


def table(results: list[dict[str, Any]]) -> str:
    header = (
        f"{'configuration':<22} {'match p50/p95/p99 ms':>22} {'relay p50/p95/p99 ms':>22} "
        f"{'msgs/s':>7} {'matches/s':>9} {'conns':>6} {'KiB/conn':>8} {'CPU ms/1k':>9} {'burst p50/p99 ms':>17}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        m, rl = r["match"], r["relay"]
        lines.append(
            f"{r['config']['name']:<22} {m['p50']:>6}/{m['p95']}/{m['p99']:<8} "
            f"{rl['p50']:>6}/{rl['p95']}/{rl['p99']:<8} "
            f"{rl['saturated']['messages_per_second']:>7} "
            f"{r['churn']['matches_per_second']:>9} {r['connections']['held']:>6} "
            f"{r['connections']['kib_per_connection']:>8} {rl['server_cpu_ms_per_1000_messages']:>9} "
            f"{r['browser_like']['p50']:>8}/{r['browser_like']['p99']}"
        )
    return "\n".join(lines)


def plots(results: list[dict[str, Any]], directory: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = [r["config"]["name"] for r in results]
    made = []
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, key, title in ((axes[0], "match", "Match latency (ms)"), (axes[1], "relay", "Relay latency (ms)")):
        width = 0.27
        for offset, quantile in enumerate(("p50", "p95", "p99")):
            values = [r[key][quantile] or 0 for r in results]
            axis.bar([i + (offset - 1) * width for i in range(len(names))], values, width, label=quantile)
        axis.set_xticks(range(len(names)), names, rotation=25, ha="right", fontsize=8)
        axis.set_title(title)
        axis.legend()
    figure.tight_layout()
    path = directory / "benchmarks-latency.png"
    figure.savefig(path, dpi=110)
    made.append(str(path.relative_to(ROOT)))
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    axes[0].bar(names, [r["churn"]["matches_per_second"] for r in results], color="#4c9a6a")
    axes[0].set_title("Matches per second under churn")
    axes[1].bar(names, [r["connections"]["kib_per_connection"] for r in results], color="#5a6fd0")
    axes[1].set_title("Server memory per connection (KiB)")
    for axis in axes:
        axis.tick_params(axis="x", rotation=25, labelsize=8)
    figure.tight_layout()
    path = directory / "benchmarks-capacity.png"
    figure.savefig(path, dpi=110)
    made.append(str(path.relative_to(ROOT)))
    return made


SERVERS = ("daphne", "uvicorn", "granian")
# What production enforces (alienmeet_site/settings.py defaults), for the abuse checks.
PRODUCTION_LIMITS = {"MEET_RATE_BURST": "50", "MEET_RATE_PER_SECOND": "25", "MEET_NEXT_PER_MINUTE": "30"}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _median(values: list[float | None]) -> float | None:
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    middle = len(present) // 2
    return present[middle] if len(present) % 2 else (present[middle - 1] + present[middle]) / 2


def _admit(hello: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    client = Client(None)  # type: ignore[arg-type]
    client.admit(hello)
    return {**client.admission, **message}


async def compare_servers(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """daphne, uvicorn and granian against the floor, in one run: interleaved rounds of churn and
    browser-like relay (every server started once, the order rotated each round), memory per idle
    socket, CPU per match on two processes with Redis, and how each drops an abusive socket."""
    import abuse  # bench/abuse.py, beside this script

    names = ["floor", *SERVERS]
    document: dict[str, Any] = {"uptime_start": uptime(), "rounds": args.rounds_compare, "servers": {}}
    per: dict[str, dict[str, Any]] = {name: {"churn": [], "browser_like": []} for name in names}
    with contextlib.ExitStack() as stack:
        running = {}
        for name in names:
            config = Config(f"{name}-memory-1proc", 1, False, name)
            print(f"starting {config.name} ...", file=sys.stderr, flush=True)
            running[name] = stack.enter_context(cluster(config, workdir))
        for round_index in range(args.rounds_compare):
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                print(f"round {round_index + 1}: churn on {name} ({uptime()})", file=sys.stderr, flush=True)
                result = await churn(running[name], args.churn_clients, args.churn_seconds)
                per[name]["churn"].append({**result, "uptime": uptime()})
            for name in order:
                print(f"round {round_index + 1}: browser-like on {name}", file=sys.stderr, flush=True)
                result = await browser_like(running[name], args.browser_pairs, args.browser_idle, args.browser_seconds)
                per[name]["browser_like"].append({**result, "uptime": uptime()})
        for name in names:
            print(f"idle sockets on {name}", file=sys.stderr, flush=True)
            per[name]["connections"] = {**await connections(running[name], args.idle_sockets, 500), "uptime": uptime()}
    if "redis" in args.compare_parts:
        for name in SERVERS:
            config = Config(f"{name}-redis-2proc", 2, True, name)
            print(f"churn on {config.name}", file=sys.stderr, flush=True)
            with cluster(config, workdir) as two:
                per[name]["redis_2proc_churn"] = {
                    **await churn(two, args.churn_clients, args.churn_seconds),
                    "uptime": uptime(),
                }
    if "abuse" in args.compare_parts:
        for name in SERVERS:
            print(f"abusive sockets on {name}", file=sys.stderr, flush=True)
            checks: dict[str, Any] = {}
            config = Config(f"{name}-abuse", 1, False, name, env=PRODUCTION_LIMITS)
            with cluster(config, workdir) as one:
                url, origin = one.url(0), page_origin(one.url(0))
                checks["flood_close"] = await abuse.flood_close(url, origin)
                checks["bounded_send_buffer"] = await abuse.bounded_buffer(url, origin, _admit, one.rss_kib)
                checks["sigterm_drain"] = await abuse.sigterm_drain(url, origin, _admit, one.processes[0])
            config = Config(f"{name}-pings", 1, False, name, ping_interval=1, ping_timeout=2)
            with cluster(config, workdir) as one:
                checks["ping_timeout"] = await abuse.ping_timeout(one.url(0), page_origin(one.url(0)))
            per[name]["abuse"] = checks
    summarize(per)
    document["servers"] = per
    document["uptime_end"] = uptime()
    return document


def summarize(per: dict[str, dict[str, Any]]) -> None:
    """Medians over the rounds, and each round's ratio to the floor's figure of the same round."""
    floor = per["floor"]
    for figures in per.values():
        churns, bursts = figures["churn"], figures["browser_like"]
        summary: dict[str, Any] = {
            "matches_per_second": _median([c["matches_per_second"] for c in churns]),
            "matches_per_second_rounds": [c["matches_per_second"] for c in churns],
            "vs_floor_rounds": [
                round(c["matches_per_second"] / f["matches_per_second"], 2) if f["matches_per_second"] else None
                for c, f in zip(churns, floor["churn"], strict=False)
            ],
            "server_cpu_ms_per_match": _median([c["server_cpu_ms_per_match"] for c in churns]),
            "browser_like_p99_ms": _median([b["p99"] for b in bursts]),
            "browser_like_p99_rounds": [b["p99"] for b in bursts],
            "browser_like_p50_ms": _median([b["p50"] for b in bursts]),
            "browser_like_p99_vs_floor_rounds": [
                round(b["p99"] / f["p99"], 2) if b["p99"] and f["p99"] else None
                for b, f in zip(bursts, floor["browser_like"], strict=False)
            ],
            "kib_per_idle_socket": figures.get("connections", {}).get("kib_per_connection"),
        }
        summary["vs_floor"] = _median(summary["vs_floor_rounds"])
        summary["browser_like_p99_vs_floor"] = _median(summary["browser_like_p99_vs_floor_rounds"])
        floor_cpu = _median([c["server_cpu_ms_per_match"] for c in floor["churn"]])
        if summary["server_cpu_ms_per_match"] and floor_cpu:
            summary["cpu_per_match_vs_floor"] = round(summary["server_cpu_ms_per_match"] / floor_cpu, 2)
        two = figures.get("redis_2proc_churn")
        if two:
            summary["redis_2proc_cpu_ms_per_match"] = two["server_cpu_ms_per_match"]
            summary["redis_2proc_matches_per_second"] = two["matches_per_second"]
            summary["redis_2proc_cpu_vs_floor"] = (
                round(two["server_cpu_ms_per_match"] / floor_cpu, 2) if floor_cpu else None
            )
        figures["summary"] = summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller numbers, to try the script")
    parser.add_argument("--only", nargs="*", help="configuration names to run")
    parser.add_argument(
        "--phases",
        nargs="*",
        choices=PHASES,
        default=list(PHASES),
        help="phases to run (default: all); a partial run prints its JSON and writes no file unless --output is given",
    )
    parser.add_argument("--output", default=None, help="JSON file (default: docs/benchmarks.json, full runs only)")
    parser.add_argument("--churn-seconds", type=float, default=None, help="length of the churn phase (default 10)")
    parser.add_argument(
        "--configurations",
        action="store_true",
        help="the per-configuration run instead of the server comparison: daphne and uvicorn, in memory and on "
        "Redis with one and two processes, through every phase (docs/benchmarks.json)",
    )
    parser.add_argument("--rounds-compare", type=int, default=3, help="interleaved rounds of the server comparison")
    parser.add_argument(
        "--parts",
        nargs="*",
        choices=("redis", "abuse"),
        default=["redis", "abuse"],
        help="what the server comparison runs besides its rounds (default: both)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        help="with --configurations --only NAME --phases churn: a py-spy flame graph (SVG) of 10 s of the churn",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only: leave docs/benchmarks.md and the JSON as they are"
    )
    args = parser.parse_args()
    full = list(args.phases) == list(PHASES)
    compare = not args.configurations and not args.only and full
    if args.output is None and full and not args.quick and not args.no_write:
        args.output = str(ROOT / "docs" / ("benchmarks-servers.json" if compare else "benchmarks.json"))
    scale = 0.1 if args.quick else 1
    args.idle = int(2000 * scale)
    args.trials = int(300 * scale) or 10
    args.pairs = int(50 * scale) or 5
    args.rounds = 40
    args.churn_clients = int(200 * scale) or 20
    args.churn_seconds = args.churn_seconds or (10 * scale or 2)
    args.max_connections = int(10_000 * scale)
    args.browser_pairs = 20 if not args.quick else 5
    args.browser_idle = int(1000 * scale)
    args.browser_seconds = 10 * scale or 2
    args.idle_sockets = int(2000 * scale)
    args.compare_parts = args.parts

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    if compare:
        commit = _commit()  # at the start: what the servers run
        with tempfile.TemporaryDirectory(prefix="alienmeet-bench-") as tmp:
            document = asyncio.run(compare_servers(args, Path(tmp)))
        document.update(
            {
                "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
                "scale": "quick" if args.quick else "full",
                "commit": commit,
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
        )
        from tables import servers_section, write_servers_section

        if args.output:
            Path(args.output).write_text(json.dumps(document, indent=2))
        print(servers_section(document))
        if args.output and not args.no_write:
            write_servers_section(document)
        return

    configs = [
        Config("floor-websockets", 1, False, "floor"),
        Config("daphne-memory-1proc", 1, False, "daphne"),
        Config("daphne-redis-1proc", 1, True, "daphne"),
        Config("daphne-redis-2proc", 2, True, "daphne"),
    ]
    if _importable("uvicorn"):
        configs += [
            Config("uvicorn-memory-1proc", 1, False, "uvicorn"),
            Config("uvicorn-redis-1proc", 1, True, "uvicorn"),
            Config("uvicorn-redis-2proc", 2, True, "uvicorn"),
        ]
    if _importable("granian"):
        configs += [
            Config("granian-memory-1proc", 1, False, "granian"),
            Config("granian-redis-2proc", 2, True, "granian"),
        ]
    if args.only:
        configs = [c for c in configs if c.name in args.only]

    results = []
    with tempfile.TemporaryDirectory(prefix="alienmeet-bench-") as tmp:
        for config in configs:
            print(f"running {config.name} ...", file=sys.stderr, flush=True)
            results.append(asyncio.run(run(config, args, Path(tmp))))
    floor = next((r for r in results if r["config"]["server"] == "floor"), None)
    if floor:
        compare_with_floor(results, floor)
    document = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "scale": "quick" if args.quick else "full",
        "phases": list(args.phases),
        "results": results,
        "plots": plots(results, ROOT / "docs") if full and args.output else [],
    }
    if args.output:
        Path(args.output).write_text(json.dumps(document, indent=2))
    print(json.dumps(document, indent=2))
    if full:
        print()
        print(table(results))


def _commit() -> str:
    """The commit measured; "-dirty" when the working tree had changes not yet committed."""
    return subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def compare_with_floor(results: list[dict[str, Any]], floor: dict[str, Any]) -> None:
    """Ratios to the floor, for the phases both ran."""
    for r in results:
        for phase in ("relay", "match"):
            if phase in r and phase in floor:
                theirs = floor[phase]["p99"]
                r[phase]["p99_vs_floor"] = round(r[phase]["p99"] / theirs, 2) if theirs else None
        if "browser_like" in r and "browser_like" in floor:
            for quantile in ("p50", "p99"):
                ours, theirs = r["browser_like"][quantile], floor["browser_like"][quantile]
                r["browser_like"][f"{quantile}_vs_floor"] = round(ours / theirs, 2) if ours and theirs else None
        if "churn" in r and "churn" in floor:
            theirs = floor["churn"]["matches_per_second"]
            r["churn"]["vs_floor"] = round(r["churn"]["matches_per_second"] / theirs, 2) if theirs else None


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    main()
