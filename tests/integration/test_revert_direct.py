"""revertToDraft's rules hold in Postgres for a direct call as `authenticated`, the way
PostgREST's /rest/v1/rpc/revert_to_draft or pg_graphql would make it with a user's JWT."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from tests.support import discount_ir
from tests.support.acting import as_user
from tests.support.stores import Database


async def _call(conn: asyncpg.Connection, user: uuid.UUID, sql: str, *args: object) -> object:
    async with conn.transaction():
        await as_user(conn, user)
        return await conn.fetchval(sql, *args)


async def test_revert_to_draft_called_directly_keeps_its_rules(database: Database) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(database.app_dsn)
    try:
        draft = json.dumps({"ir": discount_ir()})
        session_id = await _call(
            conn,
            alice,
            "select id from public.create_session('p', 'prompt', null, '{}', $1::jsonb)",
            draft,
        )
        await _call(
            conn,
            alice,
            "select version from public.add_draft($1, $2::jsonb)",
            session_id,
            json.dumps(discount_ir()),
        )
        revert = "select version from public.revert_to_draft($1, $2, $3)"
        with pytest.raises(asyncpg.RaiseError, match=r"^NOT_FOUND"):
            await _call(conn, bob, revert, session_id, 1, None)  # another user's
        with pytest.raises(asyncpg.RaiseError, match=r"^BAD_USER_INPUT"):
            await _call(conn, alice, revert, session_id, 2, None)  # the current version
        with pytest.raises(asyncpg.RaiseError, match=r"^CONFLICT"):
            await _call(conn, alice, revert, session_id, 1, 1)  # a stale expectedVersion
        assert await _call(conn, alice, revert, session_id, 1, None) == 3
        drafts = await _call(
            conn, alice, "select count(*) from public.drafts where session_id = $1", session_id
        )
        assert drafts == 3
    finally:
        await conn.close()
