"""Compiled writes (a mutation's SQL function, then one statement for its payload, in one
transaction) answer exactly as Strawberry's executor does, are what actually runs, send
each write once, and leave every error to the executor's shape.

Two gateways share one Postgres store: one compiles documents, one executes them field by
field. Each walk below runs once through each, on sessions of its own, and the bodies must
be equal once ids and timestamps (which differ between the two sessions by design) are
replaced by their order of appearance.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from graph.app import create_app
from graph.backends.postgres import PostgresBackend
from graph.backends.postgres.store import CALLS
from tests.support import ABANDON, GraphClient, User, asgi_http, discount_ir, new_user
from tests.support.stores import FIELD_READS, Database, SpyBackend, settings_for_tests

# The port's writes; with FIELD_READS, every call a field-by-field execution makes.
PORT_WRITES = (*CALLS, "delete_session")

SCREEN = """
  id version status title metadata createdAt updatedAt finalizedAt unresolvedHoles
  currentDraft {
    id version validationStatus ambiguities metadata
    holes { identifier kind path status resolutions { text type applied } }
  }
  openHoles { identifier kind typeHint suggestions { text resolutionType rationale } }
  revisions(first: 10) { totalCount edges { cursor node { number type content targetHole } } }
  drafts { totalCount pageInfo { hasNextPage endCursor } edges { node { version } } }
  resolutions(applied: false) { totalCount edges { node { holeId text applied } } }
"""

CREATE = f"""
mutation Create($input: CreateSessionInput!) {{
  createSession(input: $input) {{ __typename session {{ __typename {SCREEN} }} }}
}}"""

RESOLVE = f"""
mutation Resolve($input: ResolveHoleInput!) {{
  answer: resolveHole(input: $input) {{
    resolution {{ id holeId text type applied metadata createdAt }}
    revision {{ ...Rev }}
    session {{ {SCREEN} }}
  }}
}}
fragment Rev on Revision {{ id number type content targetHole metadata }}"""

ADD_REVISION = """
mutation Note($input: AddRevisionInput!) {
  addRevision(input: $input) {
    revision { id number type content targetHole metadata createdAt }
    session { id version updatedAt revisions { totalCount } }
  }
}"""

ADD_DRAFT = f"""
mutation Draft($input: AddDraftInput!) {{
  addDraft(input: $input) {{
    draft {{
      id version ir ambiguities validationStatus smtResults metadata spec {{ intent {{ summary }} }}
    }}
    session {{ {SCREEN} }}
  }}
}}"""

REVERT = f"""
mutation Revert($input: RevertToDraftInput!) {{
  revertToDraft(input: $input) {{
    draft {{ version metadata ambiguities validationStatus }}
    revision {{ number type content }}
    session {{ {SCREEN} }}
  }}
}}"""

FINALIZE = """
mutation Finalize($input: SessionVersionInput!) {
  finalizeSession(input: $input) {
    session { id status version finalizedAt openHoles { identifier } }
  }
}"""

COUNTS = """
query Counts($id: ID!) {
  session(id: $id) {
    version revisions { totalCount } drafts { totalCount } resolutions { totalCount }
  }
}"""

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")


def normalized(value: Any, seen: dict[str, str] | None = None) -> Any:
    """`value` with each id replaced by its order of first appearance and each timestamp
    by a marker; request ids left out (they differ on every request)."""
    seen = {} if seen is None else seen
    if isinstance(value, dict):
        return {k: normalized(v, seen) for k, v in value.items() if k != "requestId"}
    if isinstance(value, list):
        return [normalized(v, seen) for v in value]
    if isinstance(value, str) and _UUID.match(value):
        return seen.setdefault(value, f"<id {len(seen)}>")
    if isinstance(value, str) and _TIME.match(value):
        return "<time>"
    return value


@dataclass
class Gateways:
    compiled: GraphClient
    executed: GraphClient
    spy: SpyBackend
    backend: PostgresBackend


@pytest.fixture(scope="module")
async def gateways(database: Database) -> AsyncIterator[Gateways]:
    backend = await PostgresBackend.connect(database.app_dsn, pool_size=4)
    spy = SpyBackend(backend, (*FIELD_READS, *PORT_WRITES))
    compiled_app = create_app(settings_for_tests(), backend=spy)  # type: ignore[arg-type]
    executed_app = create_app(settings_for_tests(graph_compiled_reads=False), backend=backend)
    async with asgi_http(compiled_app) as compiled_http, asgi_http(executed_app) as executed_http:
        yield Gateways(GraphClient(compiled_http), GraphClient(executed_http), spy, backend)
    await backend.close()


Walk = Callable[[GraphClient, User], Awaitable[list[dict[str, Any]]]]


async def both(gateways: Gateways, walk: Walk) -> list[dict[str, Any]]:
    """The compiled gateway's bodies of `walk`, after checking that they equal the
    executor's (each walk with a user of its own) and that no field ran field by field."""
    before = gateways.spy.calls
    compiled = await walk(gateways.compiled, new_user())
    assert gateways.spy.calls == before, "a step of the walk was executed field by field"
    executed = await walk(gateways.executed, new_user())
    assert normalized(compiled) == normalized(executed)
    return compiled


def _draft(holes: list[str]) -> dict[str, Any]:
    return {"ir": discount_ir(holes), "validationStatus": "INCOMPLETE"}


async def _create(client: GraphClient, user: User, holes: list[str]) -> dict[str, Any]:
    reply = await client.execute(
        CREATE,
        {"input": {"prompt": "discount", "title": "t", "initialDraft": _draft(holes)}},
        user=user,
    )
    body: dict[str, Any] = reply.body
    return body


async def test_a_whole_session_walk_answers_as_the_executor(gateways: Gateways) -> None:
    async def walk(client: GraphClient, user: User) -> list[dict[str, Any]]:
        bodies = [await _create(client, user, ["lower", "upper"])]
        session_id = bodies[0]["data"]["createSession"]["session"]["id"]
        steps: list[tuple[str, dict[str, Any]]] = [
            (
                RESOLVE,
                {
                    "sessionId": session_id,
                    "holeId": "lower",
                    "text": "price >= 0",
                    "type": "ADD_CONSTRAINT",
                    "metadata": {"from": "suggestion"},
                    "expectedVersion": 1,
                },
            ),
            (ADD_REVISION, {"sessionId": session_id, "content": "a note", "targetHole": "upper"}),
            (
                ADD_DRAFT,
                {
                    "sessionId": session_id,
                    "ir": discount_ir(["upper"]),
                    "appliedHoleIds": ["lower"],
                    "smtResults": [{"predicate": "price >= 0", "status": "sat"}],
                    "metadata": {"by": "test"},
                },
            ),
            (REVERT, {"sessionId": session_id, "version": 1}),
            (RESOLVE, {"sessionId": session_id, "holeId": "upper", "text": "rate <= 1"}),
            (
                ADD_DRAFT,
                {
                    "sessionId": session_id,
                    "ir": discount_ir([]),
                    "appliedHoleIds": ["upper"],
                    "validationStatus": "VALID",
                },
            ),
            (FINALIZE, {"id": session_id}),
        ]
        for document, values in steps:
            bodies.append((await client.execute(document, {"input": values}, user=user)).body)
        return bodies

    bodies = await both(gateways, walk)
    assert [body.get("errors") for body in bodies] == [None] * len(bodies)
    screen = bodies[1]["data"]["answer"]["session"]
    assert [h["identifier"] for h in screen["openHoles"]] == ["upper"]
    assert screen["openHoles"][0]["suggestions"]
    assert bodies[4]["data"]["revertToDraft"]["draft"]["metadata"] == {
        "revertedFrom": 2,
        "revertedTo": 1,
    }
    assert bodies[-1]["data"]["finalizeSession"]["session"]["status"] == "FINALIZED"


async def test_refused_writes_get_the_executors_errors_and_change_nothing(
    gateways: Gateways,
) -> None:
    stranger = new_user()

    async def walk(client: GraphClient, user: User) -> list[dict[str, Any]]:
        created = await _create(client, user, ["lower"])
        session_id = created["data"]["createSession"]["session"]["id"]
        others = await _create(client, stranger, ["lower"])
        other_id = others["data"]["createSession"]["session"]["id"]
        answer = {"sessionId": session_id, "holeId": "lower", "text": "x"}
        refused: list[tuple[str, dict[str, Any]]] = [
            (RESOLVE, {**answer, "expectedVersion": 7}),  # CONFLICT
            (RESOLVE, {**answer, "text": "   "}),  # a rule of the database
            (RESOLVE, {**answer, "holeId": "no_such_hole"}),
            (RESOLVE, {**answer, "sessionId": other_id}),  # another user's: NOT_FOUND
            (RESOLVE, {**answer, "sessionId": str(uuid.uuid4())}),
            (RESOLVE, {**answer, "sessionId": "not-an-id"}),  # refused before any write
            (FINALIZE, {"id": session_id}),  # FAILED_PRECONDITION: an open hole
            (REVERT, {"sessionId": session_id, "version": 1}),  # the current version
            (REVERT, {"sessionId": session_id, "version": 9}),
            (ADD_DRAFT, {"sessionId": session_id, "ir": {"intent": 3}}),
            (
                ADD_DRAFT,
                {"sessionId": session_id, "ir": discount_ir(["lower"]), "ambiguities": ["x"]},
            ),
            (CREATE, {"initialDraft": {"ir": "not an IR"}}),
        ]
        bodies = []
        for document, values in refused:
            bodies.append((await client.execute(document, {"input": values}, user=user)).body)
        bodies.append(
            (await client.execute(ABANDON, {"input": {"id": session_id}}, user=user)).body
        )
        bodies.append(
            (await client.execute(ABANDON, {"input": {"id": session_id}}, user=user)).body
        )
        counts = await client.execute(COUNTS, {"id": session_id}, user=user)
        theirs = await client.execute(COUNTS, {"id": other_id}, user=stranger)
        return [*bodies, counts.body, theirs.body]

    bodies = await both(gateways, walk)
    codes = [body["errors"][0]["extensions"]["code"] for body in bodies[:12]]
    assert codes == [
        "CONFLICT",
        "BAD_USER_INPUT",
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "FAILED_PRECONDITION",
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "BAD_USER_INPUT",
        "BAD_USER_INPUT",
    ]
    assert all(body["data"] is None for body in bodies[:12])
    assert bodies[12]["data"]["abandonSession"]["session"]["status"] == "ABANDONED"
    assert bodies[13]["errors"][0]["extensions"]["code"] == "FAILED_PRECONDITION"
    # Nothing refused was written, and each accepted write once: version 1 + one abandon.
    assert bodies[14]["data"]["session"] == {
        "version": 2,
        "revisions": {"totalCount": 1},
        "drafts": {"totalCount": 1},
        "resolutions": {"totalCount": 0},
    }
    assert bodies[15]["data"]["session"]["version"] == 1
    assert "select" not in str(bodies).lower()


async def test_a_write_that_fails_after_its_call_is_rolled_back_and_not_sent_again(
    gateways: Gateways, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    created = await _create(gateways.compiled, user, ["lower"])
    session_id = created["data"]["createSession"]["session"]["id"]
    real = CALLS["resolve_hole"]

    async def written_then_broken(conn: Any, command: Any) -> Any:
        await real(conn, command)
        raise ZeroDivisionError("select secret from pg_authid")

    monkeypatch.setitem(CALLS, "resolve_hole", written_then_broken)
    before = gateways.spy.calls
    document = (
        "mutation Broken($input: ResolveHoleInput!)"
        " { resolveHole(input: $input) { session { version } } }"
    )
    with caplog.at_level(logging.ERROR, logger="graph.http"):
        reply = await gateways.compiled.execute(
            document,
            {"input": {"sessionId": session_id, "holeId": "lower", "text": "x"}},
            user=user,
        )
    assert reply.body["data"] is None
    assert reply.body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert reply.body["errors"][0]["path"] == ["resolveHole"]
    assert "pg_authid" not in str(reply.body)
    assert any("compiled write failed" in r.message for r in caplog.records)
    assert gateways.spy.calls == before  # the executor reported it: it did not write again
    counts = await gateways.compiled.execute(COUNTS, {"id": session_id}, user=user)
    assert counts.body["data"]["session"]["version"] == 1
    assert counts.body["data"]["session"]["resolutions"]["totalCount"] == 0


async def test_a_mutation_by_get_is_still_405_and_writes_nothing(gateways: Gateways) -> None:
    user = new_user()
    created = await _create(gateways.compiled, user, ["lower"])
    session_id = created["data"]["createSession"]["session"]["id"]
    literal = f'{{sessionId: "{session_id}", holeId: "lower", text: "x"}}'
    response = await gateways.compiled.http.get(
        "/graphql",
        params={
            "query": "mutation { resolveHole(input: " + literal + ") { session { version } } }"
        },
        headers={"Authorization": f"Bearer {user.token}"},
    )
    assert response.status_code == 405
    counts = await gateways.compiled.execute(COUNTS, {"id": session_id}, user=user)
    assert counts.body["data"]["session"]["version"] == 1


async def test_documents_with_two_writes_or_without_a_payload_plan_are_executed(
    gateways: Gateways,
) -> None:
    user = new_user()
    created = await _create(gateways.compiled, user, ["lower", "upper"])
    session_id = created["data"]["createSession"]["session"]["id"]
    two = """
    mutation Two($a: ResolveHoleInput!, $b: ResolveHoleInput!) {
      first: resolveHole(input: $a) { session { version } }
      second: resolveHole(input: $b) { session { version } }
    }"""
    before = gateways.spy.calls
    reply = await gateways.compiled.execute(
        two,
        {
            "a": {"sessionId": session_id, "holeId": "lower", "text": "x"},
            "b": {"sessionId": session_id, "holeId": "upper", "text": "y"},
        },
        user=user,
    )
    assert reply.body["data"] == {
        "first": {"session": {"version": 2}},
        "second": {"session": {"version": 3}},
    }
    assert gateways.spy.calls > before  # field by field, one after the other
    deleted = await gateways.compiled.execute(
        "mutation D($input: DeleteSessionInput!) { deleteSession(input: $input) { deletedId } }",
        {"input": {"id": session_id}},
        user=user,
    )
    assert deleted.body["data"]["deleteSession"]["deletedId"] == session_id
