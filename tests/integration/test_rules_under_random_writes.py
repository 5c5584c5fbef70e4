"""Random sequences of writes by two users, mixing the gateway's API with direct SQL as
`authenticated` (what the other doors run), with every invariant checked after each step:

- the rules of tests/rules.py hold for every row;
- a refused step changes nothing, and says why with a code (never an internal error);
- a step that succeeds moves the version of each session it changed by exactly one,
  leaves finished sessions as they were (or deletes them) and the other user's rows alone.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support import (
    ABANDON,
    ADD_DRAFT,
    ADD_REVISION,
    CREATE_SESSION,
    DELETE,
    FINALIZE,
    RESOLVE_HOLE,
    GraphClient,
    User,
    discount_ir,
    new_user,
)
from tests.support.rules import RULE_MESSAGE, Snapshot, violations
from tests.support.stores import Database

HOLES = ["h1", "h2", "h3"]
TEXTS = st.sampled_from(["an answer", " ", "", "\u3000", "x" * 201])
HOLE_NAMES = st.sampled_from([*HOLES, "nope", ""])
SUBSET = st.lists(st.sampled_from(HOLES), unique=True, max_size=3)
WHO = st.sampled_from(["alice", "bob"])
TARGET = st.integers(min_value=0, max_value=4)  # an index into the sessions so far, or none

STEPS = st.one_of(
    st.tuples(st.just("create"), WHO, SUBSET),
    st.tuples(st.just("resolve"), WHO, TARGET, HOLE_NAMES, TEXTS),
    st.tuples(st.just("add draft"), WHO, TARGET, SUBSET, st.none() | SUBSET | st.just(["nope"])),
    st.tuples(st.just("revise"), WHO, TARGET, TEXTS),
    st.tuples(st.just("finalize"), WHO, TARGET),
    st.tuples(st.just("abandon"), WHO, TARGET),
    st.tuples(st.just("delete"), WHO, TARGET),
    st.tuples(
        st.just("sql revision"), WHO, TARGET, TEXTS, st.sampled_from(["hole_fill", "manual_edit"])
    ),
    st.tuples(st.just("sql draft"), WHO, TARGET, SUBSET, st.booleans()),
    st.tuples(st.just("sql resolution"), WHO, TARGET, HOLE_NAMES, TARGET),
    st.tuples(
        st.just("sql session"),
        WHO,
        TARGET,
        st.sampled_from(
            [
                "title = 'renamed'",
                "title = ' '",
                "status = 'finalized'",
                "status = 'abandoned'",
                "status = 'nope'",
                "metadata = '[]'",
            ]
        ),
    ),
    st.tuples(st.just("sql applied"), WHO, TARGET),
    st.tuples(st.just("sql delete"), WHO, TARGET),
)
EXAMPLES = int(os.environ.get("GRAPH_FUZZ_EXAMPLES", "40")) // 2


@pytest.fixture
async def connections(database: Database) -> AsyncIterator[tuple[asyncpg.Connection, ...]]:
    admin = await asyncpg.connect(database.admin_dsn)
    user = await asyncpg.connect(database.app_dsn)
    yield admin, user
    await admin.close()
    await user.close()


class Run:
    """One sequence: the users, the sessions made so far, and the two doors."""

    def __init__(
        self, client: GraphClient, conn: asyncpg.Connection, admin: asyncpg.Connection
    ) -> None:
        self.client = client
        self.conn = conn
        self.admin = admin
        self.users = {"alice": new_user(), "bob": new_user()}
        self.sessions: list[str] = []

    def target(self, index: int) -> str:
        """A session made so far (either user's), or an id that names nothing."""
        return self.sessions[index] if index < len(self.sessions) else str(uuid.uuid4())

    async def api(self, user: User, document: str, input_: dict[str, Any]) -> str | None:
        reply = await self.client.execute(document, {"input": input_}, user=user)
        if not reply.codes:
            return None
        assert "INTERNAL_SERVER_ERROR" not in reply.codes, reply.body
        return reply.codes[0]

    async def sql(self, user: User, statement: str, *args: Any) -> str | None:
        try:
            async with self.conn.transaction():
                await self.conn.execute(
                    "select set_config('role', 'authenticated', true), "
                    "set_config('request.jwt.claims', $1, true)",
                    json.dumps({"sub": str(user.id), "role": "authenticated"}),
                )
                await self.conn.execute(statement, *args)
        except asyncpg.RaiseError as exc:
            message = str(exc)
        else:
            return None
        assert RULE_MESSAGE.match(message), message
        return message.split(":", 1)[0]

    async def step(self, step: tuple[Any, ...]) -> str | None:
        kind, who, *rest = step
        user = self.users[who]
        if kind == "create":
            reply = await self.client.execute(
                CREATE_SESSION,
                {"input": {"prompt": "p", "initialDraft": {"ir": discount_ir(rest[0])}}},
                user=user,
            )
            self.sessions.append(reply.ok()["createSession"]["session"]["id"])
            return None
        sid = self.target(rest[0])
        if kind == "resolve":
            return await self.api(
                user, RESOLVE_HOLE, {"sessionId": sid, "holeId": rest[1], "text": rest[2]}
            )
        if kind == "add draft":
            draft = {"sessionId": sid, "ir": discount_ir(rest[1]), "ambiguities": rest[2]}
            return await self.api(user, ADD_DRAFT, {**draft, "appliedHoleIds": rest[1]})
        if kind == "revise":
            return await self.api(user, ADD_REVISION, {"sessionId": sid, "content": rest[1]})
        if kind in ("finalize", "abandon", "delete"):
            document = {"finalize": FINALIZE, "abandon": ABANDON, "delete": DELETE}[kind]
            return await self.api(user, document, {"id": sid})
        return await self.direct(kind, user, sid, rest)

    async def direct(self, kind: str, user: User, sid: str, rest: list[Any]) -> str | None:
        session = uuid.UUID(sid)
        if kind == "sql revision":
            return await self.sql(
                user,
                "insert into public.revisions (session_id, content, revision_type, target_hole) "
                "values ($1, $2, $3, null)",
                session,
                rest[1],
                rest[2],
            )
        if kind == "sql draft":
            ambiguities = None if rest[2] else rest[1][:1]
            return await self.sql(
                user,
                "insert into public.drafts (session_id, ir, ambiguities) values ($1, $2, $3)",
                session,
                json.dumps(discount_ir(rest[1])),
                ambiguities,
            )
        if kind == "sql resolution":
            revision = await self.admin.fetchval(  # either user's: Bob's must be refused
                "select id from public.revisions where user_id = any($1::uuid[]) "
                "order by created_at, id offset $2 limit 1",
                [u.id for u in self.users.values()],
                rest[2],
            )
            return await self.sql(
                user,
                "insert into public.resolutions (session_id, revision_id, hole_id, "
                "resolution_text, resolution_type) values ($1, $2, $3, 't', 'clarify_intent')",
                session,
                revision,
                rest[1],
            )
        if kind == "sql session":
            return await self.sql(
                user,
                f"update public.sessions set {rest[1]} where id = $1",
                session,
            )
        if kind == "sql applied":
            return await self.sql(
                user, "update public.resolutions set applied = true where session_id = $1", session
            )
        return await self.sql(user, "delete from public.sessions where id = $1", session)


def _check_step(before: Snapshot, after: Snapshot, refused: str | None, owner: uuid.UUID) -> None:
    assert violations(after) == []
    if refused is not None:
        assert after == before, "a refused step changed something"
        return
    for sid, session in before.sessions.items():
        now = after.sessions.get(sid)
        if session["user_id"] != owner or session["status"] != "active":
            assert now is None or now == session, "finished or foreign sessions do not change"
            if session["user_id"] != owner:
                assert now == session, "another user's session is untouched"
        elif now is not None and now != session:
            assert now["version"] == session["version"] + 1, "one step, one version"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=15))
async def test_every_rule_holds_after_every_step(
    client: GraphClient,
    connections: tuple[asyncpg.Connection, asyncpg.Connection],
    steps: list[tuple[Any, ...]],
) -> None:
    admin, user_conn = connections
    run = Run(client, user_conn, admin)
    ids = [user.id for user in run.users.values()]
    for step in [("create", "alice", HOLES), ("create", "bob", HOLES[:1]), *steps]:
        before = await Snapshot.take(admin, ids)
        refused = await run.step(step)
        event(f"{step[0]}: {refused or 'ok'}")
        after = await Snapshot.take(admin, ids)
        _check_step(before, after, refused, run.users[step[1]].id)
