"""Realtime's rules, held by Postgres (migrations/0012): who may receive broadcasts on a
private topic is decided by the RLS policy on realtime.messages, under the joiner's role
and claims with realtime.topic() set, the way Realtime checks a private join; each
committed change is broadcast to `session:<id>` and `user:<user id>` with ids and a
version only; and no caller can announce anything itself."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.realtime_standin.app import may_read
from tests.support.acting import as_user, create_session_as, user_claims
from tests.support.stores import Database


@pytest.fixture
async def admin(database: Database) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.admin_dsn)
    yield conn
    await conn.close()


async def may_receive(
    admin: asyncpg.Connection, user: uuid.UUID, topic: str, extension: str = "broadcast"
) -> bool:
    """What Realtime asks Postgres when `user` joins private `topic` (the stand-in's own
    check, tests/realtime_standin/app.py)."""
    return await may_read(admin, user_claims(user), topic, extension)


async def test_a_user_may_receive_on_their_own_topics_only(
    admin: asyncpg.Connection, database: Database
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alices = await create_session_as(database.app_dsn, alice)
    assert await may_receive(admin, alice, f"session:{alices}")
    assert await may_receive(admin, alice, f"user:{alice}")
    assert not await may_receive(admin, bob, f"session:{alices}")
    assert not await may_receive(admin, bob, f"user:{alice}")
    assert not await may_receive(admin, alice, f"session:{uuid.uuid4()}")
    assert not await may_receive(admin, alice, f"session:{alices}", extension="presence")
    assert not await may_receive(admin, alice, "session:")


async def test_without_the_policy_anyone_may_join_and_with_it_back_nobody_else(
    admin: asyncpg.Connection, database: Database
) -> None:
    """The policy is what refuses Bob: replaced by one that allows every broadcast, his
    join to Alice's topic succeeds; restored, it is refused again (all in a transaction
    that is rolled back)."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    topic = f"session:{await create_session_as(database.app_dsn, alice)}"
    definition = await admin.fetchval(
        "select pg_get_expr(polqual, polrelid) from pg_policy"
        " where polname = 'session_graph_receive_broadcasts'"
    )
    assert not await may_receive(admin, bob, topic)
    tx = admin.transaction()
    await tx.start()
    try:
        await admin.execute(
            "alter policy session_graph_receive_broadcasts on realtime.messages using (true)"
        )
        assert await may_receive(admin, bob, topic)
        await admin.execute(
            "alter policy session_graph_receive_broadcasts on realtime.messages"
            f" using ({definition})"
        )
        assert not await may_receive(admin, bob, topic)
        assert await may_receive(admin, alice, topic)
    finally:
        await tx.rollback()
    assert not await may_receive(admin, bob, topic)


async def test_each_change_is_broadcast_to_its_session_and_user_topics(database: Database) -> None:
    listener = await asyncpg.connect(database.admin_dsn)
    heard: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    try:
        await listener.add_listener(
            "realtime_broadcast", lambda _c, _p, _ch, text: heard.put_nowait(json.loads(text))
        )
        alice = uuid.uuid4()
        session_id = await create_session_as(database.app_dsn, alice)
        found = [await asyncio.wait_for(heard.get(), 30) for _ in range(2)]
    finally:
        await listener.close()
    assert {message["topic"] for message in found} == {f"session:{session_id}", f"user:{alice}"}
    for message in found:
        assert message["private"] is True
        assert message["event"] == "CREATED"
        payload = message["payload"]
        assert isinstance(payload, dict)
        assert set(payload) == {"kind", "session_id", "user_id", "version", "at"}
        assert payload["session_id"] == str(session_id)
        assert payload["user_id"] == str(alice)


async def test_no_caller_can_announce_anything(database: Database) -> None:
    conn = await asyncpg.connect(database.app_dsn)
    try:
        async with conn.transaction():
            await as_user(conn, uuid.uuid4())
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "select session_graph.announce(array['session:x'], 'DELETED', '{}'::jsonb)"
                )
    finally:
        await conn.close()
