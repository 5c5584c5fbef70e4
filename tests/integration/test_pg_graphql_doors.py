"""The pg_graphql door: a user's token on /graphql/v1 gives pg_graphql's own table
mutations (insertInto/update/deleteFrom<Table>Collection, as pg_graphql 1.6 reflects them
for the grants), not only the gateway's functions. Through the strict stand-in, each either
keeps every invariant (tests/rules.py) or is refused: by pg_graphql's own input checks
(a column the grants do not give is not in the input type) or by a rule of the database
("CODE: text"); refused ones change nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support import User, discount_ir, new_user
from tests.support.rules import Snapshot, assert_rule_message, violations
from tests.support.stores import TEST_ANON_KEY, Database, Standin


@dataclass
class Door:
    http: httpx.AsyncClient

    async def __call__(
        self, user: User, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql/v1",
            json={"query": query, "variables": variables or {}},
            headers={"apikey": TEST_ANON_KEY, "Authorization": f"Bearer {user.token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass
class World:
    alice: User
    bob: User
    ids: dict[str, str]


@pytest.fixture
async def door(standin: Standin) -> AsyncIterator[Door]:
    async with httpx.AsyncClient(base_url=standin.url) as http:
        yield Door(http)


@pytest.fixture
async def admin(database: Database) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.admin_dsn)
    yield conn
    await conn.close()


CREATE = """mutation($d: JSON) { createSession(prompt: "p", initialDraft: $d) { id } }"""
RESOLVE = """mutation($s: UUID!, $h: String!) {
  resolveHole(sessionId: $s, holeId: $h, resolutionText: "answer") { revisionId } }"""


@pytest.fixture
async def world(door: Door) -> World:
    alice, bob = new_user(), new_user()
    ids: dict[str, str] = {}
    holes = json.dumps({"ir": discount_ir(["h1", "h2"])})
    for name, user in (("active", alice), ("finalized", alice), ("bobs", bob)):
        draft = holes if name != "finalized" else json.dumps({"ir": discount_ir([])})
        body = await door(user, CREATE, {"d": draft})
        ids[name] = body["data"]["createSession"]["id"]
    finalized = await door(
        alice,
        "mutation($s: UUID!) { finalizeSession(sessionId: $s) { id } }",
        {"s": ids["finalized"]},
    )
    assert finalized["data"], finalized
    for name, user in (("active", alice), ("bobs", bob)):
        body = await door(user, RESOLVE, {"s": ids[name], "h": "h1"})
        ids[f"{name} revision"] = body["data"]["resolveHole"]["revisionId"]
    return World(alice, bob, ids)


IR_WITH_H2 = json.dumps(discount_ir(["h2"]))
# (name, document, variables by name of a world id or a literal, the refusal: None when it
# must succeed, a "CODE" for a database rule, or pg_graphql's own message).
CASES: list[tuple[str, str, dict[str, Any], str | None]] = [
    (
        "insert a session",
        'mutation { insertIntoSessionCollection(objects: [{title: "t"}]) { affectedCount } }',
        {},
        None,
    ),
    (
        "insert a blank title",
        'mutation { insertIntoSessionCollection(objects: [{title: "  "}]) { affectedCount } }',
        {},
        "BAD_USER_INPUT",
    ),
    (
        "insert a session for someone else",
        "mutation($u: UUID!) { insertIntoSessionCollection(objects: [{userId: $u}]) "
        "{ affectedCount } }",
        {"u": "bob id"},
        'Input for type SessionInsertInput contains extra keys ["userId"]',
    ),
    (
        "insert two revisions",
        "mutation($s: UUID!) { insertIntoRevisionCollection(objects: ["
        '{sessionId: $s, content: "a", revisionType: "manual_edit"}, '
        '{sessionId: $s, content: "b", revisionType: "constraint_add"}]) { affectedCount } }',
        {"s": "active"},
        None,
    ),
    (
        "insert a revision numbered by hand",
        "mutation($s: UUID!) { insertIntoRevisionCollection(objects: ["
        '{sessionId: $s, number: 9, content: "a", revisionType: "manual_edit"}]) '
        "{ affectedCount } }",
        {"s": "active"},
        'Input for type RevisionInsertInput contains extra keys ["number"]',
    ),
    (
        "insert a revision into Bob's session",
        "mutation($s: UUID!) { insertIntoRevisionCollection(objects: ["
        '{sessionId: $s, content: "a", revisionType: "manual_edit"}]) { affectedCount } }',
        {"s": "bobs"},
        "NOT_FOUND",
    ),
    (
        "insert a revision into a finalized session",
        "mutation($s: UUID!) { insertIntoRevisionCollection(objects: ["
        '{sessionId: $s, content: "a", revisionType: "manual_edit"}]) { affectedCount } }',
        {"s": "finalized"},
        "FAILED_PRECONDITION",
    ),
    (
        "insert a draft: ambiguities from its IR",
        "mutation($s: UUID!, $ir: JSON!) { insertIntoDraftCollection(objects: ["
        "{sessionId: $s, ir: $ir}]) { affectedCount records { version ambiguities } } }",
        {"s": "active", "ir": IR_WITH_H2},
        None,
    ),
    (
        "insert a draft that is not an IR",
        "mutation($s: UUID!) { insertIntoDraftCollection(objects: ["
        '{sessionId: $s, ir: "{\\"foo\\": 1}"}]) { affectedCount } }',
        {"s": "active"},
        "BAD_USER_INPUT",
    ),
    (
        "insert a draft naming a hole its IR lacks",
        "mutation($s: UUID!, $ir: JSON!) { insertIntoDraftCollection(objects: ["
        '{sessionId: $s, ir: $ir, ambiguities: ["nope"]}]) { affectedCount } }',
        {"s": "active", "ir": IR_WITH_H2},
        "BAD_USER_INPUT",
    ),
    (
        "resolve an open hole",
        "mutation($s: UUID!) { insertIntoResolutionCollection(objects: [{sessionId: $s, "
        'holeId: "h2", resolutionText: "t", resolutionType: "add_constraint"}]) '
        "{ affectedCount } }",
        {"s": "active"},
        None,
    ),
    (
        "resolve a hole that is not open",
        "mutation($s: UUID!) { insertIntoResolutionCollection(objects: [{sessionId: $s, "
        'holeId: "nope", resolutionText: "t", resolutionType: "add_constraint"}]) '
        "{ affectedCount } }",
        {"s": "active"},
        "BAD_USER_INPUT",
    ),
    (
        "point a resolution at Bob's revision",
        "mutation($s: UUID!, $r: UUID!) { insertIntoResolutionCollection(objects: ["
        '{sessionId: $s, revisionId: $r, holeId: "h2", resolutionText: "t", '
        'resolutionType: "add_constraint"}]) { affectedCount } }',
        {"s": "active", "r": "bobs revision"},
        "NOT_FOUND",
    ),
    (
        "rename a session",
        'mutation($s: UUID!) { updateSessionCollection(set: {title: "renamed"}, '
        "filter: {id: {eq: $s}}, atMost: 1) { affectedCount } }",
        {"s": "active"},
        None,
    ),
    (
        "finalize with open holes",
        'mutation($s: UUID!) { updateSessionCollection(set: {status: "finalized"}, '
        "filter: {id: {eq: $s}}, atMost: 1) { affectedCount } }",
        {"s": "active"},
        "FAILED_PRECONDITION",
    ),
    (
        "write the version",
        "mutation($s: UUID!) { updateSessionCollection(set: {version: 100}, "
        "filter: {id: {eq: $s}}, atMost: 1) { affectedCount } }",
        {"s": "active"},
        'Input for type SessionUpdateInput contains extra keys ["version"]',
    ),
    (
        "change a finalized session",
        'mutation($s: UUID!) { updateSessionCollection(set: {title: "x"}, '
        "filter: {id: {eq: $s}}, atMost: 1) { affectedCount } }",
        {"s": "finalized"},
        "FAILED_PRECONDITION",
    ),
    (
        "mark resolutions applied",
        "mutation($s: UUID!) { updateResolutionCollection(set: {applied: true}, "
        "filter: {sessionId: {eq: $s}}, atMost: 10) { affectedCount } }",
        {"s": "active"},
        None,
    ),
    (
        "delete a session",
        "mutation($s: UUID!) { deleteFromSessionCollection(filter: {id: {eq: $s}}, atMost: 1) "
        "{ affectedCount } }",
        {"s": "finalized"},
        None,
    ),
    (
        "delete a revision",
        "mutation($s: UUID!) { deleteFromRevisionCollection(filter: {sessionId: {eq: $s}}) "
        "{ affectedCount } }",
        {"s": "active"},
        'Unknown field "deleteFromRevisionCollection" on type Mutation',
    ),
    (
        "rewrite a draft",
        "mutation($s: UUID!) { updateDraftCollection(set: {ambiguities: []}, "
        "filter: {sessionId: {eq: $s}}) { affectedCount } }",
        {"s": "active"},
        'Unknown field "updateDraftCollection" on type Mutation',
    ),
]


def _variables(world: World, variables: dict[str, Any]) -> dict[str, Any]:
    named = {**world.ids, "bob id": str(world.bob.id)}
    return {key: named.get(value, value) for key, value in variables.items()}


@pytest.mark.parametrize(
    ("name", "document", "variables", "refusal"), CASES, ids=[c[0] for c in CASES]
)
async def test_pg_graphqls_own_mutations_keep_every_rule(  # noqa: PLR0917
    door: Door,
    world: World,
    admin: asyncpg.Connection,
    name: str,
    document: str,
    variables: dict[str, Any],
    refusal: str | None,
) -> None:
    users = [world.alice.id, world.bob.id]
    before = await Snapshot.take(admin, users)
    body = await door(world.alice, document, _variables(world, variables))
    after = await Snapshot.take(admin, users)
    assert violations(after) == [], name
    if refusal is None:
        assert "errors" not in body, (name, body)
        if "records" in document:
            [record] = body["data"]["insertIntoDraftCollection"]["records"]
            assert record == {"version": 2, "ambiguities": ["h2"]}
        bumped = {
            sid: after.sessions[sid]["version"] - session["version"]
            for sid, session in before.sessions.items()
            if sid in after.sessions and after.sessions[sid]["version"] != session["version"]
        }
        assert set(bumped.values()) <= {1}, (name, bumped)  # once per statement
        return
    assert body["data"] is None, (name, body)
    [error] = body["errors"]
    if refusal.isupper():
        assert_rule_message(error["message"], refusal, name)
    else:
        assert error == {"message": refusal}, name
    assert after == before, f"a refused mutation changed something: {name}"


async def test_another_users_ids_and_random_ids_are_refused_alike(door: Door, world: World) -> None:
    insert = (
        "mutation($s: UUID!, $r: UUID) { insertIntoResolutionCollection(objects: [{sessionId: $s, "
        'revisionId: $r, holeId: "h1", resolutionText: "t", resolutionType: "add_constraint"}]) '
        "{ affectedCount } }"
    )
    pairs = [
        ({"s": world.ids["bobs"], "r": None}, {"s": str(uuid.uuid4()), "r": None}),
        (
            {"s": world.ids["active"], "r": world.ids["bobs revision"]},
            {"s": world.ids["active"], "r": str(uuid.uuid4())},
        ),
    ]
    for bobs, random_ids in pairs:
        assert await door(world.alice, insert, bobs) == await door(world.alice, insert, random_ids)
