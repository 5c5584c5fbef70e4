"""The port: what the GraphQL schema needs from a store, in the domain's own terms.

Every method takes the caller's verified claims and acts as that caller; the store,
not the gateway, decides what the caller may see (row-level security). Another
user's rows behave as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from uuid import UUID

from graph.auth import Claims

if TYPE_CHECKING:
    from graph.reads.plan import ReadPlan
    from graph.reads.planner import CompiledReader

T = TypeVar("T")


# At most this many rows in one page: the gateway's `first` limit, and pg_graphql's
# `max_rows` (migrations/0006 sets the same number; tests/unit/test_schema_file.py checks).
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: UUID
    status: str
    source: str
    title: str | None
    metadata: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    finalized_at: datetime | None


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    id: UUID
    session_id: UUID
    number: int
    content: str
    revision_type: str
    target_hole: str | None
    metadata: Any | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DraftRecord:
    id: UUID
    session_id: UUID
    version: int
    ir: dict[str, Any]
    validation_status: str
    smt_results: list[Any]
    ambiguities: list[str]
    metadata: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ResolutionRecord:
    id: UUID
    session_id: UUID
    number: int
    revision_id: UUID | None
    hole_id: str
    resolution_text: str
    resolution_type: str
    applied: bool
    metadata: dict[str, Any]
    created_at: datetime


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


def _checked(value: object, kind: type[T]) -> T:
    if not isinstance(value, kind):  # a reader and a compiler disagree: a bug
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class SessionPageRequest:
    """A page of the caller's sessions, newest updated first."""

    first: int
    after: SessionCursor | None = None
    status: str | None = None

    @classmethod
    def of(cls, value: object) -> SessionPageRequest:
        """A compiled read's bound argument, as what it is."""
        return _checked(value, cls)


@dataclass(frozen=True, slots=True)
class ChildPageRequest:
    """A page of one kind of child, the same for every session in a batch.

    `after` is the number (revision, resolution) or version (draft) of the last row seen.
    """

    first: int
    after: int | None = None
    applied: bool | None = None  # resolutions only

    @classmethod
    def of(cls, value: object) -> ChildPageRequest:
        """A compiled read's bound argument, as what it is."""
        return _checked(value, cls)


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


class Backend(Protocol):
    async def sessions_by_id(
        self, viewer: Claims, ids: Sequence[UUID]
    ) -> list[SessionRecord | None]: ...

    async def list_sessions(
        self, viewer: Claims, first: int, after: SessionCursor | None, status: str | None
    ) -> Page[SessionRecord]: ...

    async def current_drafts(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[DraftRecord | None]: ...

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[RevisionRecord]]: ...

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[DraftRecord]]: ...

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[ResolutionRecord]]: ...

    async def create_session(self, viewer: Claims, new: NewSession) -> SessionRecord: ...

    async def add_revision(
        self, viewer: Claims, new: NewRevision
    ) -> tuple[RevisionRecord, SessionRecord]: ...

    async def add_draft(
        self, viewer: Claims, new: NewDraft
    ) -> tuple[DraftRecord, SessionRecord]: ...

    async def resolve_hole(
        self, viewer: Claims, answer: HoleAnswer
    ) -> tuple[ResolutionRecord, RevisionRecord, SessionRecord]: ...

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord: ...

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord: ...

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID: ...

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        """One store request that answers the whole planned query, or None when this
        store cannot (the query is then executed field by field)."""
        ...

    def read_scope(self, viewer: Claims) -> AbstractAsyncContextManager[None]:
        """Lets the reads of one request share what the store can share (a transaction)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
