"""Query root: the caller, one session, the caller's sessions."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph.context import RequestContext
from graph.cursors import session_cursor
from graph.schema.arguments import DEFAULT_SESSIONS_PAGE, SESSION_ID, SESSIONS_PAGE
from graph.schema.model import Caller, SessionById, SessionList, reads
from graph.schema.types import Connection, Edge, Session, SessionStatus, Viewer, connection


@strawberry.type
class Query:
    @strawberry.field(description="The caller.", metadata=reads(Caller()))
    def viewer(self, info: Info[RequestContext, None]) -> Viewer:
        return Viewer(id=strawberry.ID(str(info.context.require_viewer().user_id)))

    @strawberry.field(
        description="Null when absent or not the caller's.",
        metadata=reads(SessionById("sessions", SESSION_ID)),
    )
    async def session(self, info: Info[RequestContext, None], id: strawberry.ID) -> Session | None:
        viewer = info.context.require_viewer()
        session_id = SESSION_ID.read({"id": id})
        [row] = await info.context.store().sessions_by_id(viewer, [session_id])
        return Session.of(row) if row is not None else None

    @strawberry.field(
        description="The caller's sessions, most recently updated first.",
        metadata=reads(SessionList("sessions", SESSIONS_PAGE)),
    )
    async def sessions(
        self,
        info: Info[RequestContext, None],
        first: int | None = DEFAULT_SESSIONS_PAGE,
        after: str | None = None,
        status: SessionStatus | None = None,
    ) -> Connection[Session]:
        viewer = info.context.require_viewer()
        request = SESSIONS_PAGE.read({"first": first, "after": after, "status": status})
        page = await info.context.store().list_sessions(viewer, request)
        edges = [
            Edge(cursor=session_cursor(row["updated_at"], row["id"]), node=Session.of(row))
            for row in page.items
        ]
        return connection(edges, page)
