"""Query root: the caller, one session, the caller's sessions."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph.context import RequestContext
from graph.cursors import session_cursor
from graph.schema.arguments import DEFAULT_SESSIONS_PAGE, sessions_page
from graph.schema.ids import parse_id
from graph.schema.types import (
    Connection,
    Edge,
    Session,
    SessionStatus,
    Viewer,
    connection,
)


@strawberry.type
class Query:
    @strawberry.field(description="The caller.")
    def viewer(self, info: Info[RequestContext, None]) -> Viewer:
        return Viewer(id=strawberry.ID(str(info.context.require_viewer().user_id)))

    @strawberry.field(description="Null when absent or not the caller's.")
    async def session(self, info: Info[RequestContext, None], id: strawberry.ID) -> Session | None:
        viewer = info.context.require_viewer()
        session_id = parse_id(id)
        [record] = await info.context.backend.sessions_by_id(viewer, [session_id])
        return Session.from_record(record) if record is not None else None

    @strawberry.field(description="The caller's sessions, most recently updated first.")
    async def sessions(
        self,
        info: Info[RequestContext, None],
        first: int | None = DEFAULT_SESSIONS_PAGE,
        after: str | None = None,
        status: SessionStatus | None = None,
    ) -> Connection[Session]:
        viewer = info.context.require_viewer()
        request = sessions_page(first, after, status)
        page = await info.context.backend.list_sessions(
            viewer, request.first, request.after, request.status
        )
        edges = [
            Edge(cursor=session_cursor(s.updated_at, s.id), node=Session.from_record(s))
            for s in page.items
        ]
        return connection(edges, page)  # type: ignore[arg-type]
