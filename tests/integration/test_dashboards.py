"""Dashboards on each backend, through the frontend's documents (examples/operations.graphql):
the viewer's stats, one activity timeline (the viewer's and a session's) newest first and
paged by cursor, each session's counts; and another user's sessions, activity and stats
never appear."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from tests.support import (
    ABANDON,
    ADD_DRAFT,
    FINALIZE,
    RESOLVE_HOLE,
    GraphClient,
    User,
    create_session,
    discount_ir,
)
from tests.support.acting import as_user
from tests.support.examples import example_operation
from tests.support.stores import Database

DASHBOARD = example_operation("Dashboard")
SESSION_ACTIVITY = example_operation("SessionActivity")
OPEN_HOLES = "query($id: ID!) { session(id: $id) { openHoles { identifier } revisions { totalCount } drafts { totalCount } } }"  # noqa: E501


async def _resolve(client: GraphClient, user: User, session_id: str, hole: str) -> None:
    answer = {"sessionId": session_id, "holeId": hole, "text": f"{hole} answered"}
    (await client.execute(RESOLVE_HOLE, {"input": answer}, user=user)).ok()


async def _dashboard(client: GraphClient, user: User, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await client.execute(DASHBOARD, variables, user=user)).ok()
    return data


async def _walk(client: GraphClient, user: User) -> list[str]:
    """One session of each fate; the ids, in order of creation."""
    open_one = await create_session(client, user, holes=["lower", "upper"], title="open")
    await _resolve(client, user, open_one["id"], "lower")
    done = await create_session(client, user, holes=["only"], title="done")
    await _resolve(client, user, done["id"], "only")
    draft = {"sessionId": done["id"], "ir": discount_ir([]), "appliedHoleIds": ["only"]}
    (await client.execute(ADD_DRAFT, {"input": draft}, user=user)).ok()
    (await client.execute(FINALIZE, {"input": {"id": done["id"]}}, user=user)).ok()
    dropped = await create_session(client, user, holes=["x"], title="dropped")
    (await client.execute(ABANDON, {"input": {"id": dropped["id"]}}, user=user)).ok()
    return [open_one["id"], done["id"], dropped["id"]]


async def test_stats_count_the_callers_sessions_and_only_theirs(
    client: GraphClient, alice: User, bob: User
) -> None:
    empty = (await _dashboard(client, alice))["viewer"]["stats"]
    assert empty == {
        "total": 0,
        "active": 0,
        "finalized": 0,
        "abandoned": 0,
        "averageSecondsToFinalize": None,
        "openHoles": 0,
    }
    await _walk(client, alice)
    await create_session(client, bob, holes=["a", "b", "c"])
    stats = (await _dashboard(client, alice))["viewer"]["stats"]
    seconds = stats.pop("averageSecondsToFinalize")
    assert stats == {"total": 3, "active": 1, "finalized": 1, "abandoned": 1, "openHoles": 1}
    assert isinstance(seconds, float)
    assert 0 <= seconds < 600
    bobs = (await _dashboard(client, bob))["viewer"]["stats"]
    assert (bobs["total"], bobs["active"], bobs["openHoles"]) == (1, 1, 3)


async def test_the_timeline_is_newest_first_pages_by_cursor_and_is_the_callers(
    client: GraphClient, alice: User, bob: User
) -> None:
    open_id, done_id, dropped_id = await _walk(client, alice)
    bobs_session = await create_session(client, bob, holes=["a"])
    first = (await _dashboard(client, alice, activity=100))["viewer"]["activity"]
    kinds = [(e["node"]["kind"], e["node"]["sessionId"]) for e in first["edges"]]
    created = ["SESSION_CREATED", "REVISION_ADDED", "DRAFT_ADDED"]
    resolved = ["REVISION_ADDED", "HOLE_RESOLVED"]
    # What each write of the walk added, in the order they were sent: one transaction
    # each, so one timestamp each.
    writes = [
        [(k, open_id) for k in created],
        [(k, open_id) for k in resolved],
        [(k, done_id) for k in created],
        [(k, done_id) for k in resolved],
        [("DRAFT_ADDED", done_id)],
        [("SESSION_FINALIZED", done_id)],
        [(k, dropped_id) for k in created],
        [("SESSION_ABANDONED", dropped_id)],
    ]
    # Newest first: the last write's events first (within one write, in the order of
    # their rows' ids).
    at = 0
    for write in reversed(writes):
        assert sorted(kinds[at : at + len(write)]) == sorted(write)
        at += len(write)
    assert len(kinds) == 16
    assert not first["pageInfo"]["hasNextPage"]
    ats = [e["node"]["at"] for e in first["edges"]]
    assert ats == sorted(ats, reverse=True)
    resolution = next(e["node"] for e in first["edges"] if e["node"]["kind"] == "HOLE_RESOLVED")
    assert resolution["resolution"]["text"].endswith("answered")
    assert resolution["revision"]["type"] == "HOLE_FILL"
    assert resolution["session"]["id"] in (open_id, done_id)

    seen: list[str] = []
    after = None
    while True:
        data = (
            await client.execute(
                SESSION_ACTIVITY, {"id": done_id, "first": 3, "after": after}, user=alice
            )
        ).ok()
        page = data["session"]["activity"]
        assert page["totalCount"] == 7
        seen += [e["cursor"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    whole = (await client.execute(SESSION_ACTIVITY, {"id": done_id, "first": 100}, user=alice)).ok()
    assert seen == [e["cursor"] for e in whole["session"]["activity"]["edges"]]
    assert len(set(seen)) == 7

    # Bob's timeline holds his session only, even from Alice's cursor.
    bobs = (await _dashboard(client, bob, activity=100))["viewer"]["activity"]
    assert {e["node"]["sessionId"] for e in bobs["edges"]} == {bobs_session["id"]}
    assert len(bobs["edges"]) == 3
    from_alices = (
        await client.execute(
            SESSION_ACTIVITY, {"id": done_id, "first": 5, "after": seen[2]}, user=bob
        )
    ).ok()
    assert from_alices == {"session": None}


async def test_each_sessions_counts_match_its_lists(client: GraphClient, alice: User) -> None:
    await _walk(client, alice)
    listed = (await _dashboard(client, alice))["sessions"]["edges"]
    assert len(listed) == 3
    for edge in listed:
        node = edge["node"]
        full = (await client.execute(OPEN_HOLES, {"id": node["id"]}, user=alice)).ok()["session"]
        assert node["openHoleCount"] == len(full["openHoles"])
        assert node["revisionCount"] == full["revisions"]["totalCount"]
        assert node["draftCount"] == full["drafts"]["totalCount"]
    counts = {e["node"]["title"]: e["node"]["openHoleCount"] for e in listed}
    assert counts == {"open": 1, "done": 0, "dropped": 1}


async def test_the_views_are_the_callers_rls_whatever_the_door(
    database: Database, client: GraphClient, alice: User, bob: User
) -> None:
    await _walk(client, alice)
    conn = await asyncpg.connect(database.app_dsn)
    try:
        options = await conn.fetch(
            "select relname, reloptions from pg_class where relname = any($1) order by relname",
            ["session_activity", "session_stats", "session_summary"],
        )
        assert [(r["relname"], r["reloptions"]) for r in options] == [
            (name, ["security_invoker=true"])
            for name in ("session_activity", "session_stats", "session_summary")
        ]
        async with conn.transaction():
            await as_user(conn, bob.id)
            for view in ("session_activity", "session_stats", "session_summary"):
                assert await conn.fetchval(f"select count(*) from public.{view}") == 0
        async with conn.transaction():
            await as_user(conn, alice.id)
            assert await conn.fetchval("select count(*) from public.session_summary") == 3
            assert await conn.fetchval("select count(*) from public.session_activity") == 16
        async with conn.transaction():
            await conn.execute("set local role anon")
            try:
                await conn.fetchval("select count(*) from public.session_activity")
            except asyncpg.InsufficientPrivilegeError:
                pass
            else:
                raise AssertionError("anon read the activity view")
    finally:
        await conn.close()


async def test_open_hole_counts_are_kept_at_every_door_and_no_client_sets_them(
    database: Database, client: GraphClient, alice: User
) -> None:
    session = await create_session(client, alice, holes=["lower", "upper"])
    conn = await asyncpg.connect(database.app_dsn)
    try:
        async with conn.transaction():  # plain SQL as the user: a resolution, a draft
            await as_user(conn, alice.id)
            await conn.execute(
                "insert into public.resolutions (session_id, hole_id, resolution_text,"
                " resolution_type) values ($1, 'lower', 'by hand', 'add_constraint')",
                uuid.UUID(session["id"]),
            )
        counted = await _open_hole_count(client, alice, session["id"])
        assert counted == 1
        async with conn.transaction():
            await as_user(conn, alice.id)
            await conn.execute(
                "insert into public.drafts (session_id, ir) values ($1, $2::jsonb)",
                uuid.UUID(session["id"]),
                json.dumps(discount_ir(["lower", "upper", "third"])),
            )
        assert await _open_hole_count(client, alice, session["id"]) == 2  # upper, third
        try:
            async with conn.transaction():
                await as_user(conn, alice.id)
                await conn.execute(
                    "update public.sessions set open_hole_count = 0 where id = $1",
                    uuid.UUID(session["id"]),
                )
        except asyncpg.InsufficientPrivilegeError:
            pass
        else:
            raise AssertionError("a client set its own open-hole count")
        assert await _open_hole_count(client, alice, session["id"]) == 2
    finally:
        await conn.close()


async def _open_hole_count(client: GraphClient, user: User, session_id: str) -> int:
    data = (await client.execute(OPEN_HOLES_AND_COUNT, {"id": session_id}, user=user)).ok()
    listed = len(data["session"]["openHoles"])
    assert data["session"]["openHoleCount"] == listed
    return listed


OPEN_HOLES_AND_COUNT = (
    "query($id: ID!) { session(id: $id) { openHoleCount openHoles { identifier } } }"
)


async def test_counts_are_the_rows_whatever_the_door_and_no_client_takes_one_away(
    database: Database, client: GraphClient, alice: User
) -> None:
    """revisionCount and draftCount count the rows whichever door added them, and no
    client may delete or renumber a revision or a draft (the history is append-only)."""
    session = await create_session(client, alice, holes=["lower"])
    session_id = uuid.UUID(session["id"])
    conn = await asyncpg.connect(database.app_dsn)
    try:
        async with conn.transaction():  # plain SQL as the user: a revision and a draft
            await as_user(conn, alice.id)
            await conn.execute(
                "insert into public.revisions (session_id, content, revision_type)"
                " values ($1, 'by hand', 'manual_edit')",
                session_id,
            )
            await conn.execute(
                "insert into public.drafts (session_id, ir) values ($1, $2::jsonb)",
                session_id,
                json.dumps(discount_ir(["lower"])),
            )
        refused = (
            "delete from public.revisions where session_id = $1 and number = 1",
            "delete from public.drafts where session_id = $1 and version = 1",
            "update public.revisions set number = 7 where session_id = $1",
            "update public.drafts set version = 7 where session_id = $1",
        )
        for statement in refused:
            try:
                async with conn.transaction():
                    await as_user(conn, alice.id)
                    await conn.execute(statement, session_id)
            except asyncpg.InsufficientPrivilegeError:
                pass
            else:
                raise AssertionError(f"a client ran: {statement}")
        async with conn.transaction():
            await as_user(conn, alice.id)
            counted = await conn.fetchrow(
                "select (select count(*) from public.revisions where session_id = $1) as r,"
                " (select count(*) from public.drafts where session_id = $1) as d",
                session_id,
            )
    finally:
        await conn.close()
    assert (counted["r"], counted["d"]) == (2, 2)
    listed = (await _dashboard(client, alice))["sessions"]["edges"]
    [node] = [e["node"] for e in listed if e["node"]["id"] == session["id"]]
    assert (node["revisionCount"], node["draftCount"]) == (2, 2)
