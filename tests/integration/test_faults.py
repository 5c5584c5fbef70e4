"""Faults: Postgres stopped and restarted under a write load; the pg_graphql upstream
stopped and back. While down the service answers retryable errors; it recovers without
a restart; every acknowledged write is there afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from graph.app import create_app
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.backends.postgres import PostgresBackend
from graph.embedded import EmbeddedPostgres
from graph.errors import UpstreamUnavailable
from graph.migrate import migrate
from tests.pg_graphql_standin.app import create_standin
from tests.support import TEST_JWT_SECRET, GraphClient, new_user
from tests.support.faults import WriteLoad, loopback_socket, serve, stop_serving, write_until
from tests.support.stores import TEST_ANON_KEY, Database, settings_for_tests


async def test_postgres_restart_under_write_load(tmp_path: Path) -> None:
    embedded = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(embedded.start)
    try:
        await migrate(embedded.admin_dsn)
        backend = await PostgresBackend.connect(
            embedded.app_dsn, pool_size=4, statement_timeout_ms=2000
        )
        app = create_app(settings_for_tests(), backend=backend)
        load = WriteLoad()
        async with (
            asyncio.timeout(120),  # a safety net for a hang, not a window the test waits out
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http,
        ):
            client = GraphClient(http)
            writers = asyncio.create_task(write_until(client, load))
            await load.until(lambda done: len(done.acknowledged) >= 10)
            await asyncio.to_thread(embedded.stop)
            await load.until(lambda done: done.codes.total() >= 8)  # every writer refused
            during_outage = len(load.acknowledged)
            await asyncio.to_thread(embedded.start)
            await load.until(lambda done: len(done.acknowledged) >= during_outage + 10)
            load.stop.set()
            await writers
            recovered = await client.execute("{ sessions { totalCount } }", user=new_user())
        await backend.close()

        acknowledged, codes = load.acknowledged, load.codes
        assert set(codes) == {"UPSTREAM_UNAVAILABLE"}, codes
        assert recovered.ok() == {"sessions": {"totalCount": 0}}

        conn = await asyncpg.connect(embedded.admin_dsn)
        try:
            stored = {
                row["idempotency_key"]: str(row["id"])
                for row in await conn.fetch("select id, idempotency_key from public.sessions")
            }
        finally:
            await conn.close()
        lost = {key for key in acknowledged if stored.get(key) != acknowledged[key]}
        assert not lost
        assert len(stored) >= len(acknowledged)
        print(
            f"postgres restart: {len(acknowledged)} acknowledged writes, 0 lost, "
            f"{sum(codes.values())} retryable errors while down"
        )
    finally:
        await asyncio.to_thread(embedded.stop)


async def test_pg_graphql_upstream_down_then_back(database: Database) -> None:
    sock = loopback_socket()
    port = sock.getsockname()[1]
    standin, _ = create_standin(
        database.app_dsn, anon_key=TEST_ANON_KEY, jwt_secret=TEST_JWT_SECRET
    )
    server, task = await serve(standin, sock)
    backend = await PgGraphqlBackend.connect(f"http://127.0.0.1:{port}", TEST_ANON_KEY, timeout_s=1)
    user = new_user()
    try:
        app = create_app(settings_for_tests(), backend=backend)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://g"
        ) as http:
            client = GraphClient(http)
            assert (await client.execute("{ sessions { totalCount } }", user=user)).ok()
            await stop_serving(server, task)
            sock.close()
            down = await client.execute("{ sessions { totalCount } }", user=user)
            assert down.codes == ["UPSTREAM_UNAVAILABLE"]
            assert (await http.get("/readyz")).status_code == 503

            again = loopback_socket(port)
            standin, _ = create_standin(
                database.app_dsn, anon_key=TEST_ANON_KEY, jwt_secret=TEST_JWT_SECRET
            )
            server, task = await serve(standin, again)
            back = await client.execute("{ sessions { totalCount } }", user=user)
            assert back.ok() == {"sessions": {"totalCount": 0}}
            assert (await http.get("/readyz")).status_code == 200
    finally:
        await backend.close()
        await stop_serving(server, task)


async def test_statement_timeout_bounds_database_work(database: Database) -> None:
    """Without the timeout the sleep would end normally after 2 s and nothing be raised."""
    backend = await PostgresBackend.connect(database.app_dsn, pool_size=1, statement_timeout_ms=200)
    try:
        with pytest.raises(UpstreamUnavailable, match="in time"):
            await backend._transactions.without_claims(
                lambda conn: conn.fetchval("select pg_sleep(2)")
            )
    finally:
        await backend.close()
