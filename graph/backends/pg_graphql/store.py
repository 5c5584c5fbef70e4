"""Adapter: Supabase's pg_graphql endpoint, called with the caller's own JWT (client.py).

The gateway holds no key that bypasses RLS and opens no database connection. The
documents sent are operations/*.graphql (documents.py); each store call is one request
(one transaction upstream), and nested fields of many sessions are fetched in one request
per field through the DataLoaders, never one per row. Writes are the migrations' SQL
functions, which pg_graphql exposes as Mutation fields; the one single-row write
(delete) is deleteFromSessionCollection with an explicit atMost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import orjson
from gql import GraphQLRequest

from graph.auth import Claims
from graph.backends.base import (
    MAX_PAGE_SIZE,
    ActivityPageRequest,
    ChildPageRequest,
    HoleAnswer,
    NewDraft,
    NewRevision,
    NewSession,
    Page,
    Row,
    SessionPageRequest,
)
from graph.backends.pg_graphql.client import Upstream
from graph.backends.pg_graphql.compiled import UpstreamRead, compile_read
from graph.backends.pg_graphql.documents import load_documents
from graph.backends.pg_graphql.realtime import RealtimeJoins
from graph.backends.pg_graphql.rows import Rows
from graph.backends.pg_graphql.values import activity_filter, pg_graphql_cursor
from graph.errors import NotFound
from graph.live.changes import LiveSource
from graph.reads.plan import Bound, ReadPlan
from graph.reads.planner import CompiledReader
from graph.schema.model import graph_schema


class PgGraphqlBackend:
    def __init__(self, upstream: Upstream, joins: RealtimeJoins | None = None) -> None:
        schema = graph_schema()
        self._upstream = upstream
        self._joins = joins
        self._documents = load_documents(schema)
        self._rows = Rows(schema)

    @classmethod
    async def connect(
        cls,
        supabase_url: str,
        anon_key: str,
        *,
        timeout_s: float = 10.0,
        max_connections: int = 50,
        realtime_url: str | None = None,
    ) -> PgGraphqlBackend:
        """`realtime_url`: Realtime's base (default: the project's `/realtime/v1`)."""
        upstream = Upstream(
            supabase_url, anon_key, timeout_s=timeout_s, max_connections=max_connections
        )
        await upstream.open()
        joins = RealtimeJoins(realtime_url or supabase_url.rstrip("/") + "/realtime/v1", anon_key)
        return cls(upstream, joins)

    @property
    def endpoint(self) -> str:
        return self._upstream.endpoint

    async def close(self) -> None:
        if self._joins is not None:
            await self._joins.close()
        await self._upstream.close()

    @asynccontextmanager
    async def read_scope(self, viewer: Claims) -> AsyncIterator[None]:
        """Each upstream request is already one transaction; nothing to share."""
        yield

    def connections_in_use(self) -> int:
        return 0  # no database connection: HTTP to pg_graphql

    def connection_limit(self) -> int:
        return 0

    async def ping(self) -> None:
        await self._execute(None, "Ping", {})

    async def _execute(
        self, viewer: Claims | None, operation: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        request = GraphQLRequest(self._documents[operation], variable_values=variables)
        return await self._upstream.execute(viewer, operation, request)

    # Reads, compiled: one upstream request per query

    def change_source(self) -> LiveSource | None:
        """Realtime Broadcast, each subscription joining its topic as the caller (realtime.py)."""
        return LiveSource(follow=self._joins.follow) if self._joins is not None else None

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        read = compile_read(plan)
        if read is None:
            return None

        async def run(viewer: Claims, bound: Bound) -> bytes:
            return await self._run_compiled(viewer, read, bound)

        return run

    async def _run_compiled(self, viewer: Claims, read: UpstreamRead, bound: Bound) -> bytes:
        upstream: dict[str, Any] = {}
        if read.document is not None:
            request = GraphQLRequest(read.document, variable_values=read.variables(bound))
            upstream = await self._upstream.execute(viewer, "CompiledRead", request)
        return orjson.dumps(read.data(upstream, viewer))

    # Reads, field by field

    async def sessions_by_id(self, viewer: Claims, ids: Sequence[UUID]) -> list[Row | None]:
        found: dict[UUID, Row] = {}
        for chunk in _chunks(list(ids)):
            data = await self._execute(
                viewer, "SessionsById", {"ids": [str(i) for i in chunk], "first": len(chunk)}
            )
            for edge in data["sessionCollection"]["edges"]:
                row = self._rows.row("Session", edge["node"])
                found[row["id"]] = row
        return [found.get(i) for i in ids]

    async def list_sessions(self, viewer: Claims, page: SessionPageRequest) -> Page[Row]:
        after = page.after
        data = await self._execute(
            viewer,
            "ListSessions",
            {
                "filter": {"status": {"eq": page.status}} if page.status else {},
                "first": page.first,
                "after": pg_graphql_cursor(after.updated_at.isoformat(), str(after.id))
                if after is not None
                else None,
            },
        )
        found = data["page"]
        return Page(
            items=[self._rows.row("Session", edge["node"]) for edge in found["edges"]],
            has_next_page=bool(found["pageInfo"]["hasNextPage"]),
            total_count=int(data["total"]["totalCount"]),
        )

    async def current_drafts(self, viewer: Claims, session_ids: Sequence[UUID]) -> list[Row | None]:
        found: dict[UUID, Row] = {}
        for chunk in _chunks(list(session_ids)):
            data = await self._execute(
                viewer, "CurrentDrafts", {"ids": [str(i) for i in chunk], "sessions": len(chunk)}
            )
            for edge in data["sessionCollection"]["edges"]:
                drafts = edge["node"]["drafts"]["edges"]
                if drafts:
                    found[UUID(edge["node"]["id"])] = self._rows.row("Draft", drafts[0]["node"])
        return [found.get(i) for i in session_ids]

    async def session_resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[list[Row]]:
        """Pages of max_rows, again for the sessions that have more (a rare session with
        more than a hundred answers costs one more request per hundred)."""
        found: dict[UUID, list[Row]] = {i: [] for i in session_ids}
        pending = dict.fromkeys(session_ids, 0)  # session -> the number after which to go on
        while pending:
            after = min(pending.values())
            batch = [i for i, n in pending.items() if n == after][:MAX_PAGE_SIZE]
            data = await self._execute(
                viewer,
                "SessionResolutions",
                {"ids": [str(i) for i in batch], "sessions": len(batch), "after": after},
            )
            for session_id in batch:
                del pending[session_id]
            for edge in data["sessionCollection"]["edges"]:
                page = edge["node"]["page"]
                rows = [self._rows.row("Resolution", e["node"]) for e in page["edges"]]
                session_id = UUID(edge["node"]["id"])
                found[session_id].extend(rows)
                if page["pageInfo"]["hasNextPage"] and rows:
                    pending[session_id] = rows[-1]["number"]
        return [found[i] for i in session_ids]

    async def drafts_by_version(
        self, viewer: Claims, keys: Sequence[tuple[UUID, int]]
    ) -> list[Row | None]:
        found: dict[tuple[UUID, int], Row] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), MAX_PAGE_SIZE):
            chunk = unique[start : start + MAX_PAGE_SIZE]
            either = [{"sessionId": {"eq": str(s)}, "version": {"eq": v}} for s, v in chunk]
            data = await self._execute(
                viewer, "DraftsByVersion", {"filter": {"or": either}, "first": len(chunk)}
            )
            for edge in data["draftCollection"]["edges"]:
                row = self._rows.row("Draft", edge["node"])
                found[(row["session_id"], row["version"])] = row
        return [found.get(key) for key in keys]

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._child_pages(viewer, "RevisionPages", "Revision", session_ids, page)

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._child_pages(viewer, "DraftPages", "Draft", session_ids, page)

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._child_pages(viewer, "ResolutionPages", "Resolution", session_ids, page)

    async def _child_pages(
        self,
        viewer: Claims,
        operation: str,
        node_type: str,
        session_ids: Sequence[UUID],
        page: ChildPageRequest,
    ) -> list[Page[Row]]:
        found: dict[UUID, Page[Row]] = {}
        for chunk in _chunks(list(session_ids)):
            variables: dict[str, Any] = {
                "ids": [str(i) for i in chunk],
                "sessions": len(chunk),
                "first": page.first,
                "after": page.after or 0,
            }
            if page.applied is not None:
                variables["applied"] = page.applied
            data = await self._execute(viewer, operation, variables)
            for edge in data["sessionCollection"]["edges"]:
                node = edge["node"]
                found[UUID(node["id"])] = Page(
                    items=[self._rows.row(node_type, e["node"]) for e in node["page"]["edges"]],
                    has_next_page=bool(node["page"]["pageInfo"]["hasNextPage"]),
                    total_count=int(node["all"]["totalCount"]),
                )
        empty: Page[Row] = Page(items=[], has_next_page=False, total_count=0)
        return [found.get(i, empty) for i in session_ids]

    # Dashboards (migrations/0013's views)

    async def session_summaries(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[Row | None]:
        found: dict[UUID, Row] = {}
        for chunk in _chunks(list(session_ids)):
            data = await self._execute(
                viewer, "SessionSummaries", {"ids": [str(i) for i in chunk], "first": len(chunk)}
            )
            for edge in data["sessionSummaryCollection"]["edges"]:
                node = edge["node"]
                found[UUID(node["id"])] = {
                    "id": UUID(node["id"]),
                    "status": node["status"],
                    "revision_count": node["revisionCount"],
                    "draft_count": node["draftCount"],
                    "resolution_count": node["resolutionCount"],
                }
        return [found.get(i) for i in session_ids]

    async def viewer_stats(self, viewer: Claims) -> Row:
        data = await self._execute(viewer, "ViewerStats", {})
        edges = data["sessionStatsCollection"]["edges"]
        node = edges[0]["node"] if edges else {}
        return {
            "total": node.get("total", 0),
            "active": node.get("active", 0),
            "finalized": node.get("finalized", 0),
            "abandoned": node.get("abandoned", 0),
            "average_seconds_to_finalize": node.get("averageSecondsToFinalize"),
            "open_holes": node.get("openHoles", 0),
        }

    async def activity(
        self, viewer: Claims, session_ids: Sequence[UUID] | None, page: ActivityPageRequest
    ) -> list[Page[Row]]:
        after = activity_filter(page)
        if session_ids is None:
            data = await self._execute(
                viewer, "ViewerActivity", {"first": page.first, "after": after}
            )
            return [self._activity_page(data["page"], data["all"])]
        found: dict[UUID, Page[Row]] = {}
        for chunk in _chunks(list(session_ids)):
            variables = {
                "ids": [str(i) for i in chunk],
                "sessions": len(chunk),
                "first": page.first,
                "after": after,
            }
            data = await self._execute(viewer, "ActivityPages", variables)
            for edge in data["sessionCollection"]["edges"]:
                node = edge["node"]
                found[UUID(node["id"])] = self._activity_page(node["page"], node["all"])
        empty: Page[Row] = Page(items=[], has_next_page=False, total_count=0)
        return [found.get(i, empty) for i in session_ids]

    def _activity_page(self, page: dict[str, Any], total: dict[str, Any]) -> Page[Row]:
        return Page(
            items=[self._rows.row("Activity", e["node"]) for e in page["edges"]],
            has_next_page=bool(page["pageInfo"]["hasNextPage"]),
            total_count=int(total["totalCount"]),
        )

    async def rows_by_id(self, viewer: Claims, table: str, ids: Sequence[UUID]) -> list[Row | None]:
        if table == "sessions":
            return await self.sessions_by_id(viewer, ids)
        operation, node_type, collection = _BY_ID[table]
        found: dict[UUID, Row] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            data = await self._execute(
                viewer, operation, {"ids": [str(i) for i in chunk], "first": len(chunk)}
            )
            for edge in data[collection]["edges"]:
                row = self._rows.row(node_type, edge["node"])
                found[row["id"]] = row
        return [found.get(i) for i in ids]

    # Writes

    async def create_session(self, viewer: Claims, new: NewSession) -> Row:
        draft = None
        if new.initial_draft is not None:
            d = new.initial_draft
            draft = _json(
                {
                    "ir": d.ir,
                    "validation_status": d.validation_status,
                    "smt_results": d.smt_results,
                    "ambiguities": d.ambiguities,
                    "metadata": d.metadata,
                }
            )
        data = await self._execute(
            viewer,
            "CreateSession",
            {
                "prompt": new.prompt,
                "source": new.source,
                "title": new.title,
                "metadata": _json(new.metadata),
                "initialDraft": draft,
                "idempotencyKey": new.idempotency_key,
            },
        )
        return self._rows.row("Session", _present(data["createSession"]))

    async def add_revision(self, viewer: Claims, new: NewRevision) -> tuple[Row, Row]:
        data = await self._execute(
            viewer,
            "AddRevision",
            {
                "sessionId": str(new.session_id),
                "content": new.content,
                "revisionType": new.revision_type,
                "targetHole": new.target_hole,
                "metadata": _json(new.metadata),
            },
        )
        node = _present(data["addRevision"])
        return self._rows.row("Revision", node), self._rows.row(
            "Session", _present(node["session"])
        )

    async def add_draft(self, viewer: Claims, new: NewDraft) -> tuple[Row, Row]:
        d = new.draft
        data = await self._execute(
            viewer,
            "AddDraft",
            {
                "sessionId": str(new.session_id),
                "ir": _json(d.ir),
                "validationStatus": d.validation_status,
                "smtResults": _json(d.smt_results),
                "ambiguities": d.ambiguities,
                "appliedHoleIds": new.applied_hole_ids,
                "metadata": _json(d.metadata),
                "expectedVersion": new.expected_version,
            },
        )
        node = _present(data["addDraft"])
        return self._rows.row("Draft", node), self._rows.row("Session", _present(node["session"]))

    async def resolve_hole(self, viewer: Claims, answer: HoleAnswer) -> tuple[Row, Row, Row]:
        data = await self._execute(
            viewer,
            "ResolveHole",
            {
                "sessionId": str(answer.session_id),
                "holeId": answer.hole_id,
                "resolutionText": answer.text,
                "resolutionType": answer.resolution_type,
                "metadata": _json(answer.metadata),
                "expectedVersion": answer.expected_version,
            },
        )
        node = _present(data["resolveHole"])
        return (
            self._rows.row("Resolution", node),
            self._rows.row("Revision", _present(node["revision"])),
            self._rows.row("Session", _present(node["session"])),
        )

    async def revert_to_draft(
        self, viewer: Claims, session_id: UUID, version: int, expected_version: int | None
    ) -> tuple[Row, Row, Row]:
        variables = {
            "sessionId": str(session_id),
            "version": version,
            "expectedVersion": expected_version,
        }
        data = await self._execute(viewer, "RevertToDraft", variables)
        node = _present(data["revertToDraft"])
        session = _present(node["session"])
        [revision] = session["revisions"]["edges"]
        return (
            self._rows.row("Draft", node),
            self._rows.row("Revision", revision["node"]),
            self._rows.row("Session", session),
        )

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row:
        variables = {"sessionId": str(session_id), "expectedVersion": expected_version}
        data = await self._execute(viewer, "FinalizeSession", variables)
        return self._rows.row("Session", _present(data["finalizeSession"]))

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row:
        variables = {"sessionId": str(session_id), "expectedVersion": expected_version}
        data = await self._execute(viewer, "AbandonSession", variables)
        return self._rows.row("Session", _present(data["abandonSession"]))

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID:
        data = await self._execute(viewer, "DeleteSession", {"sessionId": str(session_id)})
        records = data["deleteFromSessionCollection"]["records"]
        if not records:
            raise NotFound("session not found")
        return UUID(records[0]["id"])


_BY_ID = {
    "revisions": ("RevisionsById", "Revision", "revisionCollection"),
    "drafts": ("DraftsById", "Draft", "draftCollection"),
    "resolutions": ("ResolutionsById", "Resolution", "resolutionCollection"),
}


def _chunks(ids: list[UUID]) -> list[list[UUID]]:
    return [ids[i : i + MAX_PAGE_SIZE] for i in range(0, len(ids), MAX_PAGE_SIZE)] or [[]]


def _present(node: Any) -> Any:
    if node is None:  # a function's row that RLS or a rule made disappear
        raise NotFound("session not found")
    return node


def _json(value: Any) -> str | None:
    """pg_graphql takes JSON values as strings; None stays null (the SQL default)."""
    return None if value is None else json.dumps(value, separators=(",", ":"))
