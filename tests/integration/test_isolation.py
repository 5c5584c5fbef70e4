"""Two users' data never cross: another user's session behaves exactly like a missing one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import (
    ABANDON,
    ADD_DRAFT,
    ADD_REVISION,
    CREATE_SESSION,
    DELETE,
    FINALIZE,
    GET_SESSION,
    RESOLVE_HOLE,
    GraphClient,
    User,
    create_session,
    discount_ir,
)

LIST = """query($first: Int, $after: String, $status: SessionStatus) {
  sessions(first: $first, after: $after, status: $status) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title } } } }"""


def _writes(session_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("addRevision", ADD_REVISION, {"input": {"sessionId": session_id, "content": "mine now"}}),
        (
            "resolveHole",
            RESOLVE_HOLE,
            {"input": {"sessionId": session_id, "holeId": "return_type", "text": "int"}},
        ),
        ("addDraft", ADD_DRAFT, {"input": {"sessionId": session_id, "ir": discount_ir([])}}),
        ("finalizeSession", FINALIZE, {"input": {"id": session_id}}),
        ("abandonSession", ABANDON, {"input": {"id": session_id, "expectedVersion": 1}}),
        ("deleteSession", DELETE, {"input": {"id": session_id}}),
    ]


def _without_request_ids(body: dict[str, Any]) -> dict[str, Any]:
    errors = [
        {**e, "extensions": {k: v for k, v in e["extensions"].items() if k != "requestId"}}
        for e in body.get("errors", [])
    ]
    return {**body, "errors": errors}


async def _snapshot(client: GraphClient, owner: User, session_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await client.execute(GET_SESSION, {"id": session_id}, user=owner)).ok()
    return data


@pytest.fixture
async def alices_session(client: GraphClient, alice: User) -> dict[str, Any]:
    return await create_session(client, alice, title="alice's secret", idempotencyKey="shared-key")


async def test_reads_do_not_see_another_users_session(
    client: GraphClient, alice: User, bob: User, alices_session: dict[str, Any]
) -> None:
    sid = alices_session["id"]
    assert (await client.execute(GET_SESSION, {"id": sid}, user=bob)).ok() == {"session": None}
    for status in (None, "ACTIVE"):
        listed = (await client.execute(LIST, {"status": status}, user=bob)).ok()["sessions"]
        assert listed == {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [],
        }


async def test_another_users_cursors_position_only_your_own_list(
    client: GraphClient, alice: User, bob: User, alices_session: dict[str, Any]
) -> None:
    await create_session(client, alice, title="alice's second")
    alice_page = (await client.execute(LIST, {"first": 1}, user=alice)).ok()["sessions"]
    cursor = alice_page["pageInfo"]["endCursor"]
    bobs = await create_session(client, bob, title="bob's")

    page = (await client.execute(LIST, {"first": 5, "after": cursor}, user=bob)).ok()["sessions"]
    assert {edge["node"]["id"] for edge in page["edges"]} <= {bobs["id"]}
    assert page["totalCount"] == 1

    nested = """query($id: ID!, $after: String) { session(id: $id) {
        revisions(after: $after) { edges { node { content } } }
        drafts(after: $after) { edges { node { ir } } }
        resolutions(after: $after) { edges { node { text } } } } }"""
    alice_read = (await client.execute(GET_SESSION, {"id": alices_session["id"]}, user=alice)).ok()
    revision_cursor = alice_read["session"]["revisions"]["edges"][0]["cursor"]
    reply = await client.execute(
        nested, {"id": alices_session["id"], "after": revision_cursor}, user=bob
    )
    assert reply.ok() == {"session": None}


async def test_writes_to_another_users_session_are_not_found_and_change_nothing(
    client: GraphClient, alice: User, bob: User, alices_session: dict[str, Any]
) -> None:
    sid = alices_session["id"]
    missing = str(uuid.uuid4())
    before = await _snapshot(client, alice, sid)
    for (name, query, variables), (_, _, missing_variables) in zip(
        _writes(sid), _writes(missing), strict=True
    ):
        as_bob = await client.execute(query, variables, user=bob)
        as_missing = await client.execute(query, missing_variables, user=bob)
        assert as_bob.codes == ["NOT_FOUND"], (name, as_bob.body)
        # Indistinguishable from a session that does not exist (but for the request id).
        assert _without_request_ids(as_bob.body) == _without_request_ids(as_missing.body), name
    assert await _snapshot(client, alice, sid) == before


async def test_the_same_idempotency_key_is_per_user(
    client: GraphClient, alice: User, bob: User, alices_session: dict[str, Any]
) -> None:
    reply = await client.execute(
        CREATE_SESSION, {"input": {"title": "bob's", "idempotencyKey": "shared-key"}}, user=bob
    )
    bobs = reply.ok()["createSession"]["session"]
    assert bobs["id"] != alices_session["id"]
    assert bobs["title"] == "bob's"
    assert (await _snapshot(client, alice, alices_session["id"]))["session"][
        "title"
    ] == "alice's secret"


async def test_each_user_lists_only_their_own(client: GraphClient, alice: User, bob: User) -> None:
    mine = {(await create_session(client, alice))["id"] for _ in range(3)}
    theirs = {(await create_session(client, bob))["id"] for _ in range(2)}
    alice_list = (await client.execute(LIST, {"first": 100}, user=alice)).ok()["sessions"]
    bob_list = (await client.execute(LIST, {"first": 100}, user=bob)).ok()["sessions"]
    assert {e["node"]["id"] for e in alice_list["edges"]} == mine
    assert {e["node"]["id"] for e in bob_list["edges"]} == theirs
    assert (alice_list["totalCount"], bob_list["totalCount"]) == (3, 2)
