"""Adapter: asyncpg straight to Postgres, as the caller.

Every transaction begins by setting role `authenticated` and `request.jwt.claims`, as
PostgREST does (sent with BEGIN in one round trip), so row-level security decides what
the caller sees. A query's reads share one read-only transaction; each write has its
own. Multi-step writes call the migrations' SQL functions, where their rules live.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from graph.auth import Claims
from graph.backends.base import (
    ChildPageRequest,
    DraftRecord,
    HoleAnswer,
    NewDraft,
    NewRevision,
    NewSession,
    Page,
    ResolutionRecord,
    RevisionRecord,
    SessionCursor,
    SessionRecord,
)
from graph.backends.postgres_reads import (
    DRAFT_COLUMNS,
    RESOLUTION_COLUMNS,
    REVISION_COLUMNS,
    SESSION_COLUMNS,
    CompiledRead,
    compile_read,
)
from graph.errors import (
    BadUserInput,
    Conflict,
    GraphError,
    NotFound,
    UpstreamUnavailable,
    from_rule_message,
)
from graph.reads.plan import ReadPlan
from graph.reads.planner import CompiledReader

logger = logging.getLogger(__name__)

R = TypeVar("R")

_ACQUIRE_TIMEOUT_S = 5.0
_CAN_BYPASS_RLS = """
select exists (
  select 1 from pg_catalog.pg_roles r
   where (r.rolsuper or r.rolbypassrls) and pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')
)
"""

_SESSIONS_BY_ID = f"select {SESSION_COLUMNS} from public.sessions where id = any($1::uuid[])"
_SESSION_FILTER = "($1::text is null or status = $1)"
_COUNT_SESSIONS = f"select count(*) from public.sessions where {_SESSION_FILTER}"
_LIST_SESSIONS = f"""
select {SESSION_COLUMNS} from public.sessions
 where {_SESSION_FILTER}
   and ($2::timestamptz is null or updated_at < $2::timestamptz
        or (updated_at = $2::timestamptz and id > $3::uuid))
 order by updated_at desc, id
 limit $4
"""
_CURRENT_DRAFTS = f"""
select distinct on (session_id) {DRAFT_COLUMNS} from public.drafts
 where session_id = any($1::uuid[])
 order by session_id, version desc
"""


class _ChildQueries:
    """The two statements that page one kind of child for many sessions at once."""

    def __init__(self, table: str, columns: str, key: str) -> None:
        # $1 session ids, $2 the key after which to start, $3 rows per session, $4 applied
        applied = "and ($4::boolean is null or applied = $4)" if table == "resolutions" else ""
        self.totals = f"""
            select session_id, count(*) as total from public.{table}
             where session_id = any($1::uuid[]) {applied.replace("$4", "$2")}
             group by session_id"""
        self.page = f"""
            select {columns} from (
              select {columns}, row_number() over (partition by session_id order by {key}) as rn
                from public.{table}
               where session_id = any($1::uuid[]) and {key} > $2 {applied}
            ) paged
             where rn <= $3
             order by session_id, {key}"""
        self.filters_applied = table == "resolutions"


_REVISION_PAGES = _ChildQueries("revisions", REVISION_COLUMNS, "number")
_DRAFT_PAGES = _ChildQueries("drafts", DRAFT_COLUMNS, "version")
_RESOLUTION_PAGES = _ChildQueries("resolutions", RESOLUTION_COLUMNS, "number")


class PostgresBackend:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(
        cls, dsn: str, *, pool_size: int = 10, statement_timeout_ms: int = 5000
    ) -> PostgresBackend:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            init=_init_connection,
            reset=_keep_session_state,
            server_settings={
                "application_name": "session-graph",
                "statement_timeout": str(statement_timeout_ms),
                "standard_conforming_strings": "on",  # _begin_as relies on it
            },
        )
        backend = cls(pool)
        try:
            await backend._refuse_login_that_bypasses_rls()
        except BaseException:
            await pool.close()
            raise
        return backend

    async def _refuse_login_that_bypasses_rls(self) -> None:
        async with self._pool.acquire() as conn:
            if await conn.fetchval(_CAN_BYPASS_RLS):
                user = await conn.fetchval("select current_user")
                raise RuntimeError(
                    f"the database login role {user!r} is, or can become, a role that bypasses "
                    "row-level security; connect as a role such as 'authenticator' instead"
                )

    async def close(self) -> None:
        await self._pool.close()

    def pool_in_use(self) -> int:
        return self._pool.get_size() - self._pool.get_idle_size()

    async def ping(self) -> None:
        await self._run(lambda conn: conn.fetchval("select 1"))

    # Reads

    async def sessions_by_id(
        self, viewer: Claims, ids: Sequence[UUID]
    ) -> list[SessionRecord | None]:
        async with self._as(viewer) as conn:
            rows = await conn.fetch(_SESSIONS_BY_ID, list(ids))
        found = {row["id"]: SessionRecord(**row) for row in rows}
        return [found.get(i) for i in ids]

    async def list_sessions(
        self, viewer: Claims, first: int, after: SessionCursor | None, status: str | None
    ) -> Page[SessionRecord]:
        async with self._as(viewer) as conn:
            total = await conn.fetchval(_COUNT_SESSIONS, status)
            rows = await conn.fetch(
                _LIST_SESSIONS,
                status,
                after.updated_at if after else None,
                after.id if after else None,
                first + 1,
            )
        items = [SessionRecord(**row) for row in rows[:first]]
        return Page(items=items, has_next_page=len(rows) > first, total_count=total)

    async def current_drafts(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[DraftRecord | None]:
        async with self._as(viewer) as conn:
            rows = await conn.fetch(_CURRENT_DRAFTS, list(session_ids))
        found = {row["session_id"]: _draft(row) for row in rows}
        return [found.get(i) for i in session_ids]

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[RevisionRecord]]:
        return await self._child_pages(
            viewer, session_ids, page, _REVISION_PAGES, lambda row: RevisionRecord(**row)
        )

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[DraftRecord]]:
        return await self._child_pages(viewer, session_ids, page, _DRAFT_PAGES, _draft)

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[ResolutionRecord]]:
        return await self._child_pages(
            viewer, session_ids, page, _RESOLUTION_PAGES, lambda row: ResolutionRecord(**row)
        )

    async def _child_pages(
        self,
        viewer: Claims,
        session_ids: Sequence[UUID],
        page: ChildPageRequest,
        queries: _ChildQueries,
        to_record: Callable[[asyncpg.Record], R],
    ) -> list[Page[R]]:
        ids = list(session_ids)
        applied_args = (page.applied,) if queries.filters_applied else ()
        async with self._as(viewer) as conn:
            totals = await conn.fetch(queries.totals, ids, *applied_args)
            rows = await conn.fetch(
                queries.page, ids, page.after or 0, page.first + 1, *applied_args
            )
        total_by_session = {row["session_id"]: row["total"] for row in totals}
        rows_by_session: dict[UUID, list[R]] = defaultdict(list)
        for row in rows:
            rows_by_session[row["session_id"]].append(to_record(row))
        pages = []
        for session_id in ids:
            items = rows_by_session.get(session_id, [])
            pages.append(
                Page(
                    items=items[: page.first],
                    has_next_page=len(items) > page.first,
                    total_count=total_by_session.get(session_id, 0),
                )
            )
        return pages

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        compiled = compile_read(plan)
        if compiled is None:
            return None

        async def run(viewer: Claims, bound: Sequence[object]) -> bytes:
            return await self._run_compiled(viewer, compiled, bound)

        return run

    async def _run_compiled(
        self, viewer: Claims, compiled: CompiledRead, bound: Sequence[object]
    ) -> bytes:
        async with self._as(viewer, read_only=True) as conn:
            data: str = await conn.fetchval(compiled.sql, *compiled.parameters(bound, viewer))
        return data.encode()

    # Writes: one SQL function each, then the rows the payload returns, in one transaction.

    async def create_session(self, viewer: Claims, new: NewSession) -> SessionRecord:
        draft = None
        if new.initial_draft is not None:
            d = new.initial_draft
            draft = {
                "ir": d.ir,
                "validation_status": d.validation_status,
                "smt_results": d.smt_results,
                "ambiguities": d.ambiguities,
                "metadata": d.metadata,
            }
        async with self._as(viewer) as conn:
            row = await conn.fetchrow(
                f"select {SESSION_COLUMNS} from public.create_session($1, $2, $3, $4, $5, $6)",
                new.prompt,
                new.source,
                new.title,
                new.metadata,
                draft,
                new.idempotency_key,
            )
        return SessionRecord(**_present(row))

    async def add_revision(
        self, viewer: Claims, new: NewRevision
    ) -> tuple[RevisionRecord, SessionRecord]:
        async with self._as(viewer) as conn:
            row = await conn.fetchrow(
                f"select {REVISION_COLUMNS} from public.add_revision($1, $2, $3, $4, $5)",
                new.session_id,
                new.content,
                new.revision_type,
                new.target_hole,
                new.metadata,
            )
            session = await _session(conn, new.session_id)
        return RevisionRecord(**_present(row)), session

    async def add_draft(self, viewer: Claims, new: NewDraft) -> tuple[DraftRecord, SessionRecord]:
        d = new.draft
        async with self._as(viewer) as conn:
            row = await conn.fetchrow(
                f"select {DRAFT_COLUMNS} from public.add_draft("
                "$1, $2, $3, $4, $5::text[], $6::text[], $7, $8)",
                new.session_id,
                d.ir,
                d.validation_status,
                d.smt_results,
                d.ambiguities,
                new.applied_hole_ids,
                d.metadata,
                new.expected_version,
            )
            session = await _session(conn, new.session_id)
        return _draft(_present(row)), session

    async def resolve_hole(
        self, viewer: Claims, answer: HoleAnswer
    ) -> tuple[ResolutionRecord, RevisionRecord, SessionRecord]:
        async with self._as(viewer) as conn:
            row = _present(
                await conn.fetchrow(
                    f"select {RESOLUTION_COLUMNS} from public.resolve_hole($1, $2, $3, $4, $5, $6)",
                    answer.session_id,
                    answer.hole_id,
                    answer.text,
                    answer.resolution_type,
                    answer.metadata,
                    answer.expected_version,
                )
            )
            revision = await conn.fetchrow(
                f"select {REVISION_COLUMNS} from public.revisions where id = $1",
                row["revision_id"],
            )
            session = await _session(conn, answer.session_id)
        return ResolutionRecord(**row), RevisionRecord(**_present(revision)), session

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord:
        return await self._session_transition(
            "finalize_session", viewer, session_id, expected_version
        )

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord:
        return await self._session_transition(
            "abandon_session", viewer, session_id, expected_version
        )

    async def _session_transition(
        self, function: str, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord:
        async with self._as(viewer) as conn:
            row = await conn.fetchrow(
                f"select {SESSION_COLUMNS} from public.{function}($1, $2)",
                session_id,
                expected_version,
            )
        return SessionRecord(**_present(row))

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID:
        async with self._as(viewer) as conn:
            deleted: UUID = await conn.fetchval("select public.delete_session($1)", session_id)
        return deleted

    # Plumbing

    @asynccontextmanager
    async def read_scope(self, viewer: Claims) -> AsyncIterator[None]:
        """The reads of one GraphQL query share one read-only transaction: one snapshot,
        one connection, one BEGIN. Writes always run in transactions of their own."""
        scope = _ReadScope(self._pool, viewer)
        token = _current_read_scope.set(scope)
        try:
            yield
        finally:
            _current_read_scope.reset(token)
            await scope.close()

    @asynccontextmanager
    async def _as(
        self, viewer: Claims, *, read_only: bool = False
    ) -> AsyncIterator[PoolConnectionProxy]:
        """A transaction acting as `viewer` (the request's read scope, when there is one);
        database failures leave as GraphErrors."""
        scope = _current_read_scope.get()
        try:
            if scope is not None and scope.usable_for(viewer):
                async with scope.statement() as shared:
                    if shared is not None:
                        yield shared
                        return
            async with self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_S) as conn:
                await conn.execute(_begin_as(viewer, read_only=read_only))
                try:
                    yield conn
                except BaseException:
                    await _rollback(conn)
                    raise
                await conn.execute("COMMIT")
        except GraphError:
            raise
        except Exception as exc:
            translated = _translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    async def _run(self, work: Callable[[PoolConnectionProxy], Any]) -> Any:
        try:
            async with self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_S) as conn:
                return await work(conn)
        except Exception as exc:
            translated = _translate(exc)
            if translated is exc:
                raise
            raise translated from exc


_current_read_scope: ContextVar[_ReadScope | None] = ContextVar(
    "session_graph_read_scope", default=None
)


class _ReadScope:
    """One connection and one read-only transaction for the reads of one request, taken
    on the first read. Statements on it run one at a time (the DataLoaders' batches
    would otherwise race on the connection)."""

    def __init__(self, pool: asyncpg.Pool, viewer: Claims) -> None:
        self._pool = pool
        self._viewer = viewer
        self._lock = asyncio.Lock()
        self._conn: PoolConnectionProxy | None = None
        self._broken = False
        self._closed = False

    def usable_for(self, viewer: Claims) -> bool:
        return viewer is self._viewer and not self._broken and not self._closed

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[PoolConnectionProxy | None]:
        """The scope's connection, or None once the request is over (a DataLoader batch
        that outlived a cancelled field then runs in a transaction of its own)."""
        async with self._lock:
            if self._closed:
                yield None
                return
            try:
                if self._conn is None:
                    self._conn = await self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_S)
                    await self._conn.execute(_begin_as(self._viewer, read_only=True))
                yield self._conn
            except GraphError:
                raise
            except BaseException:
                self._broken = True  # the transaction may be aborted: later reads go alone
                raise

    async def close(self) -> None:
        async with self._lock:  # a statement still running finishes first
            self._closed = True
            if self._conn is None:
                return
            try:
                await self._conn.execute("ROLLBACK" if self._broken else "COMMIT")
            except Exception:
                logger.info("closing a read scope failed", exc_info=True)
            finally:
                await self._pool.release(self._conn)
                self._conn = None


def _begin_as(viewer: Claims, *, read_only: bool) -> str:
    """BEGIN and the caller's role and claims in one round trip (one simple-query batch).

    The claims are the verified token's JSON, written as a SQL string literal; with
    standard_conforming_strings on (set for every connection) doubling quotes is the whole
    of the quoting, and JSON text holds no raw NUL.

    Reads also ask for generic plans: a compiled read's optional filters (`$1 is null or
    status = $1`) made Postgres re-plan the `sessions` statement on every execution
    (pg_prepared_statements: 0 generic, 50 custom), about 0.2 ms of database time each,
    and every read here is keyed by the caller's user id whatever the values."""
    literal = "'" + viewer.as_json.replace("'", "''") + "'"
    mode = " ISOLATION LEVEL REPEATABLE READ, READ ONLY" if read_only else ""
    generic = ", set_config('plan_cache_mode', 'force_generic_plan', true)" if read_only else ""
    return (
        f"BEGIN{mode}; SELECT set_config('role', 'authenticated', true), "
        f"set_config('request.jwt.claims', {literal}, true){generic}"
    )


async def _rollback(conn: PoolConnectionProxy) -> None:
    try:
        await conn.execute("ROLLBACK")
    except Exception:
        logger.info("rollback failed", exc_info=True)


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset on release (RESET ALL, CLOSE ALL, UNLISTEN *, unlock all:
    one more round trip per request). This backend changes no session state: role and
    claims are set transaction-local and end with the transaction, and asyncpg still
    rolls back any transaction left open before calling this."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            format="text",
        )


async def _session(conn: PoolConnectionProxy, session_id: UUID) -> SessionRecord:
    row = await conn.fetchrow(f"{_SESSIONS_BY_ID.replace('any($1::uuid[])', '$1')}", session_id)
    return SessionRecord(**_present(row))


def _draft(row: asyncpg.Record | dict[str, Any]) -> DraftRecord:
    values = dict(row)
    values["ambiguities"] = list(values["ambiguities"])
    return DraftRecord(**values)


def _present(row: asyncpg.Record | None) -> asyncpg.Record:
    if row is None:  # the functions raise rather than return nothing; this is a guard
        raise NotFound("session not found")
    return row


def _translate(exc: Exception) -> Exception:  # noqa: PLR0911 - one mapping, read top down
    """A database failure as the error the client sees. Unknown failures pass through."""
    if isinstance(exc, asyncpg.RaiseError):
        mapped = from_rule_message(exc.message)
        if mapped is not None:
            return mapped
    if isinstance(exc, asyncpg.ForeignKeyViolationError | asyncpg.InsufficientPrivilegeError):
        logger.info("refused as not found: %s", exc)
        return NotFound("session not found")
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict("a concurrent write got there first; read again and retry")
    if isinstance(exc, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return Conflict("a concurrent write got there first; read again and retry")
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError | asyncpg.DataError):
        logger.info("input refused by the database: %s", exc)
        return BadUserInput("the input breaks a rule of the session record")
    if isinstance(exc, asyncpg.QueryCanceledError):
        return UpstreamUnavailable("the database did not answer in time; retry")
    if isinstance(
        exc,
        OSError
        | asyncio.TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        | asyncpg.ConnectionDoesNotExistError
        | asyncpg.InterfaceError
        # A pooled connection left mid-operation by a server going away (seen when
        # Postgres restarts under load): the pool discards it on release.
        | asyncpg.InternalClientError,
    ):
        return UpstreamUnavailable("the database is unavailable; retry")
    return exc
