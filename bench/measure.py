"""Measuring one system: wrk runs (with the CPU the rest of the machine used meanwhile),
the asyncpg floor, readiness, and the peak memory of each server."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.workload import BENCH, CONNECTIONS, GATEWAY_QUERIES, NODE_DIR, SECRET
from graph.auth import Claims
from graph.backends.postgres import PostgresBackend
from graph.limits import Limits, validation_rules
from graph.reads.plan import Bound
from graph.reads.planner import ReadPlanner
from graph.schema import build_schema


@dataclass
class Run:
    system: str
    operation: str
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    other_cpu: float  # share of the machine used by processes outside the benchmark


@dataclass
class Machine:
    peak_rss_mb: dict[str, float] = field(default_factory=dict)


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=apt_env)
    if not (NODE_DIR / "node_modules" / "postgraphile").is_dir():
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NODE_DIR),
                "postgraphile@4.14",
                "jsonwebtoken@9",
            ],
            check=True,
        )


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds of each process and its descendants, those that have exited included
    (a reaped child's time is in its parent's `children_*`), so a Postgres backend that
    ends during a run still counts as ours."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in proc.children(recursive=True):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        except psutil.NoSuchProcess:
            continue
    return total


def wrk(
    url: str,
    bodies: Path,
    seconds: int,
    watched: list[int],
    *,
    path: str = "/graphql",
    apikey: str | None = None,
    connections: int = CONNECTIONS,
) -> tuple[list[float], float]:
    busy_before = psutil.cpu_times()
    ours_before = tree_cpu(watched)
    started = time.monotonic()
    result = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "wrk" / "graphql.lua"),
            url.removesuffix(path) + path,
            "--",
            str(bodies),
            path,
            *([apikey] if apikey else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.monotonic() - started
    busy_after = psutil.cpu_times()
    ours = tree_cpu(watched) - ours_before
    busy = sum(
        getattr(busy_after, f) - getattr(busy_before, f)
        for f in ("user", "system", "nice", "irq", "softirq")
    )
    other = max(0.0, busy - ours) / (elapsed * (os.cpu_count() or 1))
    line = next(out for out in result.stdout.splitlines() if out.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, errors, bad = (float(x) for x in line.split()[1:])
    return [requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, errors + bad], other


async def floor(
    dsn: str, operation: str, sessions: dict[uuid.UUID, list[str]], seconds: int
) -> tuple[float, float, float]:
    """The gateway's own SQL (the statement its Postgres backend compiles for the same
    document), under role + claims in the same transaction shape, without GraphQL or HTTP:
    arguments are bound before the clock starts."""
    backend = await PostgresBackend.connect(dsn, pool_size=10)
    schema = build_schema()
    planner = ReadPlanner(
        schema._schema,
        rules=validation_rules(Limits()),
        max_tokens=Limits().max_tokens,
        compile_read=backend.compile_read,
    )
    prepared = planner.prepare(GATEWAY_QUERIES[operation], None)
    assert prepared is not None, "the benchmark's document must compile"
    users = list(sessions)
    bound: dict[str, Bound] = {}
    for ids in sessions.values():
        for sid in ids:
            arguments = prepared.plan.bind(schema._schema, {"id": sid})
            assert arguments is not None
            bound[sid] = arguments
    rng = random.Random(3)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            user = rng.choice(users)
            viewer = Claims(user_id=user, raw={"sub": str(user), "role": "authenticated"})
            arguments = bound[rng.choice(sessions[user])]
            t0 = time.perf_counter()
            await prepared.run(viewer, arguments)
            latencies.append(time.perf_counter() - t0)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    elapsed = time.monotonic() - started
    await backend.close()
    latencies.sort()
    return (
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.95)] * 1000,
    )


def start_gateway(
    port: int, app_dsn: str, env: dict[str, str], *, workers: int = 1
) -> subprocess.Popen[bytes]:
    """`session-graph serve` on `port` against `app_dsn`, as the benchmarks run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--port", str(port), "--workers", str(workers)],
        env={
            **env,
            "DATABASE_URL": app_dsn,
            "SUPABASE_JWT_SECRET": SECRET,
            "GRAPH_LOG_LEVEL": "WARNING",
            "GRAPH_DB_POOL_SIZE": "10",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(url: str, process: subprocess.Popen[bytes], headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early")
        try:
            if (
                httpx.post(
                    url, json={"query": "{ __typename }"}, headers=headers, timeout=2
                ).status_code
                == 200
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def sample_rss(pids: dict[str, int], machine: Machine, stop: list[bool]) -> None:
    while not stop:
        for name, pid in pids.items():
            try:
                procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
                workers = [p for p in procs if "postgres" not in p.name()]
                rss = max(p.memory_info().rss for p in workers) / 1e6
                machine.peak_rss_mb[name] = max(machine.peak_rss_mb.get(name, 0.0), rss)
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.5)


def post_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    """An ASGI scope of a POST /graphql with `headers`, for calling the app in process."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
