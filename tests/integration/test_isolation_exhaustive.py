"""Every query and mutation, every argument that takes an id or a cursor: user B aimed at
user A's objects, on each backend. Nothing of A's may show, and nothing of A's may change.

The root fields are read from the schema itself, so a new field without an attack here
fails the coverage check below."""

from __future__ import annotations

import json
from typing import Any

from graph.schema import build_schema
from tests.support import (
    ADD_DRAFT,
    GET_SESSION,
    RESOLVE_HOLE,
    GraphClient,
    User,
    create_session,
    discount_ir,
)

SECRET_TITLE = "alice-only-title-7f3a"
SECRET_TEXT = "alice-only-answer-91c2"

ATTACKS: dict[str, tuple[str, list[str]]] = {
    # root field -> (document using $id / $cursor, which candidate kinds fill $id/$cursor)
    "viewer": ("{ viewer { id } }", []),
    "session": (
        "query($id: ID!) { session(id: $id) { id title metadata currentDraft { ir } "
        "revisions { edges { node { content } } } resolutions { edges { node { text } } } } }",
        ["id"],
    ),
    "sessions": (
        "query($cursor: String) { sessions(after: $cursor) { totalCount edges { node { id title "
        "revisions { edges { node { content } } } } } } }",
        ["cursor"],
    ),
    "createSession": (
        'mutation($cursor: String) { createSession(input: {title: "bob", idempotencyKey: $cursor}) '
        "{ session { id title revisions { edges { node { content } } } } } }",
        ["cursor", "id"],
    ),
    "addRevision": (
        'mutation($id: ID!) { addRevision(input: {sessionId: $id, content: "bob"}) '
        "{ revision { id } session { id title } } }",
        ["id"],
    ),
    "addDraft": (
        "mutation($id: ID!, $ir: JSON!) { addDraft(input: {sessionId: $id, ir: $ir, "
        'appliedHoleIds: ["return_type"]}) { draft { id } session { id } } }',
        ["id"],
    ),
    "resolveHole": (
        'mutation($id: ID!) { resolveHole(input: {sessionId: $id, holeId: "input_constraints", '
        'text: "bob"}) { resolution { id } session { id } } }',
        ["id"],
    ),
    "finalizeSession": (
        "mutation($id: ID!) { finalizeSession(input: {id: $id}) { session { id } } }",
        ["id"],
    ),
    "abandonSession": (
        "mutation($id: ID!) { abandonSession(input: {id: $id}) { session { id } } }",
        ["id"],
    ),
    "deleteSession": (
        "mutation($id: ID!) { deleteSession(input: {id: $id}) { deletedId } }",
        ["id"],
    ),
}

NESTED = (
    "query($cursor: String) { sessions(first: 5) { edges { node { id "
    "revisions(after: $cursor) { edges { node { content } } } "
    "drafts(after: $cursor) { edges { node { ir } } } "
    "resolutions(after: $cursor) { edges { node { text } } } } } } }"
)


def test_every_root_field_has_an_attack() -> None:
    schema = build_schema()._schema
    roots = set(schema.query_type.fields) | set(schema.mutation_type.fields)  # type: ignore[union-attr]
    assert roots == set(ATTACKS)


async def _alices_world(
    client: GraphClient, alice: User
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    session = await create_session(client, alice, title=SECRET_TITLE, idempotencyKey="alice-key")
    sid = session["id"]
    await client.execute(
        RESOLVE_HOLE,
        {"input": {"sessionId": sid, "holeId": "return_type", "text": SECRET_TEXT}},
        user=alice,
    )
    await client.execute(
        ADD_DRAFT,
        {
            "input": {
                "sessionId": sid,
                "ir": discount_ir(["input_constraints"]),
                "appliedHoleIds": ["return_type"],
            }
        },
        user=alice,
    )
    read = (await client.execute(GET_SESSION, {"id": sid}, user=alice)).ok()
    listing = (await client.execute("{ sessions { edges { cursor } } }", user=alice)).ok()
    nested = (
        await client.execute(
            "query($id: ID!) { session(id: $id) { "
            "revisions { edges { cursor node { id } } } drafts { edges { cursor node { id } } } "
            "resolutions { edges { cursor node { id } } } } }",
            {"id": sid},
            user=alice,
        )
    ).ok()["session"]
    ids = [sid] + [
        e["node"]["id"]
        for kind in ("revisions", "drafts", "resolutions")
        for e in nested[kind]["edges"]
    ]
    cursors = (
        [e["cursor"] for e in listing["sessions"]["edges"]]
        + [
            e["cursor"]
            for kind in ("revisions", "drafts", "resolutions")
            for e in nested[kind]["edges"]
        ]
        + ["alice-key"]
    )
    return read, {"id": ids, "cursor": cursors}


async def test_user_b_never_reaches_user_a(client: GraphClient, alice: User, bob: User) -> None:
    before, candidates = await _alices_world(client, alice)
    await create_session(client, bob, title="bob's own")
    alices_ids = set(candidates["id"])
    attempts = 0
    for field, (document, kinds) in ATTACKS.items():
        values = [("none", None)] if not kinds else [(k, v) for k in kinds for v in candidates[k]]
        for kind, value in values:
            variables: dict[str, Any] = {"ir": discount_ir([])}
            if kind != "none":
                variables["id" if "$id" in document and kind == "id" else "cursor"] = value
            if "$id" in document and "id" not in variables:
                continue
            used = {k: v for k, v in variables.items() if f"${k}" in document}
            reply = await client.execute(document, used, user=bob)
            attempts += 1
            text = json.dumps(reply.body)
            assert SECRET_TITLE not in text, (field, value)
            assert SECRET_TEXT not in text, (field, value)
            leaked = {i for i in alices_ids if i in text and i != value}
            assert not leaked, (field, value, leaked)
            assert "INTERNAL_SERVER_ERROR" not in reply.codes, (field, reply.body)
    for cursor in candidates["cursor"]:
        reply = await client.execute(NESTED, {"cursor": cursor}, user=bob)
        attempts += 1
        text = json.dumps(reply.body)
        assert SECRET_TITLE not in text
        assert SECRET_TEXT not in text
        assert not {i for i in alices_ids if i in text}
    after = (await client.execute(GET_SESSION, {"id": before["session"]["id"]}, user=alice)).ok()
    assert after == before
    print(f"isolation: {attempts} cross-user attempts, 0 leaks, 0 changes")
    assert attempts >= 60
