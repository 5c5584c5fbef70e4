"""The port: what the GraphQL schema needs from a store, in the domain's own terms.

Every method takes the caller's verified claims and acts as that caller; the store,
not the gateway, decides what the caller may see (row-level security). Another
user's rows behave as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from uuid import UUID

from graph.auth import Claims

if TYPE_CHECKING:
    from graph.live.changes import LiveSource
    from graph.reads.plan import ReadPlan
    from graph.reads.planner import CompiledReader

T = TypeVar("T")


# At most this many rows in one page: the gateway's `first` limit, and pg_graphql's
# `max_rows` (migrations/0006 sets the same number; tests/unit/test_schema_file.py checks).
MAX_PAGE_SIZE = 100


# A stored row: column name -> value as Postgres gives it (uuid as UUID, timestamptz as an
# aware datetime, jsonb parsed, arrays as lists). Both stores answer with rows of the
# tables' columns; the graph's types say which column each field reads
# (graph/schema/model.py), so a new column needs no change here.
Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SessionCursor:
    """Position in the sessions list (newest updated_at first)."""

    updated_at: datetime
    id: UUID


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool
    total_count: int


@dataclass(frozen=True, slots=True)
class SessionPageRequest:
    """A page of the caller's sessions, newest updated first."""

    first: int
    after: SessionCursor | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ActivityCursor:
    """Position in an activity timeline (newest first by at, then the row's id)."""

    at: datetime
    id: UUID


@dataclass(frozen=True, slots=True)
class ActivityPageRequest:
    """A page of a timeline (migrations/0013's session_activity), newest first."""

    first: int
    after: ActivityCursor | None = None


@dataclass(frozen=True, slots=True)
class ChildPageRequest:
    """A page of one kind of child, the same for every session in a batch.

    `after` is the number (revision, resolution) or version (draft) of the last row seen.
    """

    first: int
    after: int | None = None
    applied: bool | None = None  # resolutions only


@dataclass(frozen=True, slots=True)
class DraftInput:
    """A draft as the client sent it; the database checks it (null: the default)."""

    ir: Any
    validation_status: str
    smt_results: Any | None
    ambiguities: list[str] | None  # None: the IR's holes
    metadata: Any | None


@dataclass(frozen=True, slots=True)
class NewSession:
    prompt: str | None
    source: str
    title: str | None
    metadata: Any | None
    initial_draft: DraftInput | None
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class NewRevision:
    session_id: UUID
    content: str
    revision_type: str
    target_hole: str | None
    metadata: Any | None


@dataclass(frozen=True, slots=True)
class NewDraft:
    session_id: UUID
    draft: DraftInput
    applied_hole_ids: list[str]
    expected_version: int | None


@dataclass(frozen=True, slots=True)
class HoleAnswer:
    session_id: UUID
    hole_id: str
    text: str
    resolution_type: str
    metadata: Any | None
    expected_version: int | None


@dataclass(frozen=True, slots=True)
class SessionVersion:
    """A session, and the version the caller expects it at (finalize, abandon)."""

    session_id: UUID
    expected_version: int | None


@dataclass(frozen=True, slots=True)
class DraftRevert:
    session_id: UUID
    version: int
    expected_version: int | None


class Backend(Protocol):
    async def sessions_by_id(self, viewer: Claims, ids: Sequence[UUID]) -> list[Row | None]: ...

    async def list_sessions(self, viewer: Claims, page: SessionPageRequest) -> Page[Row]: ...

    async def current_drafts(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[Row | None]: ...

    async def session_resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[list[Row]]:
        """Every resolution of each session, oldest first."""
        ...

    async def drafts_by_version(
        self, viewer: Claims, keys: Sequence[tuple[UUID, int]]
    ) -> list[Row | None]:
        """The draft of each (session id, version), or None."""
        ...

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]: ...

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]: ...

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]: ...

    async def session_summaries(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[Row | None]:
        """Each session's row of session_summary (its counts), or None."""
        ...

    async def viewer_stats(self, viewer: Claims) -> Row:
        """The caller's sessions counted: total, active, finalized, abandoned,
        average_seconds_to_finalize (None before any is finalized), open_holes (over the
        active ones)."""
        ...

    async def activity(
        self, viewer: Claims, session_ids: Sequence[UUID] | None, page: ActivityPageRequest
    ) -> list[Page[Row]]:
        """A page of session_activity per session, or (None) one of all the caller's."""
        ...

    async def rows_by_id(self, viewer: Claims, table: str, ids: Sequence[UUID]) -> list[Row | None]:
        """The rows of `table` (sessions, revisions, drafts, resolutions) by id, or None."""
        ...

    async def create_session(self, viewer: Claims, new: NewSession) -> Row: ...

    async def add_revision(self, viewer: Claims, new: NewRevision) -> tuple[Row, Row]:
        """The revision and its session."""
        ...

    async def add_draft(self, viewer: Claims, new: NewDraft) -> tuple[Row, Row]:
        """The draft and its session."""
        ...

    async def resolve_hole(self, viewer: Claims, answer: HoleAnswer) -> tuple[Row, Row, Row]:
        """The resolution, its HOLE_FILL revision, and the session."""
        ...

    async def revert_to_draft(
        self, viewer: Claims, session_id: UUID, version: int, expected_version: int | None
    ) -> tuple[Row, Row, Row]:
        """The new draft, the MANUAL_EDIT revision that says so, and the session."""
        ...

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row: ...

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row: ...

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID: ...

    def change_source(self) -> LiveSource | None:
        """Where this store announces committed changes, for live subscriptions; None
        when it has no such source (yet)."""
        ...

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        """One store request that answers the whole planned query, or None when this
        store cannot (the query is then executed field by field)."""
        ...

    def read_scope(self, viewer: Claims) -> AbstractAsyncContextManager[None]:
        """Lets the reads of one request share what the store can share (a transaction)."""
        ...

    def connections_in_use(self) -> int:
        """Database connections checked out now (0 for a store reached over HTTP)."""
        ...

    def connection_limit(self) -> int:
        """The most database connections the store opens (0 for one reached over HTTP)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
