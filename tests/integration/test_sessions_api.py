"""Every query and mutation: the happy path, the rules, and bad input."""

from __future__ import annotations

import uuid

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


async def test_viewer_is_the_tokens_subject(client: GraphClient, alice: User) -> None:
    data = (await client.execute("{ viewer { id } }", user=alice)).ok()
    assert data == {"viewer": {"id": str(alice.id)}}


async def test_create_session_adds_the_initial_revision_and_draft_one(
    client: GraphClient, alice: User
) -> None:
    session = await create_session(client, alice, title="Discounts", metadata={"team": "pricing"})
    assert session["status"] == "ACTIVE"
    assert session["source"] == "PROMPT"
    assert session["title"] == "Discounts"
    assert session["metadata"] == {"team": "pricing"}
    assert session["version"] == 1
    assert session["finalizedAt"] is None
    draft = session["currentDraft"]
    assert draft["version"] == 1
    assert draft["ir"] == discount_ir()
    assert draft["validationStatus"] == "INCOMPLETE"
    assert draft["ambiguities"] == ["return_type", "input_constraints"]
    assert session["unresolvedHoles"] == ["return_type", "input_constraints"]

    read = (await client.execute(GET_SESSION, {"id": session["id"]}, user=alice)).ok()["session"]
    assert read["revisions"]["totalCount"] == 1
    first = read["revisions"]["edges"][0]["node"]
    assert first == {
        "number": 1,
        "type": "INITIAL",
        "content": "Create a calculate_discount function",
        "targetHole": None,
    }
    assert read["drafts"]["totalCount"] == 1


async def test_create_session_without_prompt_or_draft_is_empty(
    client: GraphClient, alice: User
) -> None:
    reply = await client.execute(CREATE_SESSION, {"input": {"source": "REVERSE_MODE"}}, user=alice)
    session = reply.ok()["createSession"]["session"]
    assert session["source"] == "REVERSE_MODE"
    assert session["currentDraft"] is None
    assert session["unresolvedHoles"] == []
    read = (await client.execute(GET_SESSION, {"id": session["id"]}, user=alice)).ok()["session"]
    assert read["revisions"]["totalCount"] == 0


async def test_explicit_ambiguities_override_the_irs_holes(
    client: GraphClient, alice: User
) -> None:
    session = await create_session(
        client,
        alice,
        initialDraft={
            "ir": discount_ir(),
            "ambiguities": ["return_type"],
            "smtResults": [{"predicate": "price >= 0", "status": "sat", "model": None}],
        },
    )
    assert session["currentDraft"]["ambiguities"] == ["return_type"]
    assert session["currentDraft"]["smtResults"] == [
        {"predicate": "price >= 0", "status": "sat", "model": None}
    ]


async def test_the_whole_loop_resolve_redraft_finalize(client: GraphClient, alice: User) -> None:
    """The domain's example: answer input_constraints, draft v2, answer return_type, finalize."""
    session = await create_session(client, alice)
    sid = session["id"]

    reply = await client.execute(
        RESOLVE_HOLE,
        {
            "input": {
                "sessionId": sid,
                "holeId": "input_constraints",
                "text": "price >= 0 and 0 <= rate <= 1",
                "type": "ADD_CONSTRAINT",
                "expectedVersion": 1,
            }
        },
        user=alice,
    )
    resolved = reply.ok()["resolveHole"]
    assert resolved["resolution"]["holeId"] == "input_constraints"
    assert resolved["resolution"]["type"] == "ADD_CONSTRAINT"
    assert resolved["resolution"]["applied"] is False
    assert resolved["revision"] == {
        "id": resolved["revision"]["id"],
        "number": 2,
        "type": "HOLE_FILL",
        "content": "price >= 0 and 0 <= rate <= 1",
        "targetHole": "input_constraints",
    }
    assert resolved["session"]["version"] == 2

    v2 = discount_ir(["input_constraints"])
    v2["assertions"][0]["holes"] = []
    v2["signature"]["holes"] = discount_ir()["signature"]["holes"]
    reply = await client.execute(
        ADD_DRAFT,
        {
            "input": {
                "sessionId": sid,
                "ir": v2,
                "validationStatus": "INCOMPLETE",
                "appliedHoleIds": ["input_constraints"],
                "expectedVersion": 2,
            }
        },
        user=alice,
    )
    added = reply.ok()["addDraft"]
    assert added["draft"]["version"] == 2
    assert added["draft"]["ambiguities"] == ["return_type"]
    assert added["session"] == {
        "id": sid,
        "version": 3,
        "unresolvedHoles": ["return_type"],
        "currentDraft": {"version": 2},
    }

    refused = await client.execute(FINALIZE, {"input": {"id": sid}}, user=alice)
    assert refused.codes == ["FAILED_PRECONDITION"]
    assert "1 unresolved holes remaining" in refused.errors[0]["message"]

    await client.execute(
        RESOLVE_HOLE,
        {
            "input": {
                "sessionId": sid,
                "holeId": "return_type",
                "text": "float",
                "type": "REFINE_SIGNATURE",
            }
        },
        user=alice,
    )
    v3 = discount_ir([])
    v3["signature"]["returns"] = "float"
    reply = await client.execute(
        ADD_DRAFT,
        {
            "input": {
                "sessionId": sid,
                "ir": v3,
                "validationStatus": "VALID",
                "appliedHoleIds": ["return_type"],
            }
        },
        user=alice,
    )
    assert reply.ok()["addDraft"]["session"]["unresolvedHoles"] == []

    final = await client.execute(FINALIZE, {"input": {"id": sid, "expectedVersion": 5}}, user=alice)
    finalized = final.ok()["finalizeSession"]["session"]
    assert finalized["status"] == "FINALIZED"
    assert finalized["version"] == 6
    assert finalized["finalizedAt"] is not None

    read = (await client.execute(GET_SESSION, {"id": sid}, user=alice)).ok()["session"]
    assert [e["node"]["number"] for e in read["revisions"]["edges"]] == [1, 2, 3]
    assert [e["node"]["version"] for e in read["drafts"]["edges"]] == [1, 2, 3]
    assert [(e["node"]["holeId"], e["node"]["applied"]) for e in read["resolutions"]["edges"]] == [
        ("input_constraints", True),
        ("return_type", True),
    ]

    # Only active sessions change.
    for query, variables in (
        (ADD_REVISION, {"input": {"sessionId": sid, "content": "more"}}),
        (RESOLVE_HOLE, {"input": {"sessionId": sid, "holeId": "return_type", "text": "int"}}),
        (ADD_DRAFT, {"input": {"sessionId": sid, "ir": v3}}),
        (ABANDON, {"input": {"id": sid}}),
        (FINALIZE, {"input": {"id": sid}}),
    ):
        reply = await client.execute(query, variables, user=alice)
        assert reply.codes == ["FAILED_PRECONDITION"], (query, reply.body)
    assert (await client.execute(GET_SESSION, {"id": sid}, user=alice)).ok()["session"][
        "version"
    ] == 6


async def test_finalize_refuses_a_contradictory_draft(client: GraphClient, alice: User) -> None:
    session = await create_session(
        client, alice, initialDraft={"ir": discount_ir([]), "validationStatus": "CONTRADICTORY"}
    )
    reply = await client.execute(FINALIZE, {"input": {"id": session["id"]}}, user=alice)
    assert reply.codes == ["FAILED_PRECONDITION"]
    assert "contradictory" in reply.errors[0]["message"]


async def test_finalize_refuses_a_session_without_a_draft(client: GraphClient, alice: User) -> None:
    reply = await client.execute(CREATE_SESSION, {"input": {"prompt": "p"}}, user=alice)
    sid = reply.ok()["createSession"]["session"]["id"]
    reply = await client.execute(FINALIZE, {"input": {"id": sid}}, user=alice)
    assert reply.codes == ["FAILED_PRECONDITION"]


async def test_add_revision_numbers_and_bumps_the_version(client: GraphClient, alice: User) -> None:
    session = await create_session(client, alice)
    reply = await client.execute(
        ADD_REVISION,
        {
            "input": {
                "sessionId": session["id"],
                "content": "price is in cents",
                "type": "CONSTRAINT_ADD",
                "metadata": {"by": "user"},
            }
        },
        user=alice,
    )
    added = reply.ok()["addRevision"]
    assert added["revision"]["number"] == 2
    assert added["revision"]["type"] == "CONSTRAINT_ADD"
    assert added["revision"]["metadata"] == {"by": "user"}
    assert added["session"]["version"] == 2


async def test_abandon_then_nothing_changes(client: GraphClient, alice: User) -> None:
    session = await create_session(client, alice)
    reply = await client.execute(
        ABANDON, {"input": {"id": session["id"], "expectedVersion": 1}}, user=alice
    )
    abandoned = reply.ok()["abandonSession"]["session"]
    assert abandoned["status"] == "ABANDONED"
    assert abandoned["finalizedAt"] is None
    reply = await client.execute(
        ADD_REVISION, {"input": {"sessionId": session["id"], "content": "x"}}, user=alice
    )
    assert reply.codes == ["FAILED_PRECONDITION"]


async def test_delete_removes_the_session_and_its_children(
    client: GraphClient, alice: User, database: object
) -> None:
    session = await create_session(client, alice)
    sid = session["id"]
    await client.execute(
        RESOLVE_HOLE,
        {"input": {"sessionId": sid, "holeId": "return_type", "text": "float"}},
        user=alice,
    )
    reply = await client.execute(DELETE, {"input": {"id": sid}}, user=alice)
    assert reply.ok() == {"deleteSession": {"deletedId": sid}}
    assert (await client.execute(GET_SESSION, {"id": sid}, user=alice)).ok() == {"session": None}
    again = await client.execute(DELETE, {"input": {"id": sid}}, user=alice)
    assert again.codes == ["NOT_FOUND"]

    import asyncpg  # noqa: PLC0415

    conn = await asyncpg.connect(database.admin_dsn)  # type: ignore[attr-defined]
    try:
        for table in ("revisions", "drafts", "resolutions"):
            left = await conn.fetchval(
                f"select count(*) from public.{table} where session_id = $1", uuid.UUID(sid)
            )
            assert left == 0, table
    finally:
        await conn.close()


async def test_stale_expected_version_is_a_conflict_and_changes_nothing(
    client: GraphClient, alice: User
) -> None:
    session = await create_session(client, alice)
    sid = session["id"]
    for query, variables in (
        (
            RESOLVE_HOLE,
            {
                "input": {
                    "sessionId": sid,
                    "holeId": "return_type",
                    "text": "x",
                    "expectedVersion": 7,
                }
            },
        ),
        (ADD_DRAFT, {"input": {"sessionId": sid, "ir": discount_ir([]), "expectedVersion": 7}}),
        (FINALIZE, {"input": {"id": sid, "expectedVersion": 7}}),
        (ABANDON, {"input": {"id": sid, "expectedVersion": 7}}),
    ):
        reply = await client.execute(query, variables, user=alice)
        assert reply.codes == ["CONFLICT"], reply.body
        assert reply.data is None
    read = (await client.execute(GET_SESSION, {"id": sid}, user=alice)).ok()["session"]
    assert read["version"] == 1
    assert read["revisions"]["totalCount"] == 1
    assert read["drafts"]["totalCount"] == 1
    assert read["resolutions"]["totalCount"] == 0


async def test_resolving_a_hole_the_draft_does_not_have_is_bad_input(
    client: GraphClient, alice: User
) -> None:
    session = await create_session(client, alice)
    reply = await client.execute(
        RESOLVE_HOLE,
        {"input": {"sessionId": session["id"], "holeId": "nope", "text": "x"}},
        user=alice,
    )
    assert reply.codes == ["BAD_USER_INPUT"]
    assert "nope" in reply.errors[0]["message"]


async def test_sessions_lists_newest_first_and_pages(client: GraphClient, alice: User) -> None:
    ids = [
        (await client.execute(CREATE_SESSION, {"input": {"title": f"s{i}"}}, user=alice)).ok()[
            "createSession"
        ]["session"]["id"]
        for i in range(5)
    ]
    # Touching the oldest makes it the most recently updated.
    await client.execute(ADD_REVISION, {"input": {"sessionId": ids[0], "content": "x"}}, user=alice)
    expected = [ids[0], ids[4], ids[3], ids[2], ids[1]]

    query = """query($first: Int, $after: String) { sessions(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await client.execute(query, {"first": 2, "after": after}, user=alice)).ok()[
            "sessions"
        ]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == expected
    assert pages == 3


async def test_sessions_filter_by_status(client: GraphClient, alice: User) -> None:
    active = await create_session(client, alice)
    gone = await create_session(client, alice)
    await client.execute(ABANDON, {"input": {"id": gone["id"]}}, user=alice)
    query = "query($s: SessionStatus) { sessions(status: $s) { totalCount edges { node { id } } } }"
    by_status = {
        status: [
            e["node"]["id"]
            for e in (await client.execute(query, {"s": status}, user=alice)).ok()["sessions"][
                "edges"
            ]
        ]
        for status in ("ACTIVE", "ABANDONED", "FINALIZED")
    }
    assert by_status == {"ACTIVE": [active["id"]], "ABANDONED": [gone["id"]], "FINALIZED": []}


async def test_nested_lists_page_with_cursors(client: GraphClient, alice: User) -> None:
    session = await create_session(client, alice)
    for i in range(4):
        await client.execute(
            ADD_REVISION, {"input": {"sessionId": session["id"], "content": f"r{i}"}}, user=alice
        )
    query = """query($id: ID!, $after: String) { session(id: $id) {
        revisions(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                                             edges { node { number } } } } }"""
    numbers: list[int] = []
    after = None
    while True:
        revisions = (
            await client.execute(query, {"id": session["id"], "after": after}, user=alice)
        ).ok()["session"]["revisions"]
        assert revisions["totalCount"] == 5
        numbers += [e["node"]["number"] for e in revisions["edges"]]
        if not revisions["pageInfo"]["hasNextPage"]:
            break
        after = revisions["pageInfo"]["endCursor"]
    assert numbers == [1, 2, 3, 4, 5]


async def test_resolutions_filter_by_applied(client: GraphClient, alice: User) -> None:
    session = await create_session(client, alice)
    sid = session["id"]
    for hole in ("return_type", "input_constraints"):
        await client.execute(
            RESOLVE_HOLE, {"input": {"sessionId": sid, "holeId": hole, "text": "x"}}, user=alice
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
    query = """query($id: ID!, $applied: Boolean) { session(id: $id) {
        resolutions(applied: $applied) { totalCount edges { node { holeId applied } } } } }"""
    for applied, holes in (
        (True, ["return_type"]),
        (False, ["input_constraints"]),
        (None, ["return_type", "input_constraints"]),
    ):
        got = (await client.execute(query, {"id": sid, "applied": applied}, user=alice)).ok()[
            "session"
        ]["resolutions"]
        assert [e["node"]["holeId"] for e in got["edges"]] == holes
        assert got["totalCount"] == len(holes)


async def test_absent_session_is_null(client: GraphClient, alice: User) -> None:
    reply = await client.execute(GET_SESSION, {"id": str(uuid.uuid4())}, user=alice)
    assert reply.ok() == {"session": None}


BAD_INPUTS = [
    ("malformed id", GET_SESSION, {"id": "not-a-uuid"}),
    ("first over 100", "{ sessions(first: 101) { totalCount } }", {}),
    ("negative first", "{ sessions(first: -1) { totalCount } }", {}),
    ("bad cursor", '{ sessions(after: "nope") { totalCount } }', {}),
    ("unknown enum", "{ sessions(status: DONE) { totalCount } }", {}),
    ("unknown field", "{ sessions { nope } }", {}),
    ("syntax", "{ sessions { ", {}),
    ("ir not an IR", CREATE_SESSION, {"input": {"initialDraft": {"ir": {"intent": "x"}}}}),
    ("ir not an object", CREATE_SESSION, {"input": {"initialDraft": {"ir": [1, 2]}}}),
    ("metadata not an object", CREATE_SESSION, {"input": {"metadata": [1]}}),
    ("empty prompt", CREATE_SESSION, {"input": {"prompt": "   "}}),
    ("title too long", CREATE_SESSION, {"input": {"title": "t" * 501}}),
    ("forged user id", CREATE_SESSION, {"input": {"userId": str(uuid.uuid4())}}),
    (
        "smtResults not a list",
        CREATE_SESSION,
        {"input": {"initialDraft": {"ir": discount_ir(), "smtResults": {"a": 1}}}},
    ),
    ("empty content", ADD_REVISION, {"input": {"sessionId": str(uuid.uuid4()), "content": ""}}),
    (
        "hole fill without hole",
        ADD_REVISION,
        {"input": {"sessionId": str(uuid.uuid4()), "content": "x", "type": "HOLE_FILL"}},
    ),
    ("bad session id", ADD_REVISION, {"input": {"sessionId": "x", "content": "c"}}),
    ("missing ir", ADD_DRAFT, {"input": {"sessionId": str(uuid.uuid4())}}),
    ("zero expected version", FINALIZE, {"input": {"id": str(uuid.uuid4()), "expectedVersion": 0}}),
    (
        "empty hole id",
        RESOLVE_HOLE,
        {"input": {"sessionId": str(uuid.uuid4()), "holeId": "", "text": "x"}},
    ),
    ("bad delete id", DELETE, {"input": {"id": "1"}}),
]


@pytest.mark.parametrize(("case", "query", "variables"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
async def test_bad_input_is_refused_with_a_code_and_changes_nothing(
    client: GraphClient, alice: User, case: str, query: str, variables: dict[str, object]
) -> None:
    reply = await client.execute(query, variables, user=alice)
    assert reply.status == 200
    assert reply.codes, reply.body
    assert set(reply.codes) == {"BAD_USER_INPUT"}, reply.body
    assert reply.data is None or all(v is None for v in reply.data.values())
    listed = (await client.execute("{ sessions { totalCount } }", user=alice)).ok()
    assert listed == {"sessions": {"totalCount": 0}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            ADD_REVISION,
            {"input": {"sessionId": "00000000-0000-0000-0000-000000000000", "content": "x"}},
        ),
        (
            RESOLVE_HOLE,
            {
                "input": {
                    "sessionId": "00000000-0000-0000-0000-000000000000",
                    "holeId": "h",
                    "text": "x",
                }
            },
        ),
        (
            ADD_DRAFT,
            {"input": {"sessionId": "00000000-0000-0000-0000-000000000000", "ir": discount_ir()}},
        ),
        (FINALIZE, {"input": {"id": "00000000-0000-0000-0000-000000000000"}}),
        (ABANDON, {"input": {"id": "00000000-0000-0000-0000-000000000000"}}),
        (DELETE, {"input": {"id": "00000000-0000-0000-0000-000000000000"}}),
    ],
)
async def test_writes_to_an_absent_session_are_not_found(
    client: GraphClient, alice: User, query: str, variables: dict[str, object]
) -> None:
    reply = await client.execute(query, variables, user=alice)
    assert reply.codes == ["NOT_FOUND"]
