"""The migrations' guarantees, checked in SQL: RLS, grants, the login role, the runner."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from graph.backends.postgres import PostgresBackend
from graph.migrate import MigrationError, migrate, migrations_dir
from tests.support.acting import as_user
from tests.support.stores import Database


@pytest.fixture
async def app_conn(database: Database) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.app_dsn)
    yield conn
    await conn.close()


async def test_a_forged_user_id_is_refused(app_conn: asyncpg.Connection) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    async with app_conn.transaction():
        await as_user(app_conn, alice)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute("insert into public.sessions (user_id) values ($1)", bob)


async def test_rls_hides_and_protects_another_users_rows(app_conn: asyncpg.Connection) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    async with app_conn.transaction():
        await as_user(app_conn, alice)
        session_id = await app_conn.fetchval("select id from public.create_session('p')")
    async with app_conn.transaction():
        await as_user(app_conn, bob)
        assert (
            await app_conn.fetchval(
                "select count(*) from public.sessions where id = $1", session_id
            )
            == 0
        )
        assert (
            await app_conn.fetchval(
                "select count(*) from public.revisions where session_id = $1", session_id
            )
            == 0
        )
        assert (
            await app_conn.execute(
                "update public.sessions set title = 'x' where id = $1", session_id
            )
            == "UPDATE 0"
        )
        assert (
            await app_conn.execute("delete from public.sessions where id = $1", session_id)
            == "DELETE 0"
        )
        with pytest.raises(asyncpg.RaiseError, match="NOT_FOUND"):
            await app_conn.execute(
                "insert into public.revisions (session_id, content, revision_type) "
                "values ($1, 'x', 'manual_edit')",
                session_id,
            )
    async with app_conn.transaction():
        await as_user(app_conn, alice)
        row = await app_conn.fetchrow(
            "select title, version from public.sessions where id = $1", session_id
        )
        assert (row["title"], row["version"]) == (None, 1)


async def test_numbers_and_owners_cannot_be_written_directly(app_conn: asyncpg.Connection) -> None:
    alice = uuid.uuid4()
    async with app_conn.transaction():
        await as_user(app_conn, alice)
        session_id = await app_conn.fetchval("select id from public.create_session('p')")
        for statement in (
            "update public.sessions set user_id = gen_random_uuid() where id = $1",
            "update public.revisions set content = 'rewritten' where session_id = $1",
            "insert into public.revisions (session_id, number, content, revision_type) "
            "values ($1, 9, 'x', 'manual_edit')",
            # The version is the database's to count (migrations/0008): granted to nobody.
            "update public.sessions set version = version + 100 where id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with app_conn.transaction():
                    await app_conn.execute(statement, session_id)


async def test_anon_gets_nothing(app_conn: asyncpg.Connection) -> None:
    for statement in ("select * from public.sessions", "select public.create_session('p')"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # noqa: PT012 - role, then the read
            async with app_conn.transaction():
                await app_conn.execute("set local role anon")
                await app_conn.fetch(statement)


async def test_auth_uid_tolerates_an_empty_setting(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        await as_user(app_conn, uuid.uuid4())
    # The pooled connection now reads request.jwt.claims back as ''.
    async with app_conn.transaction():
        await app_conn.execute("set local role authenticated")
        assert await app_conn.fetchval("select current_setting('request.jwt.claims', true)") == ""
        assert await app_conn.fetchval("select auth.uid()") is None
        assert await app_conn.fetchval("select count(*) from public.sessions") == 0


async def test_the_gateway_refuses_a_login_that_bypasses_rls(database: Database) -> None:
    with pytest.raises(RuntimeError, match="bypasses row-level security"):
        await PostgresBackend.connect(database.admin_dsn)


async def test_the_gateways_login_cannot_become_a_bypassing_role(
    app_conn: asyncpg.Connection,
) -> None:
    for role in ("service_role", "postgres"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute(f"set role {role}")


@pytest.fixture
async def scratch_database(database: Database) -> AsyncIterator[str]:
    """An empty database on the same server, for the migration runner."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database.admin_dsn)
    try:
        await admin.execute(f'create database "{name}"')
        yield urlunsplit(urlsplit(database.admin_dsn)._replace(path=f"/{name}"))
        await admin.execute(f'drop database "{name}" with (force)')
    finally:
        await admin.close()


async def test_migrate_twice_is_a_no_op(scratch_database: str) -> None:
    first = await migrate(scratch_database)
    assert first == sorted(p.name for p in migrations_dir().glob("*.sql"))
    assert await migrate(scratch_database) == []


async def test_an_edited_applied_migration_is_refused(
    scratch_database: str, tmp_path: Path
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), copy)
    await migrate(scratch_database, copy)
    edited = sorted(copy.glob("*.sql"))[1]
    edited.write_text(edited.read_text() + "\n-- an edit\n")
    (copy / "9999_later.sql").write_text("create table public.later (id int primary key);")
    with pytest.raises(MigrationError, match=edited.name):
        await migrate(scratch_database, copy)
    conn = await asyncpg.connect(scratch_database)
    try:
        assert await conn.fetchval("select to_regclass('public.later')") is None
    finally:
        await conn.close()


async def test_a_migration_the_checkout_lacks_is_refused(
    scratch_database: str, tmp_path: Path
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), copy)
    await migrate(scratch_database, copy)
    sorted(copy.glob("*.sql"))[-1].unlink()
    with pytest.raises(MigrationError, match="does not"):
        await migrate(scratch_database, copy)


async def test_a_failing_migration_applies_nothing_of_itself(
    scratch_database: str, tmp_path: Path
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), copy)
    (copy / "9999_broken.sql").write_text("create table public.half (id int); select 1/0;")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(scratch_database, copy)
    conn = await asyncpg.connect(scratch_database)
    try:
        assert await conn.fetchval("select to_regclass('public.half')") is None
        recorded = await conn.fetchval("select count(*) from session_graph.schema_migrations")
        assert recorded == len(list(migrations_dir().glob("*.sql")))
    finally:
        await conn.close()
