"""Transactions as the caller: the pool, BEGIN with role and claims, a request's shared
read transaction, and database failures as the errors a client sees.

Every transaction begins by setting role `authenticated` and `request.jwt.claims`, as
PostgREST does (sent with BEGIN in one round trip), so row-level security decides what
the caller sees. A query's reads share one read-only transaction; each write has its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, NoReturn, TypeVar

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from graph.auth import Claims
from graph.errors import (
    BadUserInput,
    Conflict,
    GraphError,
    NotFound,
    UpstreamUnavailable,
    from_rule_message,
)

logger = logging.getLogger("graph.backends.postgres")

T = TypeVar("T")
Connection = PoolConnectionProxy

ACQUIRE_TIMEOUT_S = 5.0
_CAN_BYPASS_RLS = """
select exists (
  select 1 from pg_catalog.pg_roles r
   where (r.rolsuper or r.rolbypassrls) and pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')
)
"""


async def open_pool(dsn: str, *, size: int, statement_timeout_ms: int) -> asyncpg.Pool:
    """A pool for a login that cannot bypass row-level security (else it refuses)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=size,
        init=_init_connection,
        reset=_keep_session_state,
        server_settings={
            "application_name": "session-graph",
            "statement_timeout": str(statement_timeout_ms),
            "standard_conforming_strings": "on",  # begin_as relies on it
        },
    )
    try:
        async with pool.acquire() as conn:
            if await conn.fetchval(_CAN_BYPASS_RLS):
                user = await conn.fetchval("select current_user")
                raise RuntimeError(
                    f"the database login role {user!r} is, or can become, a role that bypasses "
                    "row-level security; connect as a role such as 'authenticator' instead"
                )
    except BaseException:
        await pool.close()
        raise
    return pool


class Transactions:
    """Transactions on one pool, each acting as a caller."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def read_scope(self, viewer: Claims) -> AsyncIterator[None]:
        """The reads of one GraphQL query share one read-only transaction: one snapshot,
        one connection, one BEGIN. Writes always run in transactions of their own."""
        scope = _ReadScope(self.pool, viewer)
        token = _current_read_scope.set(scope)
        try:
            yield
        finally:
            _current_read_scope.reset(token)
            await scope.close()

    @asynccontextmanager
    async def acting_as(
        self, viewer: Claims, *, read_only: bool = False
    ) -> AsyncIterator[Connection]:
        """A transaction acting as `viewer` (the request's read scope, when there is one);
        database failures leave as GraphErrors."""
        scope = _current_read_scope.get()
        try:
            if scope is not None and scope.usable_for(viewer):
                async with scope.statement() as shared:
                    if shared is not None:
                        yield shared
                        return
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn:
                await conn.execute(begin_as(viewer, read_only=read_only))
                try:
                    yield conn
                except BaseException:
                    await _rollback(conn)
                    raise
                await conn.execute("COMMIT")
        except GraphError:
            raise
        except Exception as exc:
            _raise_translated(exc)

    async def without_claims(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """`work` on a pooled connection outside any caller's transaction (pings)."""
        try:
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn:
                return await work(conn)
        except Exception as exc:
            _raise_translated(exc)

    def in_use(self) -> int:
        return self.pool.get_size() - self.pool.get_idle_size()


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
        self._conn: Connection | None = None
        self._broken = False
        self._closed = False

    def usable_for(self, viewer: Claims) -> bool:
        return viewer is self._viewer and not self._broken and not self._closed

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[Connection | None]:
        """The scope's connection, or None once the request is over (a DataLoader batch
        that outlived a cancelled field then runs in a transaction of its own)."""
        async with self._lock:
            if self._closed:
                yield None
                return
            try:
                if self._conn is None:
                    self._conn = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
                    await self._conn.execute(begin_as(self._viewer, read_only=True))
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


def begin_as(viewer: Claims, *, read_only: bool) -> str:
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


async def _rollback(conn: Connection) -> None:
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


def translate(exc: Exception) -> Exception:  # noqa: PLR0911 - one mapping, read top down
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


def _raise_translated(exc: Exception) -> NoReturn:
    translated = translate(exc)
    if translated is exc:
        raise exc
    raise translated from exc


def plain(row: Any) -> dict[str, Any]:
    """An asyncpg record as a row of the port (a plain mapping)."""
    return dict(row)
