"""A query's reads share one transaction on the Postgres backend: one connection taken
from the pool per request, whatever the nested fields, and one snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.backends.postgres import PostgresBackend
from tests.support import FINALIZE, GET_SESSION, GraphClient, User, create_session
from tests.support.stores import Database, settings_for_tests


@pytest.fixture
async def counted(database: Database) -> AsyncIterator[tuple[GraphClient, list[int]]]:
    backend = await PostgresBackend.connect(database.app_dsn, pool_size=4)
    acquired = [0]

    class CountingPool:
        def __init__(self, pool: Any) -> None:
            self.pool = pool

        def acquire(self, *args: Any, **kwargs: Any) -> Any:
            acquired[0] += 1
            return self.pool.acquire(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.pool, name)

    backend._transactions.pool = CountingPool(backend._transactions.pool)  # type: ignore[assignment]
    app = create_app(settings_for_tests(), backend=backend)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://g"
    ) as http:
        yield GraphClient(http), acquired
    await backend.close()


async def test_a_query_takes_one_connection_for_all_its_reads(
    counted: tuple[GraphClient, list[int]], alice: User
) -> None:
    client, acquired = counted
    session = await create_session(client, alice)
    acquired[0] = 0
    read = await client.execute(GET_SESSION, {"id": session["id"]}, user=alice)
    assert read.ok()["session"]["revisions"]["totalCount"] == 1
    assert (
        acquired[0] == 1
    )  # session, currentDraft, revisions, drafts, resolutions: one transaction


async def test_each_mutation_field_keeps_its_own_transaction(
    counted: tuple[GraphClient, list[int]], alice: User
) -> None:
    client, acquired = counted
    acquired[0] = 0
    reply = await client.execute(
        'mutation { a: createSession(input: {title: "a"}) { session { id } } '
        'b: createSession(input: {title: "b"}) { session { id } } }',
        user=alice,
    )
    assert reply.ok()
    assert acquired[0] == 2


@pytest.fixture
async def one_connection(database: Database) -> AsyncIterator[tuple[GraphClient, PostgresBackend]]:
    """A gateway whose pool holds a single connection, and that backend."""
    backend = await PostgresBackend.connect(database.app_dsn, pool_size=1)
    app = create_app(settings_for_tests(), backend=backend)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://g"
    ) as http:
        yield GraphClient(http), backend
    await backend.close()


async def test_a_pooled_connection_goes_back_as_the_login_role_with_no_claims(
    one_connection: tuple[GraphClient, PostgresBackend], alice: User
) -> None:
    """The pool skips asyncpg's RESET ALL on release; nothing of a caller may stay behind
    on the one connection, whatever the request did."""
    client, backend = one_connection
    session = await create_session(client, alice)
    requests = [
        (GET_SESSION, {"id": session["id"]}),  # compiled
        ("{ sessions { edges { node { id @include(if: true) } } } }", {}),  # executed
        (FINALIZE, {"input": {"id": session["id"]}}),  # a write
        ("query Q($id: ID!) { session(id: $id) { id } }", {"id": "bad"}),  # refused early
    ]
    for query, variables in requests:
        await client.execute(query, variables, user=alice)
        async with backend._transactions.pool.acquire() as conn:
            assert not conn.is_in_transaction()
            row = await conn.fetchrow(
                "select current_user as login,"
                " coalesce(current_setting('request.jwt.claims', true), '') as claims"
            )
            assert row["login"] == "authenticator"
            assert row["claims"] == ""


async def test_reads_run_on_generic_plans(
    one_connection: tuple[GraphClient, PostgresBackend], alice: User
) -> None:
    """A compiled `sessions` read has optional filters (`$1 is null or status = $1`), for
    which Postgres would otherwise plan again on every execution."""
    client, backend = one_connection
    await create_session(client, alice)
    for _ in range(8):
        reply = await client.execute(
            "query Listing { sessions(first: 5) { totalCount edges { node { id } } } }",
            user=alice,
        )
        assert reply.ok()["sessions"]["totalCount"] == 1
    async with backend._transactions.pool.acquire() as conn:
        plans = await conn.fetchrow(
            "select generic_plans, custom_plans from pg_prepared_statements"
            " where statement like 'select json_build_object(''sessions''%'"
        )
    assert plans is not None
    assert plans["generic_plans"] == 8
    assert plans["custom_plans"] == 0
