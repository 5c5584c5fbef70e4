"""Adapter: asyncpg straight to Postgres, as the caller (graph/backends/postgres/transactions.py).

Reads select whole rows (`t.*`), so a column the graph describes is there without an edit
here; writes call the migrations' SQL functions, where the rules live. Every statement is
written out below, beside the method that sends it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from graph.auth import Claims
from graph.backends.base import (
    ActivityPageRequest,
    ChildPageRequest,
    DraftRevert,
    HoleAnswer,
    NewDraft,
    NewRevision,
    NewSession,
    Page,
    Row,
    SessionPageRequest,
    SessionVersion,
)
from graph.backends.postgres.compiled import (
    VIEWER_STATS,
    CompiledRead,
    compile_payload,
    compile_read,
)
from graph.backends.postgres.listener import listening
from graph.backends.postgres.transactions import Connection, Transactions, open_pool, plain
from graph.errors import NotFound
from graph.live.changes import LiveSource
from graph.reads.finish import finisher
from graph.reads.plan import Bound, ReadPlan
from graph.reads.planner import CompiledReader
from graph.schema.model import Write

SESSIONS_BY_ID = "select s.* from public.sessions s where s.id = any($1::uuid[])"
SESSION_BY_ID = "select s.* from public.sessions s where s.id = $1"
COUNT_SESSIONS = "select count(*) from public.sessions s where ($1::text is null or s.status = $1)"
LIST_SESSIONS = """
select s.* from public.sessions s
 where ($1::text is null or s.status = $1)
   and ($2::timestamptz is null or s.updated_at < $2
        or (s.updated_at = $2 and s.id > $3::uuid))
 order by s.updated_at desc, s.id
 limit $4
"""
CURRENT_DRAFTS = """
select distinct on (d.session_id) d.* from public.drafts d
 where d.session_id = any($1::uuid[])
 order by d.session_id, d.version desc
"""
SESSION_RESOLUTIONS = """
select x.* from public.resolutions x
 where x.session_id = any($1::uuid[]) order by x.session_id, x.number
"""
DRAFTS_BY_VERSION = """
select d.* from public.drafts d
  join unnest($1::uuid[], $2::integer[]) k(session_id, version)
    on d.session_id = k.session_id and d.version = k.version
"""
# A page of children for many sessions: $1 the sessions, $2 the position after which to
# start, $3 rows per session (one more than asked, for hasNextPage).
REVISION_TOTALS = """
select r.session_id, count(*) as total from public.revisions r
 where r.session_id = any($1::uuid[]) group by r.session_id
"""
REVISION_PAGES = """
select * from (
  select r.*, row_number() over (partition by r.session_id order by r.number) as rn
    from public.revisions r where r.session_id = any($1::uuid[]) and r.number > $2
) paged where rn <= $3 order by session_id, number
"""
DRAFT_TOTALS = """
select d.session_id, count(*) as total from public.drafts d
 where d.session_id = any($1::uuid[]) group by d.session_id
"""
DRAFT_PAGES = """
select * from (
  select d.*, row_number() over (partition by d.session_id order by d.version) as rn
    from public.drafts d where d.session_id = any($1::uuid[]) and d.version > $2
) paged where rn <= $3 order by session_id, version
"""
# Resolutions also filter on `applied` when $2 (totals) or $4 (pages) is not null.
RESOLUTION_TOTALS = """
select x.session_id, count(*) as total from public.resolutions x
 where x.session_id = any($1::uuid[]) and ($2::boolean is null or x.applied = $2)
 group by x.session_id
"""
RESOLUTION_PAGES = """
select * from (
  select x.*, row_number() over (partition by x.session_id order by x.number) as rn
    from public.resolutions x
   where x.session_id = any($1::uuid[]) and x.number > $2
     and ($4::boolean is null or x.applied = $4)
) paged where rn <= $3 order by session_id, number
"""
SESSION_SUMMARIES = "select v.* from public.session_summary v where v.id = any($1::uuid[])"
# A timeline page, newest first; $1 the sessions (null: all the caller's), $2-$4 the
# position after which to start (at, row_id), $4 rows per session (one more than
# asked, for hasNextPage).
ACTIVITY_TOTALS = """
select a.session_id, count(*) as total from public.session_activity a
 where a.session_id = any($1::uuid[]) group by a.session_id
"""
ACTIVITY_PAGES = """
select * from (
  select a.*, row_number() over (
           partition by a.session_id order by a.at desc, a.row_id desc) as rn
    from public.session_activity a
   where a.session_id = any($1::uuid[])
     and ($2::timestamptz is null or (a.at, a.row_id) < ($2, $3::uuid))
) paged where rn <= $4 order by session_id, rn
"""
VIEWER_ACTIVITY_TOTAL = "select count(*) from public.session_activity a"
VIEWER_ACTIVITY_PAGE = """
select a.* from public.session_activity a
 where a.user_id = $1
   and ($2::timestamptz is null or (a.at, a.row_id) < ($2, $3::uuid))
 order by a.at desc, a.row_id desc
 limit $4
"""
ROWS_BY_ID = {
    table: f"select t.* from public.{table} t where t.id = any($1::uuid[])"  # noqa: S608 - fixed names
    for table in ("sessions", "revisions", "drafts", "resolutions")
}
CREATE_SESSION = "select s.* from public.create_session($1, $2, $3, $4, $5, $6) s"
ADD_REVISION = "select r.* from public.add_revision($1, $2, $3, $4, $5) r"
ADD_DRAFT = "select d.* from public.add_draft($1, $2, $3, $4, $5::text[], $6::text[], $7, $8) d"
RESOLVE_HOLE = "select x.* from public.resolve_hole($1, $2, $3, $4, $5, $6) x"
REVISION_BY_ID = "select r.* from public.revisions r where r.id = $1"
REVERT_TO_DRAFT = "select d.* from public.revert_to_draft($1, $2, $3) d"
LATEST_REVISION = """
select r.* from public.revisions r where r.session_id = $1 order by r.number desc limit 1
"""
FINALIZE_SESSION = "select s.* from public.finalize_session($1, $2) s"
ABANDON_SESSION = "select s.* from public.abandon_session($1, $2) s"
DELETE_SESSION = "select public.delete_session($1)"


class PostgresBackend:
    def __init__(self, transactions: Transactions, dsn: str | None = None) -> None:
        self._transactions = transactions
        self._dsn = dsn

    @classmethod
    async def connect(
        cls, dsn: str, *, pool_size: int = 10, statement_timeout_ms: int = 5000
    ) -> PostgresBackend:
        pool = await open_pool(dsn, size=pool_size, statement_timeout_ms=statement_timeout_ms)
        return cls(Transactions(pool), dsn)

    def change_source(self) -> LiveSource | None:
        """Announcements heard on a LISTEN connection of its own (listener.py)."""
        return LiveSource(run=listening(self._dsn)) if self._dsn is not None else None

    async def close(self) -> None:
        await self._transactions.pool.close()

    def connections_in_use(self) -> int:
        return self._transactions.in_use()

    def connection_limit(self) -> int:
        return self._transactions.pool.get_max_size()

    async def ping(self) -> None:
        await self._transactions.without_claims(lambda conn: conn.fetchval("select 1"))

    def read_scope(self, viewer: Claims) -> AbstractAsyncContextManager[None]:
        return self._transactions.read_scope(viewer)

    # Reads, field by field

    async def sessions_by_id(self, viewer: Claims, ids: Sequence[UUID]) -> list[Row | None]:
        async with self._transactions.acting_as(viewer) as conn:
            rows = await conn.fetch(SESSIONS_BY_ID, list(ids))
        found = {row["id"]: plain(row) for row in rows}
        return [found.get(i) for i in ids]

    async def list_sessions(self, viewer: Claims, page: SessionPageRequest) -> Page[Row]:
        after = page.after
        async with self._transactions.acting_as(viewer) as conn:
            total = await conn.fetchval(COUNT_SESSIONS, page.status)
            rows = await conn.fetch(
                LIST_SESSIONS,
                page.status,
                after.updated_at if after else None,
                after.id if after else None,
                page.first + 1,
            )
        items: list[Row] = [plain(row) for row in rows[: page.first]]
        return Page(items=items, has_next_page=len(rows) > page.first, total_count=total)

    async def current_drafts(self, viewer: Claims, session_ids: Sequence[UUID]) -> list[Row | None]:
        async with self._transactions.acting_as(viewer) as conn:
            rows = await conn.fetch(CURRENT_DRAFTS, list(session_ids))
        found = {row["session_id"]: plain(row) for row in rows}
        return [found.get(i) for i in session_ids]

    async def session_resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[list[Row]]:
        async with self._transactions.acting_as(viewer) as conn:
            rows = await conn.fetch(SESSION_RESOLUTIONS, list(session_ids))
        found: dict[UUID, list[Row]] = defaultdict(list)
        for row in rows:
            found[row["session_id"]].append(plain(row))
        return [found.get(i, []) for i in session_ids]

    async def drafts_by_version(
        self, viewer: Claims, keys: Sequence[tuple[UUID, int]]
    ) -> list[Row | None]:
        async with self._transactions.acting_as(viewer) as conn:
            rows = await conn.fetch(DRAFTS_BY_VERSION, [s for s, _ in keys], [v for _, v in keys])
        found = {(row["session_id"], row["version"]): plain(row) for row in rows}
        return [found.get(key) for key in keys]

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._children(viewer, session_ids, page, REVISION_TOTALS, REVISION_PAGES)

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._children(viewer, session_ids, page, DRAFT_TOTALS, DRAFT_PAGES)

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._children(
            viewer, session_ids, page, RESOLUTION_TOTALS, RESOLUTION_PAGES, page.applied
        )

    async def _children(
        self,
        viewer: Claims,
        session_ids: Sequence[UUID],
        page: ChildPageRequest,
        totals_sql: str,
        pages_sql: str,
        *filters: object,
    ) -> list[Page[Row]]:
        """`totals_sql` with the ids and `filters`; `pages_sql` with the ids, the position
        after which to start, the rows per session, and `filters`."""
        ids = list(session_ids)
        async with self._transactions.acting_as(viewer) as conn:
            totals = await conn.fetch(totals_sql, ids, *filters)
            rows = await conn.fetch(pages_sql, ids, page.after or 0, page.first + 1, *filters)
        return _pages(ids, totals, rows, page.first)

    async def session_summaries(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[Row | None]:
        async with self._transactions.acting_as(viewer) as conn:
            rows = await conn.fetch(SESSION_SUMMARIES, list(session_ids))
        found = {row["id"]: plain(row) for row in rows}
        return [found.get(i) for i in session_ids]

    async def viewer_stats(self, viewer: Claims) -> Row:
        async with self._transactions.acting_as(viewer) as conn:
            return plain(await conn.fetchrow(VIEWER_STATS))

    async def activity(
        self, viewer: Claims, session_ids: Sequence[UUID] | None, page: ActivityPageRequest
    ) -> list[Page[Row]]:
        after = page.after
        position = (after.at, after.id) if after else (None, None)
        if session_ids is None:
            async with self._transactions.acting_as(viewer) as conn:
                total = await conn.fetchval(VIEWER_ACTIVITY_TOTAL)
                rows = await conn.fetch(
                    VIEWER_ACTIVITY_PAGE, viewer.user_id, *position, page.first + 1
                )
            items: list[Row] = [plain(row) for row in rows[: page.first]]
            return [Page(items=items, has_next_page=len(rows) > page.first, total_count=total)]
        ids = list(session_ids)
        async with self._transactions.acting_as(viewer) as conn:
            totals = await conn.fetch(ACTIVITY_TOTALS, ids)
            rows = await conn.fetch(ACTIVITY_PAGES, ids, *position, page.first + 1)
        return _pages(ids, totals, rows, page.first)

    async def rows_by_id(self, viewer: Claims, table: str, ids: Sequence[UUID]) -> list[Row | None]:
        async with self._transactions.acting_as(viewer) as conn:
            rows = await conn.fetch(ROWS_BY_ID[table], list(ids))
        found = {row["id"]: plain(row) for row in rows}
        return [found.get(i) for i in ids]

    # Reads, compiled: one statement per query

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        if plan.write is not None:
            return self._compile_write(plan)
        compiled = compile_read(plan)
        if compiled is None:
            return None
        finish = finisher(plan)

        async def run(viewer: Claims, bound: Bound) -> bytes:
            data = await self._run_compiled(viewer, compiled, bound)
            if finish is None:
                return data
            value = orjson.loads(data)
            finish(value)
            return orjson.dumps(value)

        return run

    async def _run_compiled(self, viewer: Claims, compiled: CompiledRead, bound: Bound) -> bytes:
        async with self._transactions.acting_as(viewer, read_only=True) as conn:
            data: str = await conn.fetchval(compiled.sql, *compiled.parameters(bound, viewer))
        return data.encode()

    def _compile_write(self, plan: ReadPlan) -> CompiledReader | None:
        """A mutation as its SQL function and one statement for its payload, in one
        transaction: no field-by-field execution, no row brought into Python and out."""
        field = plan.write
        if field is None or not isinstance(field.read, Write):
            return None
        call = CALLS.get(field.read.call)
        payload = compile_payload(plan)
        if call is None or payload is None:
            return None
        finish = finisher(plan)

        async def run(viewer: Claims, bound: Bound) -> bytes:
            command = bound.command(field)
            async with self._transactions.acting_as(viewer) as conn:
                written = await call(conn, command)
                data: str = await conn.fetchval(
                    payload.sql, *payload.parameters(bound.after(written), viewer)
                )
            if finish is None:
                return data.encode()
            value = orjson.loads(data)
            finish(value)
            return orjson.dumps(value)

        return run

    # Writes: one SQL function each (CALLS, below), then the rows the payload returns, in
    # one transaction

    async def create_session(self, viewer: Claims, new: NewSession) -> Row:
        async with self._transactions.acting_as(viewer) as conn:
            return await CREATE_SESSION_CALL(conn, new)

    async def add_revision(self, viewer: Claims, new: NewRevision) -> tuple[Row, Row]:
        async with self._transactions.acting_as(viewer) as conn:
            row = await ADD_REVISION_CALL(conn, new)
            session = await conn.fetchrow(SESSION_BY_ID, new.session_id)
        return row, _present(session)

    async def add_draft(self, viewer: Claims, new: NewDraft) -> tuple[Row, Row]:
        async with self._transactions.acting_as(viewer) as conn:
            row = await ADD_DRAFT_CALL(conn, new)
            session = await conn.fetchrow(SESSION_BY_ID, new.session_id)
        return row, _present(session)

    async def resolve_hole(self, viewer: Claims, answer: HoleAnswer) -> tuple[Row, Row, Row]:
        async with self._transactions.acting_as(viewer) as conn:
            resolution = await RESOLVE_HOLE_CALL(conn, answer)
            revision = await conn.fetchrow(REVISION_BY_ID, resolution["revision_id"])
            session = await conn.fetchrow(SESSION_BY_ID, answer.session_id)
        return resolution, _present(revision), _present(session)

    async def revert_to_draft(
        self, viewer: Claims, session_id: UUID, version: int, expected_version: int | None
    ) -> tuple[Row, Row, Row]:
        async with self._transactions.acting_as(viewer) as conn:
            draft = await CALLS["revert_to_draft"](
                conn, DraftRevert(session_id, version, expected_version)
            )
            revision = await conn.fetchrow(LATEST_REVISION, session_id)
            session = await conn.fetchrow(SESSION_BY_ID, session_id)
        return draft, _present(revision), _present(session)

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row:
        async with self._transactions.acting_as(viewer) as conn:
            return await CALLS["finalize_session"](
                conn, SessionVersion(session_id, expected_version)
            )

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row:
        async with self._transactions.acting_as(viewer) as conn:
            return await CALLS["abandon_session"](
                conn, SessionVersion(session_id, expected_version)
            )

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID:
        async with self._transactions.acting_as(viewer) as conn:
            deleted: UUID = await conn.fetchval(DELETE_SESSION, session_id)
        return deleted


# The writes: each calls its SQL function on a connection acting as the caller and
# returns the row it returned (the field-by-field path then reads the payload's rows; a
# compiled write, graph/reads/, builds the payload in one statement).


@dataclass(frozen=True, slots=True)
class Call:
    """One write: its statement, and its parameters from the command."""

    sql: str
    parameters: Callable[[Any], tuple[object, ...]]

    async def __call__(self, conn: Connection, command: Any) -> Row:
        return _present(await conn.fetchrow(self.sql, *self.parameters(command)))


def _new_session(new: NewSession) -> tuple[object, ...]:
    d = new.initial_draft
    draft = (
        {
            "ir": d.ir,
            "validation_status": d.validation_status,
            "smt_results": d.smt_results,
            "ambiguities": d.ambiguities,
            "metadata": d.metadata,
        }
        if d is not None
        else None
    )
    return (new.prompt, new.source, new.title, new.metadata, draft, new.idempotency_key)


def _new_revision(new: NewRevision) -> tuple[object, ...]:
    return (new.session_id, new.content, new.revision_type, new.target_hole, new.metadata)


def _new_draft(new: NewDraft) -> tuple[object, ...]:
    d = new.draft
    return (
        new.session_id,
        d.ir,
        d.validation_status,
        d.smt_results,
        d.ambiguities,
        new.applied_hole_ids,
        d.metadata,
        new.expected_version,
    )


def _hole_answer(a: HoleAnswer) -> tuple[object, ...]:
    return (a.session_id, a.hole_id, a.text, a.resolution_type, a.metadata, a.expected_version)


def _draft_revert(r: DraftRevert) -> tuple[object, ...]:
    return (r.session_id, r.version, r.expected_version)


def _session_version(c: SessionVersion) -> tuple[object, ...]:
    return (c.session_id, c.expected_version)


CREATE_SESSION_CALL = Call(CREATE_SESSION, _new_session)
ADD_REVISION_CALL = Call(ADD_REVISION, _new_revision)
ADD_DRAFT_CALL = Call(ADD_DRAFT, _new_draft)
RESOLVE_HOLE_CALL = Call(RESOLVE_HOLE, _hole_answer)
REVERT_TO_DRAFT_CALL = Call(REVERT_TO_DRAFT, _draft_revert)
FINALIZE_SESSION_CALL = Call(FINALIZE_SESSION, _session_version)
ABANDON_SESSION_CALL = Call(ABANDON_SESSION, _session_version)

# By the name a mutation's `Write` description gives (graph/schema/mutations.py).
CALLS: dict[str, Callable[[Connection, Any], Awaitable[Row]]] = {
    "create_session": CREATE_SESSION_CALL,
    "add_revision": ADD_REVISION_CALL,
    "add_draft": ADD_DRAFT_CALL,
    "resolve_hole": RESOLVE_HOLE_CALL,
    "revert_to_draft": REVERT_TO_DRAFT_CALL,
    "finalize_session": FINALIZE_SESSION_CALL,
    "abandon_session": ABANDON_SESSION_CALL,
}


def _pages(
    ids: list[UUID], totals: Sequence[Any], rows: Sequence[Any], first: int
) -> list[Page[Row]]:
    """Per session: its rows (one past the page, for hasNextPage) and its total."""
    total_by_session = {row["session_id"]: row["total"] for row in totals}
    rows_by_session: dict[UUID, list[Row]] = defaultdict(list)
    for row in rows:
        rows_by_session[row["session_id"]].append(plain(row))
    pages = []
    for session_id in ids:
        items = rows_by_session.get(session_id, [])
        pages.append(
            Page(
                items=items[:first],
                has_next_page=len(items) > first,
                total_count=total_by_session.get(session_id, 0),
            )
        )
    return pages


def _present(row: object) -> Row:
    if row is None:  # the functions raise rather than return nothing; this is a guard
        raise NotFound("session not found")
    return plain(row)
