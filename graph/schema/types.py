"""The graph's object types, each field described once (graph/schema/model.py): where its
value is stored, which the compiled reads and the stores read too. An object is built
from a store row (`from_row`); nested lists go through the request's DataLoaders, so a
list of sessions costs one store call per nested field, not one per session."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.backends.base import Page, Row
from graph.context import RequestContext, load
from graph.cursors import CursorKind, activity_cursor, position_cursor
from graph.errors import NotFound
from graph.schema.arguments import (
    ACTIVITY_PAGES,
    DEFAULT_ACTIVITY_PAGE,
    DRAFT_PAGES,
    DRAFT_VERSION,
    RESOLUTION_PAGES,
    REVISION_PAGES,
)
from graph.schema.comparison_types import (
    COMPARED,
    CategoryComparison,
    DraftComparison,
    IRChange,
)
from graph.schema.model import (
    Children,
    Current,
    DraftByVersion,
    Holes,
    Linked,
    SpecOf,
    Stats,
    Structure,
    Summary,
    Timeline,
    column,
    described,
    reads,
    stored_fields,
)
from graph.schema.spec_types import Hole, HoleStatus, Spec, hole_objects, spec_of
from graph.spec.compare import compare as compare_irs
from graph.spec.holes import holes as holes_of

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
    """An object type's value from a store row, through its fields' column descriptions
    (and its `ROW_KEYS`: private fields the type keeps from the row)."""
    values = dict(extra)
    for name, column_name in getattr(cls, "ROW_KEYS", {}).items():
        values[name] = row[column_name]
    for name, stored in stored_fields(cls).items():
        value = row[stored.column]
        values[name] = strawberry.ID(str(value)) if stored.is_id and value is not None else value
    return cls(**values)


@strawberry.enum
class ActivityKind(Enum):
    SESSION_CREATED = "session_created"
    REVISION_ADDED = "revision_added"
    DRAFT_ADDED = "draft_added"
    HOLE_RESOLVED = "hole_resolved"
    SESSION_FINALIZED = "session_finalized"
    SESSION_ABANDONED = "session_abandoned"


@strawberry.type(description="The caller's sessions, counted.")
class SessionStats:
    total: int = column("total")
    active: int = column("active")
    finalized: int = column("finalized")
    abandoned: int = column("abandoned")
    average_seconds_to_finalize: float | None = column(
        "average_seconds_to_finalize", description="Null until a session is finalized."
    )
    open_holes: int = column("open_holes", description="Over the active sessions.")


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
    ROW_KEYS: ClassVar[dict[str, str]] = {"session_key": "session_id"}
    session_key: strawberry.Private[Any]
    id: strawberry.ID = column("id")
    version: int = column("version")
    ir: JSON = column("ir")
    validation_status: ValidationStatus = column("validation_status")
    smt_results: JSON = column("smt_results")
    ambiguities: list[str] = column("ambiguities")
    metadata: JSON = column("metadata")
    created_at: datetime = column("created_at")

    @property
    def ir_object(self) -> Mapping[str, Any]:
        """`ir` as the object the database holds it to be (an IR, checked on every write)."""
        return cast("Mapping[str, Any]", self.ir)

    @strawberry.field(description="Every hole in the IR, in IR order.", metadata=reads(Holes()))
    async def holes(self, info: Info[RequestContext, None]) -> list[Hole]:
        answers = await load(info.context.loaders.session_resolutions, self.session_key)
        return hole_objects(holes_of(self.ir_object), self.ir_object, answers)

    @strawberry.field(
        description="The IR, typed; `ir` stays as raw JSON.", metadata=reads(SpecOf())
    )
    async def spec(self, info: Info[RequestContext, None]) -> Spec:
        answers = await load(info.context.loaders.session_resolutions, self.session_key)
        return spec_of(self.ir_object, answers)

    @strawberry.field(
        description="This draft (from) against version `to` of the same session.",
        metadata=reads(COMPARED),
    )
    async def compare(self, info: Info[RequestContext, None], to: int) -> DraftComparison:
        other = await load(info.context.loaders.draft_by_version, (self.session_key, to))
        if other is None:
            raise NotFound(f"the session has no draft version {to}")
        result = compare_irs(self.ir_object, other["ir"])
        return DraftComparison(
            from_=self,
            to=from_row(Draft, other),
            similarity=result.similarity,
            categories=[
                CategoryComparison(
                    category=c.category,  # type: ignore[arg-type]
                    similarity=c.similarity,
                    changes=c.changes,
                )
                for c in result.categories
            ],
            changes=[
                IRChange(
                    category=c.category,  # type: ignore[arg-type]
                    kind=c.kind,  # type: ignore[arg-type]
                    path=c.path,
                    before=c.before,
                    after=c.after,
                    severity=c.severity,  # type: ignore[arg-type]
                    message=c.message,
                )
                for c in result.changes
            ],
        )


@strawberry.type
class Resolution:
    id: strawberry.ID = column("id")
    hole_id: str = column("hole_id")
    text: str = column("resolution_text")
    type: ResolutionType = column("resolution_type")
    applied: bool = column("applied")
    metadata: JSON = column("metadata")
    created_at: datetime = column("created_at")


@strawberry.type(description="Something that happened in one of the caller's sessions.")
class Activity:
    ROW_KEYS: ClassVar[dict[str, str]] = {
        "session_key": "session_id",
        "revision_key": "revision_id",
        "draft_key": "draft_id",
        "resolution_key": "resolution_id",
    }
    session_key: strawberry.Private[Any]
    revision_key: strawberry.Private[Any]
    draft_key: strawberry.Private[Any]
    resolution_key: strawberry.Private[Any]
    kind: ActivityKind = column("kind")
    at: datetime = column("at")
    session_id: strawberry.ID = column("session_id")

    @strawberry.field(metadata=reads(Linked("sessions", "session_id")))
    async def session(self, info: Info[RequestContext, None]) -> Session | None:
        row = await load(info.context.loaders.rows["sessions"], self.session_key)
        return Session.of(row) if row is not None else None

    @strawberry.field(
        description="The revision added, or the HOLE_FILL revision of a resolution.",
        metadata=reads(Linked("revisions", "revision_id")),
    )
    async def revision(self, info: Info[RequestContext, None]) -> Revision | None:
        return await _linked(info, "revisions", self.revision_key, Revision)

    @strawberry.field(metadata=reads(Linked("drafts", "draft_id")))
    async def draft(self, info: Info[RequestContext, None]) -> Draft | None:
        return await _linked(info, "drafts", self.draft_key, Draft)

    @strawberry.field(metadata=reads(Linked("resolutions", "resolution_id")))
    async def resolution(self, info: Info[RequestContext, None]) -> Resolution | None:
        return await _linked(info, "resolutions", self.resolution_key, Resolution)


async def _linked(
    info: Info[RequestContext, None], table: str, key: Any, cls: type[ObjectT]
) -> ObjectT | None:
    if key is None:
        return None
    row = await load(info.context.loaders.rows[table], key)
    return from_row(cls, row) if row is not None else None


def activity_connection(page: Page[Row]) -> Connection[Activity]:
    edges = [
        Edge(
            cursor=activity_cursor(row["at"], row["row_id"]),
            node=from_row(Activity, row),
        )
        for row in page.items
    ]
    return connection(edges, page)


VIEWER_ACTIVITY = Timeline(ACTIVITY_PAGES, per_session=False)
SESSION_ACTIVITY = Timeline(ACTIVITY_PAGES, per_session=True)
CURRENT_DRAFT = Current("drafts", "version")
REVISIONS = Children("revisions", "number", CursorKind.REVISION, REVISION_PAGES)
DRAFTS = Children("drafts", "version", CursorKind.DRAFT, DRAFT_PAGES)
RESOLUTIONS = Children(
    "resolutions", "number", CursorKind.RESOLUTION, RESOLUTION_PAGES, filters=("applied",)
)


@strawberry.type
class Session:
    ROW_KEYS: ClassVar[dict[str, str]] = {"key": "id"}
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
    open_hole_count: int = column(
        "open_hole_count",
        description="How many of openHoles there are (kept on the session's row).",
    )

    @classmethod
    def of(cls, row: Row) -> Session:
        return from_row(cls, row)

    @strawberry.field(
        description="The draft with the highest version.", metadata=reads(CURRENT_DRAFT)
    )
    async def current_draft(self, info: Info[RequestContext, None]) -> Draft | None:
        row = await load(info.context.loaders.current_draft, self.key)
        return from_row(Draft, row) if row is not None else None

    @strawberry.field(
        description="The current draft's holes whose status is OPEN.",
        metadata=reads(Holes(current=CURRENT_DRAFT, open_only=True)),
    )
    async def open_holes(self, info: Info[RequestContext, None]) -> list[Hole]:
        row = await load(info.context.loaders.current_draft, self.key)
        if row is None:
            return []
        answers = await load(info.context.loaders.session_resolutions, self.key)
        found = hole_objects(holes_of(row["ir"]), row["ir"], answers)
        return [hole for hole in found if hole.status is HoleStatus.OPEN]

    @strawberry.field(
        description="The draft with that version; null when the session has none.",
        metadata=reads(DraftByVersion("drafts", DRAFT_VERSION)),
    )
    async def draft(self, info: Info[RequestContext, None], version: int) -> Draft | None:
        key = (self.key, DRAFT_VERSION.read({"version": version}))
        row = await load(info.context.loaders.draft_by_version, key)
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

    @strawberry.field(description="Newest first.", metadata=reads(SESSION_ACTIVITY))
    async def activity(
        self,
        info: Info[RequestContext, None],
        first: int | None = DEFAULT_ACTIVITY_PAGE,
        after: str | None = None,
    ) -> Connection[Activity]:
        request = ACTIVITY_PAGES.read({"first": first, "after": after})
        page = await load(info.context.loaders.activity, (self.key, request))
        return activity_connection(page)

    @strawberry.field(metadata=reads(Summary("revision_count")))
    async def revision_count(self, info: Info[RequestContext, None]) -> int:
        return await self._summary(info, "revision_count")

    @strawberry.field(metadata=reads(Summary("draft_count")))
    async def draft_count(self, info: Info[RequestContext, None]) -> int:
        return await self._summary(info, "draft_count")

    async def _summary(self, info: Info[RequestContext, None], name: str) -> int:
        row = await load(info.context.loaders.session_summary, self.key)
        return int(row[name]) if row is not None else 0


def _connection(page: Page[Row], children: Children, node: type[NodeT]) -> Connection[NodeT]:
    edges = [
        Edge(cursor=position_cursor(children.cursor, row[children.order]), node=from_row(node, row))
        for row in page.items
    ]
    return connection(edges, page)


@strawberry.type
class Viewer:
    id: strawberry.ID = column("id")

    @strawberry.field(metadata=reads(Stats()))
    async def stats(self, info: Info[RequestContext, None]) -> SessionStats:
        viewer = info.context.require_viewer()
        return from_row(SessionStats, await info.context.store().viewer_stats(viewer))

    @strawberry.field(description="Newest first.", metadata=reads(VIEWER_ACTIVITY))
    async def activity(
        self,
        info: Info[RequestContext, None],
        first: int | None = DEFAULT_ACTIVITY_PAGE,
        after: str | None = None,
    ) -> Connection[Activity]:
        viewer = info.context.require_viewer()
        request = ACTIVITY_PAGES.read({"first": first, "after": after})
        [page] = await info.context.store().activity(viewer, None, request)
        return activity_connection(page)
