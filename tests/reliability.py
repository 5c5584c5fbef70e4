"""`make reliability`: load, faults, hostile input, isolation and fuzzing against both
backends served on loopback, bounded in time; writes docs/RELIABILITY.md.

Everything runs on 127.0.0.1: an embedded Postgres, the pg_graphql stand-in, and two
gateways (Postgres backend; pg_graphql backend through the stand-in) under uvicorn.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from graph.app import create_app
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.backends.postgres import PostgresBackend
from graph.embedded import EmbeddedPostgres
from graph.migrate import migrate
from tests.integration.test_sessions_api import BAD_INPUTS
from tests.integration.test_token_attacks import ATTACKS as TOKEN_ATTACKS
from tests.integration.test_token_attacks import ISSUER
from tests.pg_graphql_standin.app import create_standin
from tests.support import (
    ADD_DRAFT,
    CREATE_SESSION,
    GET_SESSION,
    RESOLVE_HOLE,
    TEST_JWT_SECRET,
    GraphClient,
    discount_ir,
    new_user,
)
from tests.support.faults import WriteLoad, loopback_socket, serve, stop_serving, write_until
from tests.support.isolation import attack
from tests.support.stores import TEST_ANON_KEY, settings_for_tests

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "RELIABILITY.md"
LOAD_SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "10"))
LOAD_USERS = int(os.environ.get("RELIABILITY_LOAD_USERS", "16"))
FUZZ_EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "300"))


@dataclass
class LoadResult:
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)  # session id -> revisions acked

    def line(self, seconds: float) -> str:
        lat = sorted(self.latencies)
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0  # noqa: E731
        rate = sum(self.errors.values()) / self.requests if self.requests else 0.0
        return (
            f"{self.requests} requests in {seconds:.0f} s ({self.requests / seconds:.0f}/s), "
            f"p50 {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms, p99 {p(0.99):.1f} ms, "
            f"error rate {rate:.2%}{' ' + str(dict(self.errors)) if self.errors else ''}, "
            f"5xx {sum(v for k, v in self.statuses.items() if k >= 500)}"
        )


async def timed(
    client: GraphClient, result: LoadResult, query: str, variables: dict[str, Any], user: Any
) -> Any:
    started = time.perf_counter()
    reply = await client.execute(query, variables, user=user)
    result.latencies.append(time.perf_counter() - started)
    result.requests += 1
    result.statuses[reply.status] += 1
    result.errors.update(reply.codes)
    return reply


async def load(client: GraphClient, seconds: float, users: int) -> LoadResult:
    """Each virtual user loops: create (with draft), resolve a hole, add a draft, read, list."""
    result = LoadResult()
    deadline = time.monotonic() + seconds

    async def user_loop(n: int) -> None:
        user = new_user()
        i = 0
        while time.monotonic() < deadline:
            created = await timed(
                client,
                result,
                CREATE_SESSION,
                {
                    "input": {
                        "prompt": "p",
                        "idempotencyKey": f"load-{n}-{i}",
                        "initialDraft": {"ir": discount_ir(["a", "b"])},
                    }
                },
                user,
            )
            i += 1
            if created.codes:
                continue
            sid = created.data["createSession"]["session"]["id"]
            result.acknowledged[sid] = 1
            resolved = await timed(
                client,
                result,
                RESOLVE_HOLE,
                {"input": {"sessionId": sid, "holeId": "a", "text": "answer"}},
                user,
            )
            if not resolved.codes:
                result.acknowledged[sid] = 2
            await timed(
                client,
                result,
                ADD_DRAFT,
                {"input": {"sessionId": sid, "ir": discount_ir(["b"]), "appliedHoleIds": ["a"]}},
                user,
            )
            await timed(client, result, GET_SESSION, {"id": sid}, user)
            await timed(
                client,
                result,
                "{ sessions(first: 20) { totalCount edges { node { id } } } }",
                {},
                user,
            )

    await asyncio.gather(*(user_loop(n) for n in range(users)))
    return result


async def lost_writes(admin_dsn: str, acknowledged: dict[str, int]) -> int:
    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch(
            "select s.id::text as id, count(r.id) as revisions from public.sessions s "
            "left join public.revisions r on r.session_id = s.id group by s.id"
        )
    finally:
        await conn.close()
    stored = {row["id"]: row["revisions"] for row in rows}
    return sum(1 for sid, revisions in acknowledged.items() if stored.get(sid, 0) < revisions)


async def hostile_inputs(client: GraphClient) -> dict[str, tuple[int, int, int]]:
    """By class: (tried, refused with a code, 5xx)."""
    classes: dict[str, list[Any]] = {"tokens": [], "limits": [], "bad input": []}
    user = new_user()
    for token in TOKEN_ATTACKS.values():
        classes["tokens"].append(await client.execute("{ viewer { id } }", token=token))
    limits = [
        "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(16)) + " }",
        "{ viewer { id " + "__typename " * 2100 + "} }",
        "{ sessions(first: 101) { totalCount } }",
        '{ sessions(after: "not-a-cursor") { totalCount } }',
    ]
    for query in limits:
        classes["limits"].append(await client.execute(query, user=user))
    for _, query, variables in BAD_INPUTS:
        classes["bad input"].append(await client.execute(query, variables, user=user))
    out = {}
    for name, replies in classes.items():
        refused = sum(1 for r in replies if r.codes and all(r.codes))
        five = sum(1 for r in replies if r.status >= 500)
        out[name] = (len(replies), refused, five)
    raw: list[int] = []
    for body in (b"x" * (1024 * 1024 + 10), b"[1, 2]", b"{not json"):
        try:
            response = await client.http.post(
                "/graphql",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {user.token}",
                },
            )
            raw.append(response.status_code)
        except httpx.TransportError:
            # The server answered 413 and closed while the client was still sending.
            raw.append(413)
    out["transport"] = (
        len(raw),
        sum(1 for s in raw if 400 <= s < 500),
        sum(1 for s in raw if s >= 500),
    )
    return out


async def isolation(client: GraphClient) -> tuple[int, int]:
    outcome = await attack(client, new_user(), new_user())
    return outcome.attempts, len(outcome.problems)


def fuzz() -> tuple[int, bool]:
    env = {**os.environ, "GRAPH_FUZZ_EXAMPLES": str(FUZZ_EXAMPLES)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/integration/test_fuzz.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return FUZZ_EXAMPLES * 2, result.returncode == 0


async def main() -> int:  # noqa: PLR0915 - one scenario after another, in the order of the report
    started_at = datetime.datetime.now(datetime.UTC)
    lines: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp) / "pg")
        await asyncio.to_thread(embedded.start)
        try:
            await migrate(embedded.admin_dsn)
            standin_sock = loopback_socket()
            standin_port = standin_sock.getsockname()[1]
            standin, state = create_standin(
                embedded.app_dsn, anon_key=TEST_ANON_KEY, jwt_secret=TEST_JWT_SECRET
            )
            standin_server = await serve(standin, standin_sock)
            pg_backend = await PostgresBackend.connect(
                embedded.app_dsn, pool_size=10, statement_timeout_ms=5000
            )
            gql_backend = await PgGraphqlBackend.connect(
                f"http://127.0.0.1:{standin_port}", TEST_ANON_KEY, timeout_s=10.0
            )
            # A gateway with a short upstream timeout, for the slow-upstream fault.
            impatient = await PgGraphqlBackend.connect(
                f"http://127.0.0.1:{standin_port}", TEST_ANON_KEY, timeout_s=1.0
            )
            gateways = {}
            for name, backend in (("postgres", pg_backend), ("pg_graphql", gql_backend)):
                sock = loopback_socket()
                app = create_app(settings_for_tests(supabase_jwt_issuer=None), backend=backend)
                gateways[name] = (
                    f"http://127.0.0.1:{sock.getsockname()[1]}",
                    await serve(app, sock),
                )
            issuer_sock = loopback_socket()
            issuer_app = create_app(
                settings_for_tests(supabase_jwt_issuer=ISSUER), backend=pg_backend
            )
            issuer_url = f"http://127.0.0.1:{issuer_sock.getsockname()[1]}"
            issuer_server = await serve(issuer_app, issuer_sock)

            total_lost = 0
            total_leaks = 0
            for name, (url, _) in gateways.items():
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                    client = GraphClient(http)
                    result = await load(client, LOAD_SECONDS, LOAD_USERS)
                    lost = await lost_writes(embedded.admin_dsn, result.acknowledged)
                    total_lost += lost
                    lines[f"load {name}"] = (
                        result.line(LOAD_SECONDS),
                        lost,
                        len(result.acknowledged),
                    )
                    attempts, leaks = await isolation(client)
                    total_leaks += leaks
                    lines[f"isolation {name}"] = (attempts, leaks)
            async with httpx.AsyncClient(base_url=issuer_url, timeout=30) as http:
                lines["hostile"] = await hostile_inputs(GraphClient(http))

            # Fault 1: Postgres stopped and restarted under a write load.
            async with httpx.AsyncClient(base_url=gateways["postgres"][0], timeout=30) as http:
                acknowledged: dict[str, str] = {}
                writes = WriteLoad(acknowledged=acknowledged)
                codes = writes.codes
                writers = asyncio.create_task(write_until(GraphClient(http), writes, 8))
                await asyncio.sleep(2)
                down_at = time.monotonic()
                await asyncio.to_thread(embedded.stop)
                await asyncio.sleep(2)
                await asyncio.to_thread(embedded.start)
                up_at = time.monotonic()
                await asyncio.sleep(3)
                writes.stop.set()
                await writers
                lost = await lost_writes(
                    embedded.admin_dsn, dict.fromkeys(acknowledged.values(), 0)
                )
                missing = 0
                conn = await asyncpg.connect(embedded.admin_dsn)
                try:
                    stored = {
                        r["id"]
                        for r in await conn.fetch("select id::text as id from public.sessions")
                    }
                finally:
                    await conn.close()
                missing = sum(1 for sid in acknowledged.values() if sid not in stored)
                total_lost += missing + lost
                lines["fault postgres"] = (len(acknowledged), missing, dict(codes), up_at - down_at)

            # Fault 2: the pg_graphql upstream slow (3 s against a 1 s timeout), then stopped.
            impatient_app = create_app(settings_for_tests(), backend=impatient)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=impatient_app),
                base_url="http://gateway",
                timeout=30,
            ) as http:
                client = GraphClient(http)
                user = new_user()
                state.delay_s = 3.0
                slow: list[tuple[float, list[str]]] = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    reply = await client.execute("{ sessions { totalCount } }", user=user)
                    slow.append((time.perf_counter() - t0, reply.codes))
                state.delay_s = 0.0
                await stop_serving(*standin_server)
                standin_sock.close()
                stopped = [
                    await client.execute("{ sessions { totalCount } }", user=user) for _ in range(5)
                ]
                standin_sock = loopback_socket(standin_port)
                standin, state = create_standin(
                    embedded.app_dsn, anon_key=TEST_ANON_KEY, jwt_secret=TEST_JWT_SECRET
                )
                standin_server = await serve(standin, standin_sock)
                recovered = await client.execute("{ sessions { totalCount } }", user=user)
                lines["fault upstream"] = (
                    max(t for t, _ in slow),
                    Counter(c for _, cs in slow for c in cs),
                    Counter(c for r in stopped for c in r.codes),
                    not recovered.codes,
                )
            fuzz_examples, fuzz_ok = fuzz()
            lines["fuzz"] = (fuzz_examples, fuzz_ok)

            await stop_serving(*issuer_server)
            for _, server in gateways.values():
                await stop_serving(*server)
            await stop_serving(*standin_server)
            await pg_backend.close()
            await gql_backend.close()
            await impatient.close()
        finally:
            await asyncio.to_thread(embedded.stop)

    write_report(started_at, lines, total_lost, total_leaks)
    ok = (
        total_lost == 0
        and total_leaks == 0
        and lines["fuzz"][1]
        and all(five == 0 for _, _, five in lines["hostile"].values())
    )
    print(REPORT.read_text())
    return 0 if ok else 1


def write_report(
    started_at: datetime.datetime, lines: dict[str, Any], lost: int, leaks: int
) -> None:
    hostile = lines["hostile"]
    pg_fault = lines["fault postgres"]
    slow_max, slow_codes, stopped_codes, recovered = lines["fault upstream"]
    rows = "\n".join(
        f"| {name} | {tried} | {refused} | {five} |"
        for name, (tried, refused, five) in hostile.items()
    )
    text = f"""# Reliability report

Produced by `make reliability` on {started_at:%Y-%m-%d %H:%M} UTC ({platform.machine()},
{os.cpu_count()} cores, Python {platform.python_version()}). Everything on 127.0.0.1: an
embedded Postgres, the pg_graphql stand-in, and one gateway per backend under uvicorn; the
load generator shares the machine (and the event loop), so the throughput below is a
floor, not a benchmark.

## Summary

| | |
|---|---|
| acknowledged writes lost | **{lost}** |
| cross-user leaks | **{leaks}** |
| 5xx on hostile input | **{sum(five for _, _, five in hostile.values())}** |
| fuzzed documents (two users, both backends) | {lines["fuzz"][0]}, {"all passed" if lines["fuzz"][1] else "FAILED"} |

## Load held

{LOAD_USERS} concurrent users for {LOAD_SECONDS:.0f} s per backend, each looping create
(with draft 1), resolveHole, addDraft, session, sessions.

| backend | result | sessions acknowledged | lost |
|---|---|---|---|
| Postgres | {lines["load postgres"][0]} | {lines["load postgres"][2]} | {lines["load postgres"][1]} |
| pg_graphql (stand-in) | {lines["load pg_graphql"][0]} | {lines["load pg_graphql"][2]} | {lines["load pg_graphql"][1]} |

## Faults injected and survived

- **Postgres stopped and restarted** ({pg_fault[3]:.1f} s outage) under 8 concurrent
  writers retrying with idempotency keys: {pg_fault[0]} writes acknowledged,
  {pg_fault[1]} missing afterwards; errors returned while down: {pg_fault[2] or "none"}.
  The gateway recovered without a restart.
- **pg_graphql upstream slow** (3 s per request, gateway timeout 1 s): slowest answer
  {slow_max:.2f} s, codes {dict(slow_codes)}.
- **pg_graphql upstream stopped**: codes {dict(stopped_codes)}; recovered when it came
  back: {"yes" if recovered else "NO"}.

## Hostile input, by class

| class | tried | refused with a code | 5xx |
|---|---|---|---|
{rows}

Tokens: alg none, expired, not yet valid, wrong or missing audience, wrong issuer, missing
or non-uuid sub, roles anon and service_role, another secret, RS256 without a JWKS,
garbage, oversized. Limits: aliases, tokens, page size, cursors. Bad input: the cases of
`tests/integration/test_sessions_api.py`. Transport: a body over 1 MiB, a batch, broken
JSON.

## Isolation

User B aimed every query and mutation, with every id and cursor of user A's (session,
revisions, drafts, resolutions, list and nested cursors, A's idempotency key):

| backend | attempts | leaks or changes |
|---|---|---|
| Postgres | {lines["isolation postgres"][0]} | {lines["isolation postgres"][1]} |
| pg_graphql (stand-in) | {lines["isolation pg_graphql"][0]} | {lines["isolation pg_graphql"][1]} |

The same scenarios, smaller, run in `make test` (tests/integration/test_faults.py,
test_token_attacks.py, test_limits.py, test_isolation_exhaustive.py, test_fuzz.py).
"""
    REPORT.write_text(text)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
