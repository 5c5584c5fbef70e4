"""Live subscriptions at scale: one gateway process holds 1,000 WebSocket subscriptions
(100 users x 10 sessions, one graphql-ws client per user: bench/live_load.cjs) while 100
writes a second (`addRevision`, over HTTP, each with its session's owner's token) land
spread over those sessions.

Latency is from the moment a write is sent to the moment its event (or a later one of the
same session, when a burst coalesced) reaches the subscriber: an upper bound on commit to
client, since it includes the write's own round trip. At the end every session's
subscriber must have seen its last written version.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.measure import start_gateway, tree_cpu, wait_for
from bench.workload import BENCH, token
from graph.embedded import EmbeddedPostgres

LIVE_USERS = 100
LIVE_SESSIONS = 10
WRITES_PER_S = 100
LIVE_SECONDS = int(os.environ.get("BENCH_LIVE_SECONDS", "20"))
DRAIN_S = 5.0  # after the last write, for the last events to arrive
PORT = 18082
QUERY = (
    "subscription L($id: ID!) { sessionEvents(sessionId: $id) "
    "{ kind sessionId version session { version status } } }"
)
WRITE = (
    "mutation W($input: AddRevisionInput!) { addRevision(input: $input) { session { version } } }"
)
CLIENTS = BENCH.parent / "tests" / "js" / "node_modules"  # graphql-ws and ws: make js-clients
_SUBSCRIPTIONS = re.compile(r"^graph_live_subscriptions (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class LiveFigures:
    subscriptions: int
    writes: int
    write_errors: int
    events: int
    client_errors: int
    missing: int  # sessions whose subscriber never saw their last written version
    p50_ms: float
    p99_ms: float
    max_ms: float
    ack_p50_ms: float  # the writes' own round trip, for comparison
    ack_p99_ms: float
    ack_max_ms: float
    server_p50_ms: float  # the gateway's histogram: the change in Postgres to the send,
    server_p99_ms: float  # as the upper edge of the bucket the percentile falls in
    peak_rss_mb: float
    gateway_cpu_s: float  # the gateway and Postgres, during the writes
    load_cpu_s: float  # the subscribers' Node process and this writer, during the writes


def measure_live(
    embedded: EmbeddedPostgres, sessions: dict[uuid.UUID, list[str]], env: dict[str, str]
) -> LiveFigures:
    users = sorted(sessions)[:LIVE_USERS]
    followed = {user: sorted(sessions[user])[:LIVE_SESSIONS] for user in users}
    gateway = start_gateway(PORT, embedded.app_dsn, env)
    load = None
    try:
        url = f"http://127.0.0.1:{PORT}/graphql"
        wait_for(url, gateway, {"Authorization": f"Bearer {token(users[0])}"})
        load = subprocess.Popen(
            ["node", str(BENCH / "live_load.cjs")],
            env={**env, "NODE_PATH": str(CLIENTS)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert load.stdin is not None
        assert load.stdout is not None
        config = {
            "url": f"ws://127.0.0.1:{PORT}/graphql",
            "query": QUERY,
            "users": [{"token": token(user), "sessions": followed[user]} for user in users],
        }
        load.stdin.write(json.dumps(config) + "\n")
        load.stdin.flush()
        subscribed = json.loads(load.stdout.readline())["subscribed"]
        held = _until_held(url, subscribed)
        rss: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(gateway.pid, rss, stop), daemon=True)
        sampler.start()
        postmaster = int((embedded.pgdata / "postmaster.pid").read_text().split()[0])
        cpu_before = tree_cpu([gateway.pid, postmaster])
        load_before = tree_cpu([load.pid]) + time.process_time()
        owners = {s: user for user in users for s in followed[user]}
        buckets_before = _delivery_buckets(url)
        written, acknowledged, write_errors = asyncio.run(_write(url, owners))
        cpu_spent = tree_cpu([gateway.pid, postmaster]) - cpu_before
        load_spent = tree_cpu([load.pid]) + time.process_time() - load_before
        time.sleep(DRAIN_S)
        buckets = {
            edge: count - buckets_before.get(edge, 0)
            for edge, count in _delivery_buckets(url).items()
        }
        stop.set()
        sampler.join()
        load.stdin.write("stop\n")
        load.stdin.flush()
        result = json.loads(load.stdout.readline())
        load.wait(timeout=30)
    finally:
        for process in (load, gateway):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
    return _figures(
        _Measured(
            held, written, acknowledged, write_errors, result, rss, cpu_spent, load_spent, buckets
        )
    )


async def _write(
    url: str, owners: dict[str, uuid.UUID]
) -> tuple[list[tuple[str, int, float]], list[float], int]:
    """WRITES_PER_S for LIVE_SECONDS, each at its own moment (not after the previous one
    ends), over the followed sessions in a fixed random order."""
    order = sorted(owners)
    random.Random(1).shuffle(order)
    total = WRITES_PER_S * LIVE_SECONDS
    written: list[tuple[str, int, float]] = []
    acknowledged: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def one(n: int, session_id: str) -> None:
            nonlocal errors
            sent = time.time()
            response = await http.post(
                url,
                json={
                    "query": WRITE,
                    "variables": {"input": {"sessionId": session_id, "content": f"live {n}"}},
                },
                headers={"Authorization": f"Bearer {token(owners[session_id])}"},
            )
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                errors += 1
                return
            version = body["data"]["addRevision"]["session"]["version"]
            written.append((session_id, version, sent))
            acknowledged.append(time.time() - sent)

        start = time.monotonic()
        tasks = []
        for n in range(total):
            delay = start + n / WRITES_PER_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n, order[n % len(order)])))
        await asyncio.gather(*tasks)
    return written, acknowledged, errors


@dataclass(frozen=True)
class _Measured:
    held: int
    written: list[tuple[str, int, float]]  # (session, version, when sent)
    acknowledged: list[float]  # each write's round trip, seconds
    write_errors: int
    result: dict[str, object]  # what the subscribers received
    rss: list[float]
    cpu_spent: float
    load_spent: float
    buckets: dict[float, float]  # the delivery histogram's cumulative counts, this run's


def _figures(m: _Measured) -> LiveFigures:
    received = m.result["received"]
    assert isinstance(received, list)
    by_session: dict[str, list[tuple[int, float]]] = {}
    for session_id, version, at_ms in received:
        by_session.setdefault(session_id, []).append((version, at_ms / 1000))
    latencies = []
    last_written: dict[str, int] = {}
    for session_id, version, sent in m.written:
        last_written[session_id] = max(last_written.get(session_id, 0), version)
        seen = [at for v, at in by_session.get(session_id, []) if v >= version]
        if seen:
            latencies.append(max(0.0, min(seen) - sent) * 1000)
    missing = sum(
        1
        for session_id, version in last_written.items()
        if max((v for v, _ in by_session.get(session_id, [])), default=0) < version
    )
    acknowledged = sorted(seconds * 1000 for seconds in m.acknowledged)
    errors = m.result["errors"]
    return LiveFigures(
        subscriptions=m.held,
        writes=len(m.written),
        write_errors=m.write_errors,
        events=len(received),
        client_errors=int(errors) if isinstance(errors, int) else -1,
        missing=missing,
        p50_ms=_percentile(sorted(latencies), 0.50),
        p99_ms=_percentile(sorted(latencies), 0.99),
        max_ms=max(latencies, default=0.0),
        ack_p50_ms=_percentile(acknowledged, 0.50),
        ack_p99_ms=_percentile(acknowledged, 0.99),
        ack_max_ms=max(acknowledged, default=0.0),
        server_p50_ms=_bucket_percentile(m.buckets, 0.50) * 1000,
        server_p99_ms=_bucket_percentile(m.buckets, 0.99) * 1000,
        peak_rss_mb=max(m.rss, default=0.0),
        gateway_cpu_s=m.cpu_spent,
        load_cpu_s=m.load_spent,
    )


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def _bucket_percentile(buckets: dict[float, float], p: float) -> float:
    total = buckets.get(float("inf"), 0.0)
    for edge in sorted(buckets):
        if total and buckets[edge] >= p * total:
            return edge
    return float("nan")


_BUCKET = re.compile(r'^graph_live_delivery_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.MULTILINE)


def _delivery_buckets(url: str) -> dict[float, float]:
    text = httpx.get(url.removesuffix("/graphql") + "/metrics", timeout=5).text
    return {float(edge): float(count) for edge, count in _BUCKET.findall(text)}


def _until_held(url: str, expected: int) -> int:
    """The gateway's own count of live subscriptions, once it holds `expected` (or after
    a minute, whatever it holds then)."""
    metrics = url.removesuffix("/graphql") + "/metrics"
    deadline = time.monotonic() + 60
    held = 0
    while time.monotonic() < deadline:
        found = _SUBSCRIPTIONS.search(httpx.get(metrics, timeout=5).text)
        held = int(float(found.group(1))) if found else 0
        if held >= expected:
            break
        time.sleep(0.2)
    return held


def _sample_rss(pid: int, into: list[float], stop: threading.Event) -> None:
    process = psutil.Process(pid)
    while not stop.wait(0.5):
        into.append(process.memory_info().rss / 2**20)


def report_section(live: LiveFigures) -> str:
    verdict = (
        "met"
        if live.p50_ms <= 50
        and live.p99_ms <= 250
        and live.missing == 0
        and live.peak_rss_mb <= 300
        else "not met"
    )
    return f"""### Live subscriptions at scale

One gateway process, {live.subscriptions} WebSocket subscriptions ({LIVE_USERS} users x
{LIVE_SESSIONS} sessions, one graphql-ws client per user, `bench/live_load.cjs`), {WRITES_PER_S}
`addRevision` writes a second for {LIVE_SECONDS} s spread over those sessions (`bench/live.py`).
Latency: from sending a write to its event reaching the subscriber (an upper bound on commit
to client: it includes the write's own round trip).

| figure | value | target |
|---|---|---|
| subscriptions held | {live.subscriptions} | 1000 |
| writes acknowledged / refused | {live.writes} / {live.write_errors} | |
| events delivered / client errors | {live.events} / {live.client_errors} | |
| sessions whose last version never arrived | {live.missing} | 0 |
| delivery p50 | {live.p50_ms:.1f} ms | ≤ 50 ms |
| delivery p99 | {live.p99_ms:.1f} ms | ≤ 250 ms |
| delivery max | {live.max_ms:.1f} ms | |
| the writes' own round trip, p50 / p99 / max | {live.ack_p50_ms:.1f} / {live.ack_p99_ms:.1f} / {live.ack_max_ms:.0f} ms | |
| in the gateway, change to send (histogram bucket), p50 / p99 | ≤ {live.server_p50_ms:.0f} / ≤ {live.server_p99_ms:.0f} ms | |
| gateway peak RSS | {live.peak_rss_mb:.0f} MB | ≤ 300 MB |
| CPU, gateway + Postgres, during the writes | {live.gateway_cpu_s:.1f} s | |
| CPU, the load generator (subscribers + writer) | {live.load_cpu_s:.1f} s | |

Verdict: {verdict}.
"""


def main() -> int:
    """`python -m bench.live`: the live measurement alone, on a freshly seeded Postgres."""
    import tempfile  # noqa: PLC0415

    from bench.measure import ensure_tools  # noqa: PLC0415
    from bench.run import start_servers  # noqa: PLC0415

    ensure_tools()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp) / "pg")
        embedded.start()
        servers = None
        try:
            servers = start_servers(Path(tmp), embedded)
            for process in servers.processes:
                process.terminate()
                process.wait(timeout=20)
            print(report_section(measure_live(embedded, servers.sessions, servers.env)))
        finally:
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
