"""User B aimed at everything of user A's: every query and mutation, with every id and
cursor of A's. Shared by the isolation test and `make reliability`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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
        "revisions { edges { node { content } } } resolutions { edges { node { text } } } "
        "openHoles { identifier resolutions { text } suggestions { text } } "
        "draft(version: 1) { ir holes { resolutions { text } } spec { intent { summary } } "
        "compare(to: 2) { to { ir } } } } }",
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
    "revertToDraft": (
        "mutation($id: ID!) { revertToDraft(input: {sessionId: $id, version: 1}) "
        "{ draft { ir } revision { content } session { id title } } }",
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


async def alices_world(
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


@dataclass
class Outcome:
    attempts: int = 0
    problems: list[tuple[str, Any, str]] = field(default_factory=list)  # (field, value, what)


async def attack(client: GraphClient, alice: User, bob: User) -> Outcome:
    """Every attack, as bob, against alice's world; then alice's session must be unchanged."""
    before, candidates = await alices_world(client, alice)
    await create_session(client, bob, title="bob's own")
    alices_ids = set(candidates["id"])
    outcome = Outcome()

    def inspect(name: str, value: Any, body: dict[str, Any], codes: list[str]) -> None:
        text = json.dumps(body)
        outcome.attempts += 1
        for secret in (SECRET_TITLE, SECRET_TEXT):
            if secret in text:
                outcome.problems.append((name, value, f"leaked {secret}"))
        leaked = {i for i in alices_ids if i in text and i != value}
        if leaked:
            outcome.problems.append((name, value, f"leaked ids {sorted(leaked)}"))
        if "INTERNAL_SERVER_ERROR" in codes:
            outcome.problems.append((name, value, "internal error"))

    for name, (document, kinds) in ATTACKS.items():
        values = [("none", None)] if not kinds else [(k, v) for k in kinds for v in candidates[k]]
        for kind, value in values:
            variables: dict[str, Any] = {"ir": discount_ir([])}
            if kind != "none":
                variables["id" if "$id" in document and kind == "id" else "cursor"] = value
            if "$id" in document and "id" not in variables:
                continue
            used = {k: v for k, v in variables.items() if f"${k}" in document}
            reply = await client.execute(document, used, user=bob)
            inspect(name, value, reply.body, reply.codes)
    for cursor in candidates["cursor"]:
        reply = await client.execute(NESTED, {"cursor": cursor}, user=bob)
        inspect("nested", cursor, reply.body, reply.codes)
    after = (await client.execute(GET_SESSION, {"id": before["session"]["id"]}, user=alice)).ok()
    if after != before:
        outcome.problems.append(("alice's session", None, "changed"))
    return outcome
