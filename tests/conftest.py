"""Fixtures only (the helpers are in tests/support): one real Postgres per test run
(embedded, or TEST_DATABASE_URL), migrated with the real migrations; the gateway driven
in-process over ASGI.

Every test makes its own users, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from graph.app import create_app
from graph.backends.base import Backend
from graph.embedded import EmbeddedPostgres
from graph.migrate import migrate
from tests.pg_graphql_standin.app import create_standin
from tests.realtime_standin.app import create_realtime_standin
from tests.support import TEST_JWT_SECRET, GraphClient, User, new_user
from tests.support.faults import on_loopback
from tests.support.stores import (
    BACKENDS,
    TEST_ANON_KEY,
    Database,
    RealtimeStandin,
    Standin,
    connect_backend,
    settings_for_tests,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)


def _with_user(dsn: str, user: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture(scope="session")
def postgres(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, EmbeddedPostgres | None]]:
    """An admin DSN: TEST_DATABASE_URL's server, or an embedded Postgres of our own."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external, None
        return
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("embedded-postgres"))
    embedded.start()
    try:
        yield embedded.admin_dsn, embedded
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
async def database(postgres: tuple[str, EmbeddedPostgres | None]) -> AsyncIterator[Database]:
    admin_dsn, embedded = postgres
    name = f"session_graph_test_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    test_admin = urlunsplit(urlsplit(admin_dsn)._replace(path=f"/{name}"))
    await migrate(test_admin)
    app_dsn = os.environ.get("TEST_APP_DATABASE_URL") or _with_user(test_admin, "authenticator")
    yield Database(admin_dsn=test_admin, app_dsn=app_dsn, embedded=embedded)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'drop database "{name}" with (force)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def standin(database: Database) -> AsyncIterator[Standin]:
    app, state = create_standin(
        database.app_dsn, anon_key=TEST_ANON_KEY, jwt_secret=TEST_JWT_SECRET
    )
    async with on_loopback(app) as url:
        yield Standin(url=url, state=state)


@pytest.fixture(scope="session")
async def realtime_standin(database: Database) -> AsyncIterator[RealtimeStandin]:
    app, state = create_realtime_standin(
        database.admin_dsn, anon_key=TEST_ANON_KEY, jwt_secret=TEST_JWT_SECRET
    )
    async with on_loopback(app) as url:
        yield RealtimeStandin(url=f"{url}/realtime/v1", state=state)


@pytest.fixture(scope="session", params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, database: Database, standin: Standin
) -> AsyncIterator[Backend]:
    """Every gateway test runs once per backend: the same inputs must give the same outputs."""
    opened = await connect_backend(request.param, database, standin)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
def app(backend: Backend) -> Starlette:
    return create_app(settings_for_tests(), backend=backend)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[GraphClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield GraphClient(http)


@pytest.fixture
def alice() -> User:
    return new_user()


@pytest.fixture
def bob() -> User:
    return new_user()
