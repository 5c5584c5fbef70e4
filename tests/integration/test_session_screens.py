"""The screens lift-sys renders, through the frontend's own documents
(examples/operations.graphql), on each backend: typed holes with their status and
suggestions, a draft by version, two versions compared, and a revert that is persisted."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import asyncpg
import orjson

from tests.support import (
    FINALIZE,
    GraphClient,
    User,
    create_session,
    discount_ir,
)
from tests.support.examples import example_operation
from tests.support.stores import Database

SCREEN = example_operation("SessionScreen")
AT_VERSION = example_operation("DraftAtVersion")
COMPARE = example_operation("CompareDrafts")
REVERT = example_operation("RevertToDraft")
RESOLVE = example_operation("ResolveHole")
ADD_DRAFT = example_operation("AddDraft")


async def _screen(client: GraphClient, user: User, session_id: str) -> dict[str, Any]:
    data = (await client.execute(SCREEN, {"id": session_id}, user=user)).ok()
    screen: dict[str, Any] = data["session"]
    return screen


async def _answer(
    client: GraphClient, user: User, session_id: str, hole: dict[str, Any]
) -> dict[str, Any]:
    """Resolve `hole` with its first suggestion, as a click on it would."""
    suggestion = hole["suggestions"][0]
    answer = {
        "sessionId": session_id,
        "holeId": hole["identifier"],
        "text": suggestion["text"],
        "type": suggestion["resolutionType"],
    }
    data = (await client.execute(RESOLVE, {"input": answer}, user=user)).ok()
    resolution: dict[str, Any] = data["resolveHole"]["resolution"]
    return resolution


async def _add_draft(
    client: GraphClient, user: User, session_id: str, ir: dict[str, Any], applied: list[str]
) -> dict[str, Any]:
    draft = {"sessionId": session_id, "ir": ir, "appliedHoleIds": applied}
    data = (await client.execute(ADD_DRAFT, {"input": draft}, user=user)).ok()
    added: dict[str, Any] = data["addDraft"]["draft"]
    return added


async def test_a_ui_walks_a_session_from_its_screen_to_finalized(
    client: GraphClient, alice: User
) -> None:
    session_id = (await create_session(client, alice))["id"]

    # The screen, in one query: two open holes, each with suggestions; the draft typed.
    screen = await _screen(client, alice, session_id)
    holes = {h["identifier"]: h for h in screen["openHoles"]}
    assert list(holes) == ["return_type", "input_constraints"]
    return_type = holes["return_type"]
    assert (return_type["kind"], return_type["path"], return_type["status"]) == (
        "SIGNATURE",
        "signature",
        "OPEN",
    )
    assert return_type["suggestions"][0] == {
        "text": "float",
        "resolutionType": "REFINE_SIGNATURE",
        "rationale": "the parameters (price, rate) are all numeric",
    }
    bounds = [s["text"] for s in holes["input_constraints"]["suggestions"]]
    assert bounds[:3] == ["price >= 0", "0 <= rate <= 1", "rate >= 0"]
    spec = screen["currentDraft"]["spec"]
    assert [p["typeHint"] for p in spec["signature"]["parameters"]] == ["float", "float"]
    assert spec["signature"]["holes"] == [{"identifier": "return_type", "status": "OPEN"}]
    assert screen["revisions"]["totalCount"] == 1

    # Answer the return type with its suggestion: it leaves the open holes.
    resolution = await _answer(client, alice, session_id, return_type)
    assert (resolution["text"], resolution["type"]) == ("float", "REFINE_SIGNATURE")
    screen = await _screen(client, alice, session_id)
    assert [h["identifier"] for h in screen["openHoles"]] == ["input_constraints"]
    assert screen["currentDraft"]["spec"]["signature"]["holes"][0]["status"] == "RESOLVED"

    # The translator's next draft takes the answer in.
    v2_ir = discount_ir(["input_constraints"])
    v2_ir["signature"]["returns"] = "float"
    assert (await _add_draft(client, alice, session_id, v2_ir, ["return_type"]))["version"] == 2

    await _compare_v1_with_v2(client, alice, session_id)
    await _revert_to_v1(client, alice, session_id)
    screen = await _screen(client, alice, session_id)
    assert screen["currentDraft"]["version"] == 3
    assert [h["identifier"] for h in screen["openHoles"]] == ["input_constraints"]

    # Resolve the rest, take it in, finalize.
    await _answer(client, alice, session_id, screen["openHoles"][0])
    final_ir = copy.deepcopy(v2_ir)
    final_ir["assertions"][0]["holes"] = []
    await _add_draft(client, alice, session_id, final_ir, ["input_constraints"])
    screen = await _screen(client, alice, session_id)
    assert screen["openHoles"] == []
    finalized = (await client.execute(FINALIZE, {"input": {"id": session_id}}, user=alice)).ok()
    assert finalized["finalizeSession"]["session"]["status"] == "FINALIZED"


async def _compare_v1_with_v2(client: GraphClient, user: User, session_id: str) -> None:
    """The return type went from a hole to float; the history keeps v1 with its answers."""
    variables = {"id": session_id, "from": 1, "to": 2}
    compared = (await client.execute(COMPARE, variables, user=user)).ok()["session"]
    comparison = compared["draft"]["compare"]
    assert (comparison["from"], comparison["to"]) == ({"version": 1}, {"version": 2})
    assert 0 < comparison["similarity"] < 1
    changes = {(c["kind"], c["path"]): c for c in comparison["changes"]}
    returns = changes[("CHANGED", "signature.returns")]
    assert (returns["before"], returns["after"]) == (None, "float")
    assert returns["category"] == "SIGNATURE"
    assert ("REMOVED", "signature.holes[0]") in changes
    signature = next(c for c in comparison["categories"] if c["category"] == "SIGNATURE")
    assert signature["similarity"] < 1

    variables = {"id": session_id, "version": 1}
    v1 = (await client.execute(AT_VERSION, variables, user=user)).ok()["session"]["draft"]
    answered = {h["identifier"]: h for h in v1["holes"]}
    assert answered["return_type"]["status"] == "APPLIED"
    assert [r["text"] for r in answered["return_type"]["resolutions"]] == ["float"]


async def _revert_to_v1(client: GraphClient, user: User, session_id: str) -> None:
    """A third draft with v1's IR and holes, and a MANUAL_EDIT revision saying so."""
    input_ = {"sessionId": session_id, "version": 1}
    reverted = (await client.execute(REVERT, {"input": input_}, user=user)).ok()["revertToDraft"]
    draft, revision = reverted["draft"], reverted["revision"]
    assert draft["version"] == 3
    assert draft["ir"] == discount_ir()
    assert draft["validationStatus"] == "PENDING"
    assert draft["ambiguities"] == ["return_type", "input_constraints"]
    assert draft["metadata"] == {"revertedFrom": 2, "revertedTo": 1}
    assert (revision["type"], revision["metadata"]) == ("MANUAL_EDIT", draft["metadata"])
    assert "version 1" in revision["content"]
    assert reverted["session"]["unresolvedHoles"] == ["return_type", "input_constraints"]


async def test_revert_is_persisted_and_keeps_the_rules(
    client: GraphClient, alice: User, bob: User, database: Database
) -> None:
    session = await create_session(client, alice)
    session_id = session["id"]
    await _add_draft(client, alice, session_id, discount_ir([]), [])

    async def revert(version: int, expected: int | None = None, *, user: User = alice) -> Any:
        input_ = {"sessionId": session_id, "version": version, "expectedVersion": expected}
        return await client.execute(REVERT, {"input": input_}, user=user)

    before = await _screen(client, alice, session_id)
    assert (await revert(7)).codes == ["NOT_FOUND"]
    assert (await revert(2)).codes == ["BAD_USER_INPUT"]  # the current version
    assert (await revert(1, before["version"] - 1)).codes == ["CONFLICT"]
    assert (await revert(1, user=bob)).codes == ["NOT_FOUND"]
    assert await _screen(client, alice, session_id) == before  # nothing changed

    reverted = (await revert(1, before["version"])).ok()["revertToDraft"]
    assert reverted["session"]["version"] == before["version"] + 1
    conn = await asyncpg.connect(database.admin_dsn)
    try:  # what the database holds, not what a payload said
        stored = await conn.fetchrow(
            "select d.version, d.ambiguities, d.validation_status from public.drafts d"
            " where d.session_id = $1 order by d.version desc limit 1",
            uuid.UUID(session_id),
        )
        revisions = await conn.fetchval(
            "select count(*) from public.revisions r"
            " where r.session_id = $1 and r.revision_type = 'manual_edit'",
            uuid.UUID(session_id),
        )
    finally:
        await conn.close()
    assert stored is not None
    assert (stored["version"], stored["validation_status"]) == (3, "pending")
    assert list(stored["ambiguities"]) == ["return_type", "input_constraints"]
    assert revisions == 1

    finalize = await client.execute(FINALIZE, {"input": {"id": session_id}}, user=alice)
    assert finalize.codes == ["FAILED_PRECONDITION"]  # v3 has the holes back
    abandon = "mutation($id: ID!) { abandonSession(input: {id: $id}) { session { id } } }"
    (await client.execute(abandon, {"id": session_id}, user=alice)).ok()
    assert (await revert(2)).codes == ["FAILED_PRECONDITION"]  # only active sessions


async def test_comparing_a_version_with_itself_or_a_missing_one(
    client: GraphClient, alice: User
) -> None:
    session_id = (await create_session(client, alice))["id"]
    same = {"id": session_id, "from": 1, "to": 1}
    comparison = (await client.execute(COMPARE, same, user=alice)).ok()["session"]["draft"][
        "compare"
    ]
    assert comparison["similarity"] == 1.0
    assert comparison["changes"] == []
    assert all(c["similarity"] == 1.0 and c["changes"] == 0 for c in comparison["categories"])
    missing = await client.execute(COMPARE, {**same, "to": 2}, user=alice)
    assert missing.codes == ["NOT_FOUND"]
    assert missing.data == {"session": {"id": session_id, "draft": None}}
    no_draft = await client.execute(COMPARE, {**same, "from": 5}, user=alice)
    assert no_draft.ok() == {"session": {"id": session_id, "draft": None}}


async def test_a_draft_of_another_session_is_not_comparable(
    client: GraphClient, alice: User
) -> None:
    """`to` is a version of the same session: another session's v2 is not reachable."""
    one = (await create_session(client, alice))["id"]
    other = (await create_session(client, alice))["id"]
    await _add_draft(client, alice, other, discount_ir([]), [])
    reply = await client.execute(COMPARE, {"id": one, "from": 1, "to": 2}, user=alice)
    assert reply.codes == ["NOT_FOUND"]


async def test_the_screen_follows_its_draft_and_answers_when_read_again(
    client: GraphClient, alice: User, bob: User, database: Database
) -> None:
    """The open holes read the same draft again and again (a compiled read keeps the list
    it shaped for a draft and its answers): each answer, a change to the draft's row made
    behind the gateway's back, and another user's identical draft all show at once."""
    session = await create_session(client, alice)
    first = await _screen(client, alice, session["id"])
    assert await _screen(client, alice, session["id"]) == first
    holes = [hole["identifier"] for hole in first["openHoles"]]
    assert holes == ["return_type", "input_constraints"]

    await _answer(client, alice, session["id"], first["openHoles"][0])
    answered = await _screen(client, alice, session["id"])
    assert [hole["identifier"] for hole in answered["openHoles"]] == ["input_constraints"]

    ir = discount_ir(["input_constraints", "bounds"])
    conn = await asyncpg.connect(database.admin_dsn)
    try:  # behind the gateway: the draft's row changes, its id does not
        await conn.execute(
            "update public.drafts set ir = $1::jsonb where session_id = $2",
            orjson.dumps(ir).decode(),
            uuid.UUID(session["id"]),
        )
    finally:
        await conn.close()
    changed = await _screen(client, alice, session["id"])
    assert [hole["identifier"] for hole in changed["openHoles"]] == ["input_constraints", "bounds"]

    other = await create_session(client, bob)
    assert [h["identifier"] for h in (await _screen(client, bob, other["id"]))["openHoles"]] == [
        "return_type",
        "input_constraints",
    ]
