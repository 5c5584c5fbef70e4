"""What the pg_graphql backend adds over pg_graphql itself: the gateway, a bare
forwarding proxy and the stand-in, at one connection, in interleaved rounds."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import print_ast

from bench.measure import wait_for, wrk
from bench.workload import GATEWAY_QUERIES, ROUNDS, SECONDS, SECRET, token
from graph.backends.pg_graphql.compiled import compile_read as compile_pg_graphql_read
from graph.limits import Limits, validation_rules
from graph.reads.planner import plan_query
from graph.schema import build_schema


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
