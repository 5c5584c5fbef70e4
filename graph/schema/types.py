"""The graph's object types, each field described once (graph/schema/model.py): where its
value is stored, which the compiled reads and the stores read too. An object is built
from a store row (`from_row`); nested lists go through the request's DataLoaders, so a
list of sessions costs one store call per nested field, not one per session."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.backends.base import Page, Row
from graph.context import RequestContext, load
from graph.cursors import CursorKind, position_cursor
from graph.schema.arguments import DRAFT_PAGES, RESOLUTION_PAGES, REVISION_PAGES
from graph.schema.model import (
    Children,
    Current,
    Structure,
    column,
    described,
    reads,
    stored_fields,
)

NodeT = TypeVar("NodeT")
ObjectT = TypeVar("ObjectT")


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
    has_next_page: bool = described(Structure("hasNextPage"))
    end_cursor: str | None = described(Structure("endCursor"))


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str = described(Structure("cursor"))
    node: NodeT = described(Structure("node"))


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = described(Structure("edges"))
    page_info: PageInfo = described(Structure("pageInfo"))
    total_count: int = described(Structure("totalCount"))


def connection(edges: list[Edge[NodeT]], page: Page[Any]) -> Connection[NodeT]:
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total_count,
    )


def from_row(cls: type[ObjectT], row: Mapping[str, Any], **extra: Any) -> ObjectT:
    """An object type's value from a store row, through its fields' column descriptions."""
    values = dict(extra)
    for name, stored in stored_fields(cls).items():
        value = row[stored.column]
        values[name] = strawberry.ID(str(value)) if stored.is_id and value is not None else value
    return cls(**values)


@strawberry.type
class Viewer:
    id: strawberry.ID = column("id")


@strawberry.type
class Revision:
    id: strawberry.ID = column("id")
    number: int = column("number")
    content: str = column("content")
    type: RevisionType = column("revision_type")
    target_hole: str | None = column("target_hole")
    metadata: JSON = column("metadata")
    created_at: datetime = column("created_at")


@strawberry.type
class Draft:
    id: strawberry.ID = column("id")
    version: int = column("version")
    ir: JSON = column("ir")
    validation_status: ValidationStatus = column("validation_status")
    smt_results: JSON = column("smt_results")
    ambiguities: list[str] = column("ambiguities")
    metadata: JSON = column("metadata")
    created_at: datetime = column("created_at")


@strawberry.type
class Resolution:
    id: strawberry.ID = column("id")
    hole_id: str = column("hole_id")
    text: str = column("resolution_text")
    type: ResolutionType = column("resolution_type")
    applied: bool = column("applied")
    metadata: JSON = column("metadata")
    created_at: datetime = column("created_at")


CURRENT_DRAFT = Current("drafts", "version")
REVISIONS = Children("revisions", "number", CursorKind.REVISION, REVISION_PAGES)
DRAFTS = Children("drafts", "version", CursorKind.DRAFT, DRAFT_PAGES)
RESOLUTIONS = Children(
    "resolutions", "number", CursorKind.RESOLUTION, RESOLUTION_PAGES, filters=("applied",)
)


@strawberry.type
class Session:
    key: strawberry.Private[Any]  # the row's id, as the store keys it
    id: strawberry.ID = column("id")
    status: SessionStatus = column("status")
    source: SessionSource = column("source")
    title: str | None = column("title")
    metadata: JSON = column("metadata")
    version: int = column("version")
    created_at: datetime = column("created_at")
    updated_at: datetime = column("updated_at")
    finalized_at: datetime | None = column("finalized_at")

    @classmethod
    def of(cls, row: Row) -> Session:
        return from_row(cls, row, key=row["id"])

    @strawberry.field(
        description="The draft with the highest version.", metadata=reads(CURRENT_DRAFT)
    )
    async def current_draft(self, info: Info[RequestContext, None]) -> Draft | None:
        row = await load(info.context.loaders.current_draft, self.key)
        return from_row(Draft, row) if row is not None else None

    @strawberry.field(
        description="The current draft's unresolved holes.",
        metadata=reads(Current("drafts", "version", column="ambiguities", empty=())),
    )
    async def unresolved_holes(self, info: Info[RequestContext, None]) -> list[str]:
        row = await load(info.context.loaders.current_draft, self.key)
        return list(row["ambiguities"]) if row is not None else []

    @strawberry.field(
        description="Oldest first.",
        metadata=reads(REVISIONS),
    )
    async def revisions(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Revision]:
        request = REVISION_PAGES.read({"first": first, "after": after})
        page = await load(info.context.loaders.revisions, (self.key, request))
        return _connection(page, REVISIONS, Revision)

    @strawberry.field(
        description="Oldest first.",
        metadata=reads(DRAFTS),
    )
    async def drafts(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Draft]:
        request = DRAFT_PAGES.read({"first": first, "after": after})
        page = await load(info.context.loaders.drafts, (self.key, request))
        return _connection(page, DRAFTS, Draft)

    @strawberry.field(
        description="Oldest first; `applied` filters when given.",
        metadata=reads(RESOLUTIONS),
    )
    async def resolutions(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        applied: bool | None = None,
    ) -> Connection[Resolution]:
        arguments = {"first": first, "after": after, "applied": applied}
        page = await load(
            info.context.loaders.resolutions, (self.key, RESOLUTION_PAGES.read(arguments))
        )
        return _connection(page, RESOLUTIONS, Resolution)


def _connection(page: Page[Row], children: Children, node: type[NodeT]) -> Connection[NodeT]:
    edges = [
        Edge(cursor=position_cursor(children.cursor, row[children.order]), node=from_row(node, row))
        for row in page.items
    ]
    return connection(edges, page)
