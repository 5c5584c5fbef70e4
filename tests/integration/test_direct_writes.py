"""The database guards every door: statements a client can send without the gateway, as
`authenticated` with a user's claims (what pg_graphql and PostgREST run for a JWT), each
either keeps every invariant (tests/rules.py) or is refused with a "CODE: text" message
that names no constraint; refused ones change nothing.

The cases cover every (table, command) the grants allow; a grant without cases fails
`test_every_granted_command_is_tried`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from tests.support import discount_ir
from tests.support.acting import as_user
from tests.support.rules import Snapshot, assert_rule_message, violations
from tests.support.stores import Database


@dataclass
class World:
    """Alice's sessions (active with holes, finalized, abandoned) and Bob's, by name."""

    alice: uuid.UUID
    bob: uuid.UUID
    ids: dict[str, uuid.UUID]


@pytest.fixture
async def admin(database: Database) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.admin_dsn)
    yield conn
    await conn.close()


@pytest.fixture
async def user_conn(database: Database) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.app_dsn)
    yield conn
    await conn.close()


@pytest.fixture
async def world(user_conn: asyncpg.Connection) -> World:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    ids: dict[str, uuid.UUID] = {}
    draft = json.dumps({"ir": discount_ir(["h1", "h2"]), "validation_status": "incomplete"})
    async with user_conn.transaction():
        await as_user(user_conn, alice)
        for name in ("active", "finalized", "abandoned"):
            ids[name] = await user_conn.fetchval(
                "select id from public.create_session('prompt', initial_draft => $1::jsonb)",
                draft if name == "active" else json.dumps({"ir": discount_ir([])}),
            )
        await user_conn.execute("select public.finalize_session($1)", ids["finalized"])
        await user_conn.execute("select public.abandon_session($1)", ids["abandoned"])
        ids["revision"] = await user_conn.fetchval(
            "select revision_id from public.resolve_hole($1, 'h1', 'answer')", ids["active"]
        )
    async with user_conn.transaction():
        await as_user(user_conn, bob)
        ids["bobs"] = await user_conn.fetchval(
            "select id from public.create_session('bob', initial_draft => $1::jsonb)", draft
        )
        ids["bobs revision"] = await user_conn.fetchval(
            "select revision_id from public.resolve_hole($1, 'h1', 'bob''s answer')", ids["bobs"]
        )
    return World(alice, bob, ids)


async def attempt(
    conn: asyncpg.Connection, user: uuid.UUID, sql: str, *args: Any
) -> asyncpg.PostgresError | None:
    """Run one statement as `user` in its own transaction; the error, if it was refused."""
    try:
        async with conn.transaction():
            await as_user(conn, user)
            await conn.execute(sql, *args)
    except asyncpg.PostgresError as exc:
        return exc
    return None


def assert_a_rule_message(error: asyncpg.PostgresError | None, code: str, sql: str) -> None:
    assert error is not None, f"accepted: {sql}"
    assert isinstance(error, asyncpg.RaiseError), (sql, type(error), str(error))
    assert_rule_message(str(error), code, sql)


BLANK = " \t\u3000"
LONG = "x" * 100_001
NOT_AN_IR = json.dumps({"foo": 1})

# (table, command, statement, the code it is refused with or None when it must succeed).
# $1 is the session the case is about (`target`), $2 a second id where the case needs it.
CASES: list[tuple[str, str, str, str, str | None]] = [
    # sessions: insert (source, title, metadata, idempotency_key)
    ("sessions", "insert", "plain", "insert into public.sessions default values", None),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (title) values (' ')",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (title) values (repeat('t', 501))",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (source) values ('nope')",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (metadata) values ('[1]')",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (metadata) values (null)",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (idempotency_key) values ('')",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "insert",
        "",
        "insert into public.sessions (idempotency_key) values ('k'), ('k')",
        "CONFLICT",
    ),
    # sessions: update (status, title, metadata)
    (
        "sessions",
        "update",
        "active",
        "update public.sessions set title = 'renamed' where id = $1",
        None,
    ),
    (
        "sessions",
        "update",
        "active",
        "update public.sessions set title = ' ' where id = $1",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "update",
        "active",
        "update public.sessions set metadata = '\"x\"' where id = $1",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "update",
        "active",
        "update public.sessions set status = 'bogus' where id = $1",
        "BAD_USER_INPUT",
    ),
    (
        "sessions",
        "update",
        "active",
        "update public.sessions set status = 'finalized' where id = $1",
        "FAILED_PRECONDITION",
    ),
    (
        "sessions",
        "update",
        "active",
        "update public.sessions set status = 'abandoned' where id = $1",
        None,
    ),
    (
        "sessions",
        "update",
        "finalized",
        "update public.sessions set title = 'x' where id = $1",
        "FAILED_PRECONDITION",
    ),
    (
        "sessions",
        "update",
        "finalized",
        "update public.sessions set status = 'active' where id = $1",
        "FAILED_PRECONDITION",
    ),
    (
        "sessions",
        "update",
        "abandoned",
        "update public.sessions set metadata = '{}' where id = $1",
        "FAILED_PRECONDITION",
    ),
    # sessions: delete
    ("sessions", "delete", "finalized", "delete from public.sessions where id = $1", None),
    # revisions: insert (session_id, content, revision_type, target_hole, metadata)
    (
        "revisions",
        "insert",
        "active",
        "insert into public.revisions (session_id, content, revision_type) values ($1, 'c', 'manual_edit')",
        None,
    ),
    (
        "revisions",
        "insert",
        "active",
        "insert into public.revisions (session_id, content, revision_type) values ($1, 'a', 'manual_edit'), ($1, 'b', 'constraint_add')",
        None,
    ),
    (
        "revisions",
        "insert",
        "active",
        f"insert into public.revisions (session_id, content, revision_type) values ($1, '{BLANK}', 'manual_edit')",
        "BAD_USER_INPUT",
    ),
    (
        "revisions",
        "insert",
        "active",
        f"insert into public.revisions (session_id, content, revision_type) values ($1, '{LONG}', 'manual_edit')",
        "BAD_USER_INPUT",
    ),
    (
        "revisions",
        "insert",
        "active",
        "insert into public.revisions (session_id, content, revision_type) values ($1, null, 'manual_edit')",
        "BAD_USER_INPUT",
    ),
    (
        "revisions",
        "insert",
        "active",
        "insert into public.revisions (session_id, content, revision_type) values ($1, 'c', 'hole_fill')",
        "BAD_USER_INPUT",
    ),
    (
        "revisions",
        "insert",
        "active",
        "insert into public.revisions (session_id, content, revision_type) values ($1, 'c', 'nope')",
        "BAD_USER_INPUT",
    ),
    (
        "revisions",
        "insert",
        "active",
        "insert into public.revisions (session_id, content, revision_type, metadata) values ($1, 'c', 'initial', '[]')",
        "BAD_USER_INPUT",
    ),
    (
        "revisions",
        "insert",
        "finalized",
        "insert into public.revisions (session_id, content, revision_type) values ($1, 'c', 'manual_edit')",
        "FAILED_PRECONDITION",
    ),
    (
        "revisions",
        "insert",
        "bobs",
        "insert into public.revisions (session_id, content, revision_type) values ($1, 'c', 'manual_edit')",
        "NOT_FOUND",
    ),
    # drafts: insert (session_id, ir, validation_status, smt_results, ambiguities, metadata)
    (
        "drafts",
        "insert",
        "active",
        "insert into public.drafts (session_id, ir) values ($1, $2::jsonb)",
        None,
    ),
    (
        "drafts",
        "insert",
        "active",
        "insert into public.drafts (session_id, ir, ambiguities) values ($1, $2::jsonb, '{h2}')",
        None,
    ),
    (
        "drafts",
        "insert",
        "active",
        f"insert into public.drafts (session_id, ir) values ($1, '{NOT_AN_IR}')",
        "BAD_USER_INPUT",
    ),
    (
        "drafts",
        "insert",
        "active",
        "insert into public.drafts (session_id, ir) values ($1, '[]')",
        "BAD_USER_INPUT",
    ),
    (
        "drafts",
        "insert",
        "active",
        "insert into public.drafts (session_id, ir, ambiguities) values ($1, $2::jsonb, '{nope}')",
        "BAD_USER_INPUT",
    ),
    (
        "drafts",
        "insert",
        "active",
        "insert into public.drafts (session_id, ir, validation_status) values ($1, $2::jsonb, 'maybe')",
        "BAD_USER_INPUT",
    ),
    (
        "drafts",
        "insert",
        "active",
        "insert into public.drafts (session_id, ir, smt_results) values ($1, $2::jsonb, '[{\"status\": 1}]')",
        "BAD_USER_INPUT",
    ),
    (
        "drafts",
        "insert",
        "finalized",
        "insert into public.drafts (session_id, ir) values ($1, $2::jsonb)",
        "FAILED_PRECONDITION",
    ),
    (
        "drafts",
        "insert",
        "bobs",
        "insert into public.drafts (session_id, ir) values ($1, $2::jsonb)",
        "NOT_FOUND",
    ),
    # resolutions: insert (session_id, revision_id, hole_id, resolution_text, resolution_type, metadata)
    (
        "resolutions",
        "insert",
        "active",
        "insert into public.resolutions (session_id, hole_id, resolution_text, resolution_type) values ($1, 'h2', 't', 'clarify_intent')",
        None,
    ),
    (
        "resolutions",
        "insert",
        "active",
        "insert into public.resolutions (session_id, hole_id, resolution_text, resolution_type) values ($1, 'nope', 't', 'clarify_intent')",
        "BAD_USER_INPUT",
    ),
    (
        "resolutions",
        "insert",
        "active",
        "insert into public.resolutions (session_id, hole_id, resolution_text, resolution_type) values ($1, 'h2', ' ', 'clarify_intent')",
        "BAD_USER_INPUT",
    ),
    (
        "resolutions",
        "insert",
        "active",
        "insert into public.resolutions (session_id, hole_id, resolution_text, resolution_type) values ($1, 'h2', 't', 'guess')",
        "BAD_USER_INPUT",
    ),
    (
        "resolutions",
        "insert",
        "active",
        "insert into public.resolutions (session_id, revision_id, hole_id, resolution_text, resolution_type) values ($1, $2, 'h2', 't', 'clarify_intent')",
        "NOT_FOUND",
    ),
    (
        "resolutions",
        "insert",
        "finalized",
        "insert into public.resolutions (session_id, hole_id, resolution_text, resolution_type) values ($1, 'h2', 't', 'clarify_intent')",
        "FAILED_PRECONDITION",
    ),
    (
        "resolutions",
        "insert",
        "bobs",
        "insert into public.resolutions (session_id, hole_id, resolution_text, resolution_type) values ($1, 'h1', 't', 'clarify_intent')",
        "NOT_FOUND",
    ),
    # resolutions: update (applied)
    (
        "resolutions",
        "update",
        "active",
        "update public.resolutions set applied = true where session_id = $1",
        None,
    ),
    (
        "resolutions",
        "update",
        "active",
        "update public.resolutions set applied = false where session_id = $1",
        None,
    ),
]


def _second_argument(sql: str, world: World) -> list[Any]:
    if "$2::jsonb" in sql:
        return [json.dumps(discount_ir(["h2"]))]
    if "$2" in sql:
        return [world.ids["bobs revision"]]
    return []


@pytest.mark.parametrize(
    ("table", "command", "target", "sql", "code"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)],
)
async def test_a_direct_statement_keeps_every_rule_or_is_refused_with_a_code(  # noqa: PLR0917
    world: World,
    user_conn: asyncpg.Connection,
    admin: asyncpg.Connection,
    table: str,
    command: str,
    target: str,
    sql: str,
    code: str | None,
) -> None:
    users = [world.alice, world.bob]
    before = await Snapshot.take(admin, users)
    args = ([world.ids[target]] if "$1" in sql else []) + _second_argument(sql, world)
    error = await attempt(user_conn, world.alice, sql, *args)
    after = await Snapshot.take(admin, users)
    assert violations(after) == [], sql
    if code is None:
        assert error is None, (sql, str(error))
        changed = [
            sid
            for sid in after.sessions
            if sid in before.sessions
            and after.sessions[sid]["version"] != before.sessions[sid]["version"]
        ]
        for sid in changed:  # once per statement, however many rows it wrote
            assert after.sessions[sid]["version"] == before.sessions[sid]["version"] + 1, sql
        if table != "sessions" or command == "update":
            assert changed == ([] if command == "delete" else [world.ids[target]]), sql
    else:
        assert_a_rule_message(error, code, sql)
        assert after == before, f"a refused statement changed something: {sql}"


def _granted(rows: list[asyncpg.Record]) -> set[tuple[str, str]]:
    return {(row["table_name"], row["privilege_type"].lower()) for row in rows}


async def test_every_granted_command_is_tried(admin: asyncpg.Connection) -> None:
    rows = await admin.fetch(
        """select table_name, privilege_type from information_schema.role_table_grants
            where grantee = 'authenticated' and table_schema = 'public'
              and privilege_type in ('INSERT', 'UPDATE', 'DELETE')
           union
           select table_name, privilege_type from information_schema.column_privileges
            where grantee = 'authenticated' and table_schema = 'public'
              and privilege_type in ('INSERT', 'UPDATE')"""
    )
    tried = {(table, command) for table, command, *_ in CASES}
    assert _granted(rows) == tried


async def test_nothing_writes_numbers_versions_or_owners_directly(
    world: World, user_conn: asyncpg.Connection
) -> None:
    for sql in (
        "update public.sessions set version = version + 100 where id = $1",
        "update public.sessions set user_id = gen_random_uuid() where id = $1",
        "update public.sessions set finalized_at = now() where id = $1",
        "update public.sessions set updated_at = now() where id = $1",
        "update public.revisions set number = 7 where session_id = $1",
        "update public.drafts set ambiguities = '{}' where session_id = $1",
        "update public.resolutions set hole_id = 'x' where session_id = $1",
        "delete from public.revisions where session_id = $1",
        "delete from public.drafts where session_id = $1",
        "delete from public.resolutions where session_id = $1",
        "insert into public.revisions (session_id, number, content, revision_type) "
        "values ($1, 9, 'x', 'manual_edit')",
        "insert into public.sessions (user_id) values (gen_random_uuid())",
        "insert into public.sessions (version) values (100)",
    ):
        args = [world.ids["active"]] if "$1" in sql else []
        error = await attempt(user_conn, world.alice, sql, *args)
        assert isinstance(error, asyncpg.InsufficientPrivilegeError), (sql, error)


@pytest.mark.parametrize(
    ("sql", "reference"),
    [
        (
            "insert into public.revisions (session_id, content, revision_type) "
            "values ($1, 'c', 'manual_edit')",
            "bobs",
        ),
        ("insert into public.drafts (session_id, ir) values ($1, $2::jsonb)", "bobs"),
        (
            "insert into public.resolutions (session_id, hole_id, resolution_text, "
            "resolution_type) values ($1, 'h1', 't', 'clarify_intent')",
            "bobs",
        ),
        (
            "insert into public.resolutions (session_id, revision_id, hole_id, resolution_text,"
            " resolution_type) values ($2, $1, 'h2', 't', 'clarify_intent')",
            "bobs revision",
        ),
    ],
)
async def test_another_users_ids_look_like_random_ids(
    world: World, user_conn: asyncpg.Connection, admin: asyncpg.Connection, sql: str, reference: str
) -> None:
    """Every reference a client writes, tried with Bob's id and with a random one: the
    same refusal, so Alice cannot tell that Bob's row exists, and nothing of hers hangs on
    his rows (nothing she writes can be deleted with his session)."""
    second: list[Any] = []
    if "$2::jsonb" in sql:
        second = [json.dumps(discount_ir(["h2"]))]
    elif "$2" in sql:
        second = [world.ids["active"]]
    errors = [
        await attempt(user_conn, world.alice, sql, target, *second)
        for target in (world.ids[reference], uuid.uuid4())
    ]
    assert errors[0] is not None
    assert errors[1] is not None
    assert (type(errors[0]), str(errors[0])) == (type(errors[1]), str(errors[1]))
    assert_a_rule_message(errors[0], "NOT_FOUND", sql)
    alices = await admin.fetchval(
        "select count(*) from public.resolutions z join public.revisions r on r.id = z.revision_id"
        " where z.user_id = $1 and r.user_id <> $1",
        world.alice,
    )
    assert alices == 0


async def test_version_moves_once_per_statement_inside_savepoints(
    world: World, user_conn: asyncpg.Connection
) -> None:
    """PostGraphile and pg_graphql run mutations inside savepoints: the count holds there."""
    sid = world.ids["active"]
    async with user_conn.transaction():
        await as_user(user_conn, world.alice)
        start = await user_conn.fetchval("select version from public.sessions where id = $1", sid)
        async with user_conn.transaction():  # a savepoint
            await user_conn.execute("select public.resolve_hole($1, 'h2', 'in a savepoint')", sid)
        async with user_conn.transaction():
            await user_conn.execute(
                "insert into public.revisions (session_id, content, revision_type) "
                "values ($1, 'a', 'manual_edit'), ($1, 'b', 'manual_edit')",
                sid,
            )
        await user_conn.execute("update public.sessions set title = 't' where id = $1", sid)
        end = await user_conn.fetchval("select version from public.sessions where id = $1", sid)
    assert end == start + 3
