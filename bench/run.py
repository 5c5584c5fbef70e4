"""`make bench`: the gateway against PostGraphile 4.14 and the asyncpg floor, side by
side on one machine, one Postgres and one data set, in one run. Writes docs/PERFORMANCE.md.

Everything is on loopback. The systems are interleaved (A B A B ...) so that the
machine's drift hits them alike; each figure is the median of several runs, with the
spread. Load comes from wrk (Debian's), rotating users' tokens and session ids.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psutil

from bench.documents import measure_documents_in_process
from bench.live import measure_live
from bench.live import report_section as live_section
from bench.measure import (
    Machine,
    Run,
    ensure_tools,
    floor,
    sample_rss,
    start_gateway,
    wait_for,
    wrk,
)
from bench.overhead import pg_graphql_overhead
from bench.report import write_report
from bench.workload import (
    BENCH,
    DASHBOARD_QUERIES,
    GATEWAY_QUERIES,
    NODE_DIR,
    PEER_QUERIES,
    PEER_SMART_COMMENTS,
    PEER_WRITE_QUERIES,
    REPORT,
    ROUNDS,
    SCREEN_QUERIES,
    SECONDS,
    SECRET,
    SESSIONS_PER_USER,
    USERS,
    WORKERS,
    WRITE_QUERIES,
    body_file,
    manifest_file,
    seed,
    token,
)
from graph.embedded import EmbeddedPostgres
from graph.migrate import migrate


@dataclass
class Servers:
    """The gateway and PostGraphile, serving the same seeded Postgres."""

    embedded: EmbeddedPostgres
    sessions: dict[uuid.UUID, list[str]]
    env: dict[str, str]
    urls: dict[str, str]
    watched: dict[str, list[int]]  # the processes whose CPU counts as each system's
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


def start_servers(tmp_path: Path, embedded: EmbeddedPostgres) -> Servers:
    asyncio.run(migrate(embedded.admin_dsn))
    t0 = time.monotonic()
    sessions = asyncio.run(seed(embedded.admin_dsn))
    asyncio.run(_execute(embedded.admin_dsn, PEER_SMART_COMMENTS))
    print(
        f"seeded {USERS} users x {SESSIONS_PER_USER} sessions in {time.monotonic() - t0:.0f} s",
        flush=True,
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRAPH_", "SUPABASE_", "DATABASE_URL"))
    }
    return serve_pair(tmp_path, embedded, sessions, env, ports=(18080, 18081), workers=WORKERS)


def serve_pair(
    tmp_path: Path,
    embedded: EmbeddedPostgres,
    sessions: dict[uuid.UUID, list[str]],
    env: dict[str, str],
    *,
    ports: tuple[int, int],
    workers: int,
) -> Servers:
    """The gateway and PostGraphile on `ports`, `workers` server processes each (uvicorn's
    workers; Node's cluster)."""
    gateway_port, peer_port = ports
    for port in ports:  # a server left by an earlier run would answer
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(f"port {port} is in use: stop what serves it first")
    trusted = manifest_file(tmp_path, [*GATEWAY_QUERIES.values(), *SCREEN_QUERIES.values()])
    gateway = start_gateway(
        gateway_port,
        embedded.app_dsn,
        {**env, "GRAPH_TRUSTED_DOCUMENTS": str(trusted)},
        workers=workers,
    )
    peer_dsn = f"postgres://authenticator@localhost/postgres?host={embedded.socket_dir}"
    peer = subprocess.Popen(
        ["node", str(BENCH / "postgraphile" / "server.js"), peer_dsn, str(peer_port), SECRET],
        env={
            **env,
            "NODE_PATH": str(NODE_DIR / "node_modules"),
            "NODE_ENV": "production",
            "WORKERS": str(workers),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    auth = {"Authorization": f"Bearer {token(next(iter(sessions)))}"}
    urls = {
        "gateway": f"http://127.0.0.1:{gateway_port}/graphql",
        "PostGraphile": f"http://127.0.0.1:{peer_port}/graphql",
    }
    servers = Servers(embedded, sessions, env, urls, {}, [gateway, peer])
    wait_for(urls["gateway"], gateway, auth)
    wait_for(urls["PostGraphile"], peer, auth)
    postmaster = psutil.Process(int((embedded.pgdata / "postmaster.pid").read_text().split()[0]))
    servers.watched = {
        "gateway": [gateway.pid, postmaster.pid],
        "PostGraphile": [peer.pid, postmaster.pid],
    }
    return servers


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


Plan = tuple[str, dict[str, str], dict[str, str]]  # operation, the gateway's, the peer's


def side_by_side(servers: Servers, tmp_path: Path, plans: list[Plan]) -> list[Run]:
    """Each operation on both systems, interleaved (A B A B ...) as the reads are; a
    write's variables named as each system names them."""
    files = {
        (system, op): body_file(
            tmp_path,
            ours if system == "gateway" else theirs,
            op,
            servers.sessions,
            peer=system != "gateway" and op in WRITE_QUERIES,
        )
        for op, ours, theirs in plans
        for system in servers.urls
    }
    for (system, _), bodies in files.items():  # warm-up: every worker
        wrk(servers.urls[system], bodies, 2, [])
    runs: list[Run] = []
    for op, _, _ in plans:
        for _ in range(ROUNDS):
            for system, url in servers.urls.items():
                runs.append(
                    quiet_run(system, op, url, files[(system, op)], servers.watched[system])
                )
    return runs


def measure_two_processes(servers: Servers, tmp_path: Path) -> list[Run]:
    """Reads and a write with two server processes on each side."""
    pair = serve_pair(
        tmp_path, servers.embedded, servers.sessions, servers.env, ports=(18086, 18087), workers=2
    )
    try:
        return side_by_side(
            pair,
            tmp_path,
            [
                ("session", GATEWAY_QUERIES, PEER_QUERIES),
                ("sessions", GATEWAY_QUERIES, PEER_QUERIES),
                ("resolveHole", WRITE_QUERIES, PEER_WRITE_QUERIES),
            ],
        )
    finally:
        stop_processes(pair.processes)


async def _execute(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def quiet_run(system: str, op: str, url: str, bodies: Path, watched: list[int]) -> Run:
    """One wrk run, done again (up to twice) while the rest of the machine was busy."""
    for attempt in range(3):
        figures, other = wrk(url, bodies, SECONDS, watched)
        if other < 0.15 or attempt == 2:
            break
        print(f"  {system} {op}: {other:.0%} of the CPU used elsewhere; again", flush=True)
    run = Run(system, op, *figures, other)
    print(
        f"{system:12} {op:13} {figures[0]:8.0f} req/s  p50 {figures[1]:6.1f} ms  "
        f"p95 {figures[2]:6.1f} ms  errors {figures[4]:.0f}  other CPU {other:.0%}",
        flush=True,
    )
    return run


def measure_reads(
    servers: Servers, tmp_path: Path
) -> tuple[list[Run], dict[str, list[tuple[float, float, float]]]]:
    """Both documents on both systems, interleaved (A B A B ...), and the floor after each
    round; a run during which the rest of the machine was busy is done again."""
    runs: list[Run] = []
    floors: dict[str, list[tuple[float, float, float]]] = {}
    files = {
        (system, op): body_file(
            tmp_path, GATEWAY_QUERIES if system == "gateway" else PEER_QUERIES, op, servers.sessions
        )
        for system in servers.urls
        for op in ("session", "sessions")
    }
    for system, url in servers.urls.items():  # warm-up
        for op in ("session", "sessions"):
            wrk(url, files[(system, op)], 2, [])
    for op in ("session", "sessions"):
        for _ in range(ROUNDS):
            for system, url in servers.urls.items():
                runs.append(
                    quiet_run(system, op, url, files[(system, op)], servers.watched[system])
                )
            floors.setdefault(op, []).append(
                asyncio.run(floor(servers.embedded.app_dsn, op, servers.sessions, SECONDS))
            )
            print(
                f"{'floor':12} {op:9} {floors[op][-1][0]:8.0f} ops/s  p50 {floors[op][-1][1]:6.1f} ms",
                flush=True,
            )
    return runs, floors


def measure_beside(
    servers: Servers, tmp_path: Path, queries: dict[str, str]
) -> dict[str, list[Run]]:
    """Documents beside each other on the gateway, interleaved: the session screen beside
    `session`, the dashboard beside `sessions`."""
    files = {op: body_file(tmp_path, queries, op, servers.sessions) for op in queries}
    url, watched = servers.urls["gateway"], servers.watched["gateway"]
    for op in queries:
        wrk(url, files[op], 2, [])  # warm-up
    runs: dict[str, list[Run]] = {op: [] for op in queries}
    # Twice the rounds, each a pair run back to back in alternating order (A B, B A, ...):
    # the report takes the ratio within each pair, which the machine's slower spells
    # (tens of seconds, ±30 %) hit alike, and the median of those.
    for n in range(2 * ROUNDS):
        for op in list(queries)[:: 1 if n % 2 == 0 else -1]:
            runs[op].append(quiet_run("gateway", op, url, files[op], watched))
    return runs


def measure_documents(servers: Servers, tmp_path: Path) -> dict[str, list[Run]]:
    """The same documents sent as text and by `documentId`, on the gateway, interleaved."""
    url, watched = servers.urls["gateway"], servers.watched["gateway"]
    files = {
        f"{op} {form}": body_file(
            tmp_path, SCREEN_QUERIES, op, servers.sessions, by_id=form == "by id"
        )
        for op in SCREEN_QUERIES
        for form in ("as text", "by id")
    }
    for bodies in files.values():
        wrk(url, bodies, 2, [])  # warm-up
    runs: dict[str, list[Run]] = {name: [] for name in files}
    for _ in range(ROUNDS):
        for name, bodies in files.items():
            runs[name].append(quiet_run("gateway", name, url, bodies, watched))
    return runs


def measure_writes(servers: Servers, tmp_path: Path) -> list[Run]:
    """The writes on both systems, each calling the same SQL function as the caller."""
    return side_by_side(
        servers, tmp_path, [(op, WRITE_QUERIES, PEER_WRITE_QUERIES) for op in WRITE_QUERIES]
    )


def main() -> int:
    ensure_tools()
    started_at = datetime.datetime.now(datetime.UTC)
    machine = Machine()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        embedded = EmbeddedPostgres(tmp_path / "pg")
        embedded.start()
        servers: Servers | None = None
        try:
            servers = start_servers(tmp_path, embedded)
            stop: list[bool] = []
            sampler = threading.Thread(
                target=sample_rss,
                args=(
                    {"gateway": servers.processes[0].pid, "PostGraphile": servers.processes[1].pid},
                    machine,
                    stop,
                ),
                daemon=True,
            )
            sampler.start()
            runs, floors = measure_reads(servers, tmp_path)
            screen = measure_beside(servers, tmp_path, SCREEN_QUERIES)
            dashboard = measure_beside(servers, tmp_path, DASHBOARD_QUERIES)
            documents = measure_documents(servers, tmp_path)
            by_id = measure_documents_in_process(embedded.app_dsn, servers.sessions, tmp_path)
            writes = measure_writes(servers, tmp_path)
            two = measure_two_processes(servers, tmp_path)
            stop.append(True)
            live = measure_live(embedded, servers.sessions, servers.env)
            print(live_section(live), flush=True)
            overhead = pg_graphql_overhead(
                embedded.app_dsn, servers.sessions, tmp_path, servers.env, servers.processes
            )
        finally:
            stop_processes(servers.processes if servers is not None else [])
            embedded.stop()

    summary = write_report(
        started_at,
        runs,
        floors=floors,
        screen=screen,
        dashboard=dashboard,
        documents=documents,
        by_id=by_id,
        writes=writes,
        two=two,
        machine=machine,
        overhead=overhead,
        live=live,
    )
    print(REPORT.read_text())
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
