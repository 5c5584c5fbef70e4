"""The graph's object types. Each is built from a store record; nested lists go
through the request's DataLoaders, so a list of sessions costs one store call per
nested field, not one per session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Generic, TypeVar
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.backends.base import (
    DraftRecord,
    Page,
    ResolutionRecord,
    RevisionRecord,
    SessionRecord,
)
from graph.context import RequestContext, load
from graph.cursors import CursorKind, position_cursor
from graph.schema.arguments import child_page

NodeT = TypeVar("NodeT")


@strawberry.enum
class SessionStatus(Enum):
    ACTIVE = "active"
    FINALIZED = "finalized"
    ABANDONED = "abandoned"


@strawberry.enum
class SessionSource(Enum):
    PROMPT = "prompt"
    REVERSE_MODE = "reverse_mode"


@strawberry.enum
class RevisionType(Enum):
    INITIAL = "initial"
    HOLE_FILL = "hole_fill"
    CONSTRAINT_ADD = "constraint_add"
    MANUAL_EDIT = "manual_edit"


@strawberry.enum
class ValidationStatus(Enum):
    PENDING = "pending"
    VALID = "valid"
    CONTRADICTORY = "contradictory"
    INCOMPLETE = "incomplete"


@strawberry.enum
class ResolutionType(Enum):
    CLARIFY_INTENT = "clarify_intent"
    ADD_CONSTRAINT = "add_constraint"
    REFINE_SIGNATURE = "refine_signature"
    SPECIFY_EFFECT = "specify_effect"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int


def connection(edges: list[Edge[NodeT]], page: Page[object]) -> Connection[NodeT]:
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total_count,
    )


@strawberry.type
class Viewer:
    id: strawberry.ID


@strawberry.type
class Revision:
    id: strawberry.ID
    number: int
    content: str
    type: RevisionType
    target_hole: str | None
    metadata: JSON
    created_at: datetime

    @classmethod
    def from_record(cls, record: RevisionRecord) -> Revision:
        return cls(
            id=strawberry.ID(str(record.id)),
            number=record.number,
            content=record.content,
            type=RevisionType(record.revision_type),
            target_hole=record.target_hole,
            metadata=JSON(record.metadata),
            created_at=record.created_at,
        )


@strawberry.type
class Draft:
    id: strawberry.ID
    version: int
    ir: JSON
    validation_status: ValidationStatus
    smt_results: JSON
    ambiguities: list[str]
    metadata: JSON
    created_at: datetime

    @classmethod
    def from_record(cls, record: DraftRecord) -> Draft:
        return cls(
            id=strawberry.ID(str(record.id)),
            version=record.version,
            ir=JSON(record.ir),
            validation_status=ValidationStatus(record.validation_status),
            smt_results=JSON(record.smt_results),
            ambiguities=record.ambiguities,
            metadata=JSON(record.metadata),
            created_at=record.created_at,
        )


@strawberry.type
class Resolution:
    id: strawberry.ID
    hole_id: str
    text: str
    type: ResolutionType
    applied: bool
    metadata: JSON
    created_at: datetime

    @classmethod
    def from_record(cls, record: ResolutionRecord) -> Resolution:
        return cls(
            id=strawberry.ID(str(record.id)),
            hole_id=record.hole_id,
            text=record.resolution_text,
            type=ResolutionType(record.resolution_type),
            applied=record.applied,
            metadata=JSON(record.metadata),
            created_at=record.created_at,
        )


@strawberry.type
class Session:
    key: strawberry.Private[UUID]
    id: strawberry.ID
    status: SessionStatus
    source: SessionSource
    title: str | None
    metadata: JSON
    version: int
    created_at: datetime
    updated_at: datetime
    finalized_at: datetime | None

    @classmethod
    def from_record(cls, record: SessionRecord) -> Session:
        return cls(
            key=record.id,
            id=strawberry.ID(str(record.id)),
            status=SessionStatus(record.status),
            source=SessionSource(record.source),
            title=record.title,
            metadata=JSON(record.metadata),
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
            finalized_at=record.finalized_at,
        )

    @strawberry.field(description="The draft with the highest version.")
    async def current_draft(self, info: Info[RequestContext, None]) -> Draft | None:
        record = await load(info.context.loaders.current_draft, self.key)
        return Draft.from_record(record) if record is not None else None

    @strawberry.field(description="The current draft's unresolved holes.")
    async def unresolved_holes(self, info: Info[RequestContext, None]) -> list[str]:
        record = await load(info.context.loaders.current_draft, self.key)
        return record.ambiguities if record is not None else []

    @strawberry.field(description="Oldest first.")
    async def revisions(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Revision]:
        page = await load(
            info.context.loaders.revisions,
            (self.key, child_page(first, after, CursorKind.REVISION)),
        )
        return _connection(page, CursorKind.REVISION, lambda r: r.number, Revision.from_record)

    @strawberry.field(description="Oldest first.")
    async def drafts(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Draft]:
        page = await load(
            info.context.loaders.drafts, (self.key, child_page(first, after, CursorKind.DRAFT))
        )
        return _connection(page, CursorKind.DRAFT, lambda d: d.version, Draft.from_record)

    @strawberry.field(description="Oldest first; `applied` filters when given.")
    async def resolutions(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        applied: bool | None = None,
    ) -> Connection[Resolution]:
        page = await load(
            info.context.loaders.resolutions,
            (self.key, child_page(first, after, CursorKind.RESOLUTION, applied)),
        )
        return _connection(page, CursorKind.RESOLUTION, lambda r: r.number, Resolution.from_record)


RecordT = TypeVar("RecordT")


def _connection(
    page: Page[RecordT],
    kind: CursorKind,
    position: Callable[[RecordT], int],
    to_node: Callable[[RecordT], NodeT],
) -> Connection[NodeT]:
    edges = [
        Edge(cursor=position_cursor(kind, position(record)), node=to_node(record))
        for record in page.items
    ]
    return connection(edges, page)  # type: ignore[arg-type]
