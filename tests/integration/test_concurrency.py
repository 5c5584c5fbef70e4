"""Concurrent writers: gap-free numbering, optimistic concurrency, idempotent creates."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support import (
    ADD_DRAFT,
    CREATE_SESSION,
    GET_SESSION,
    RESOLVE_HOLE,
    GraphClient,
    User,
    create_session,
    discount_ir,
)


async def test_twenty_concurrent_resolutions_number_without_gaps(
    client: GraphClient, alice: User
) -> None:
    holes = [f"hole_{i}" for i in range(20)]
    session = await create_session(client, alice, holes=holes)
    replies = await asyncio.gather(
        *(
            client.execute(
                RESOLVE_HOLE,
                {"input": {"sessionId": session["id"], "holeId": hole, "text": f"answer {hole}"}},
                user=alice,
            )
            for hole in holes
        )
    )
    resolved = [reply.ok()["resolveHole"] for reply in replies]
    numbers = sorted(r["revision"]["number"] for r in resolved)
    assert numbers == list(range(2, 22))  # revision 1 is the INITIAL prompt
    versions = sorted(r["session"]["version"] for r in resolved)
    assert versions == list(range(2, 22))

    read = (await client.execute(GET_SESSION, {"id": session["id"]}, user=alice)).ok()["session"]
    assert read["version"] == 21
    assert read["resolutions"]["totalCount"] == 20
    assert [e["node"]["number"] for e in read["revisions"]["edges"]] == list(range(1, 22))
    assert sorted(e["node"]["holeId"] for e in read["resolutions"]["edges"]) == sorted(holes)


async def test_two_writers_with_the_same_expected_version_one_conflicts(
    client: GraphClient, alice: User
) -> None:
    session = await create_session(client, alice)
    sid = session["id"]

    def draft(summary: str) -> dict[str, Any]:
        ir = discount_ir()
        ir["intent"]["summary"] = summary
        return {"input": {"sessionId": sid, "ir": ir, "expectedVersion": 1}}

    first, second = await asyncio.gather(
        client.execute(ADD_DRAFT, draft("writer one"), user=alice),
        client.execute(ADD_DRAFT, draft("writer two"), user=alice),
    )
    outcomes = sorted([first.codes, second.codes])
    assert outcomes == [[], ["CONFLICT"]]
    winner = first if not first.codes else second
    assert winner.ok()["addDraft"]["draft"]["version"] == 2

    read = (await client.execute(GET_SESSION, {"id": sid}, user=alice)).ok()["session"]
    assert read["version"] == 2
    assert read["drafts"]["totalCount"] == 2


async def test_create_session_retried_with_the_same_key_creates_nothing_new(
    client: GraphClient, alice: User
) -> None:
    variables = {
        "input": {
            "prompt": "p",
            "title": "once",
            "idempotencyKey": "req-123",
            "initialDraft": {"ir": discount_ir()},
        }
    }
    first = (await client.execute(CREATE_SESSION, variables, user=alice)).ok()
    again = (await client.execute(CREATE_SESSION, variables, user=alice)).ok()
    assert again == first
    listed = (await client.execute("{ sessions { totalCount } }", user=alice)).ok()
    assert listed == {"sessions": {"totalCount": 1}}
    read = (
        await client.execute(
            GET_SESSION, {"id": first["createSession"]["session"]["id"]}, user=alice
        )
    ).ok()["session"]
    assert (read["revisions"]["totalCount"], read["drafts"]["totalCount"]) == (1, 1)


async def test_concurrent_retries_with_the_same_key_give_one_session(
    client: GraphClient, alice: User
) -> None:
    variables = {"input": {"prompt": "p", "idempotencyKey": "burst"}}
    replies = await asyncio.gather(
        *(client.execute(CREATE_SESSION, variables, user=alice) for _ in range(10))
    )
    ids = {reply.ok()["createSession"]["session"]["id"] for reply in replies}
    assert len(ids) == 1
    listed = (await client.execute("{ sessions { totalCount } }", user=alice)).ok()
    assert listed == {"sessions": {"totalCount": 1}}
