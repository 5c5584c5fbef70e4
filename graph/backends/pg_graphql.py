"""Adapter: Supabase's pg_graphql endpoint, called with the caller's own JWT.

Every request is `POST {SUPABASE_URL}/graphql/v1` with the project's anon key as
`apikey` and the caller's `Authorization: Bearer <JWT>` unchanged, so PostgREST runs it
as the caller and row-level security decides what it sees. The gateway holds no key
that bypasses RLS and opens no database connection.

The documents sent are the .graphql files in operations/, one per operation. Each store
call is one request (one transaction upstream); nested fields of many sessions are
fetched in one request per field through the DataLoaders, never one per row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import aiohttp
import httpx
import orjson
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport

from graph.auth import Claims
from graph.backends.base import (
    MAX_PAGE_SIZE,
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
from graph.backends.pg_graphql_reads import UpstreamRead, compile_read, pg_graphql_cursor
from graph.errors import (
    BadUserInput,
    Conflict,
    NotFound,
    Unauthenticated,
    UpstreamUnavailable,
    from_rule_message,
)
from graph.reads.plan import ReadPlan
from graph.reads.planner import CompiledReader

logger = logging.getLogger(__name__)

R = TypeVar("R")

OPERATIONS_DIR = Path(__file__).parent / "operations"

_NOT_FOUND = ("violates row-level security policy", "violates foreign key constraint")
_BAD_INPUT = (
    "violates check constraint",
    "violates not-null constraint",
    "invalid input syntax",
    "value too long",
    "out of range",
    "invalid input value",
    "unsupported Unicode escape sequence",  # \u0000 in JSON: jsonb cannot hold it
    "invalid byte sequence",  # a NUL in text
)


class PreparedRequest(GraphQLRequest):
    """A document parsed and printed once. gql prints a request's AST again for every
    request it sends; these documents never change, so their text is kept."""

    text: str

    @classmethod
    def parse(cls, text: str) -> PreparedRequest:
        request = cls(text)
        request.text = text
        return request

    def with_variables(self, variables: dict[str, Any]) -> PreparedRequest:
        request = PreparedRequest(self.document, variable_values=variables)
        request.text = self.text
        return request

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": self.text}
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


class UpstreamProtocolError(Exception):
    """pg_graphql refused what the gateway sent: a bug here, never the caller's fault."""


def load_documents(directory: Path = OPERATIONS_DIR) -> dict[str, PreparedRequest]:
    """Each operation file, with the fragments it uses appended, parsed once."""
    fragments = (directory / "fragments.graphql").read_text()
    documents = {}
    for path in sorted(directory.glob("*.graphql")):
        if path.name == "fragments.graphql":
            continue
        text = path.read_text()
        if "..." in text:
            used = {
                name
                for name in ("SessionFields", "RevisionFields", "DraftFields", "ResolutionFields")
                if f"...{name}" in text
            }
            text += "\n" + _select_fragments(fragments, used)
        documents[path.stem] = PreparedRequest.parse(text)
    return documents


def _select_fragments(fragments: str, used: set[str]) -> str:
    blocks = fragments.split("fragment ")
    return "\n".join("fragment " + block for block in blocks[1:] if block.split(" ", 1)[0] in used)


class PgGraphqlBackend:
    def __init__(
        self,
        supabase_url: str,
        anon_key: str,
        *,
        timeout_s: float = 10.0,
        max_connections: int = 50,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        self.endpoint = f"{supabase_url.rstrip('/')}/graphql/v1"
        self._client = Client(
            transport=HTTPXAsyncTransport(
                url=self.endpoint,
                headers={"apikey": anon_key},
                timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                ),
                **extra,
            ),
            execute_timeout=timeout_s + 1,
        )
        self._documents = load_documents()
        self._session: AsyncClientSession | None = None
        self._http: aiohttp.ClientSession | None = None
        self._anon_key = anon_key
        self._timeout_s = timeout_s
        self._max_connections = max_connections

    @classmethod
    async def connect(cls, supabase_url: str, anon_key: str, **options: Any) -> PgGraphqlBackend:
        backend = cls(supabase_url, anon_key, **options)
        backend._session = await backend._client.connect_async()  # type: ignore[no-untyped-call]
        backend._http = aiohttp.ClientSession(
            headers={"apikey": backend._anon_key},
            timeout=aiohttp.ClientTimeout(
                total=backend._timeout_s, connect=min(backend._timeout_s, 3.0)
            ),
            connector=aiohttp.TCPConnector(limit=backend._max_connections),
        )
        return backend

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._session is not None:
            await self._client.close_async()  # type: ignore[no-untyped-call]
            self._session = None

    @asynccontextmanager
    async def read_scope(self, viewer: Claims) -> AsyncIterator[None]:
        """Each upstream request is already one transaction; nothing to share."""
        yield

    async def ping(self) -> None:
        await self._execute(None, "Ping", {})

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        read = compile_read(plan)
        if read is None:
            return None

        async def run(viewer: Claims, bound: Sequence[object]) -> bytes:
            upstream = await self._post(viewer, read, bound) if read.document else {}
            return orjson.dumps(read.data(upstream, viewer))

        return run

    async def _post(self, viewer: Claims, read: UpstreamRead, bound: Sequence[object]) -> Any:
        """A compiled read's one request, on an aiohttp session: gql's httpx transport
        costs about 1.2 ms of CPU per request more, on the path that matters most. Any
        failure raises: the gateway then executes the query field by field, which
        reports it in the usual shape."""
        if self._http is None:
            raise UpstreamUnavailable("the upstream connection is closed")
        body = orjson.dumps({"query": read.document, "variables": read.variables(bound)})
        try:
            async with self._http.post(
                self.endpoint,
                data=body,
                headers={
                    "Authorization": f"Bearer {viewer.token}",
                    "Content-Type": "application/json",
                },
            ) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamUnavailable("the database API is unavailable; retry") from exc
        if status == 401:
            raise Unauthenticated("the token was refused")
        if status != 200:
            raise UpstreamUnavailable("the database API is unavailable; retry")
        answer = orjson.loads(content)
        if answer.get("errors") or not isinstance(answer.get("data"), dict):
            raise _query_error("CompiledRead", answer.get("errors") or ["no data"])
        return answer["data"]

    # Reads

    async def sessions_by_id(
        self, viewer: Claims, ids: Sequence[UUID]
    ) -> list[SessionRecord | None]:
        found: dict[UUID, SessionRecord] = {}
        for chunk in _chunks(list(ids)):
            data = await self._execute(
                viewer, "SessionsById", {"ids": [str(i) for i in chunk], "first": len(chunk)}
            )
            for edge in data["sessionCollection"]["edges"]:
                record = _session(edge["node"])
                found[record.id] = record
        return [found.get(i) for i in ids]

    async def list_sessions(
        self, viewer: Claims, first: int, after: SessionCursor | None, status: str | None
    ) -> Page[SessionRecord]:
        data = await self._execute(
            viewer,
            "ListSessions",
            {
                "filter": {"status": {"eq": status}} if status else {},
                "first": first,
                "after": pg_graphql_cursor(after.updated_at.isoformat(), str(after.id))
                if after is not None
                else None,
            },
        )
        page = data["page"]
        items = [_session(edge["node"]) for edge in page["edges"]]
        return Page(
            items=items,
            has_next_page=bool(page["pageInfo"]["hasNextPage"]),
            total_count=int(data["total"]["totalCount"]),
        )

    async def current_drafts(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[DraftRecord | None]:
        found: dict[UUID, DraftRecord] = {}
        for chunk in _chunks(list(session_ids)):
            data = await self._execute(
                viewer,
                "CurrentDrafts",
                {"ids": [str(i) for i in chunk], "sessions": len(chunk)},
            )
            for edge in data["sessionCollection"]["edges"]:
                drafts = edge["node"]["drafts"]["edges"]
                if drafts:
                    found[UUID(edge["node"]["id"])] = _draft(drafts[0]["node"])
        return [found.get(i) for i in session_ids]

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[RevisionRecord]]:
        return await self._child_pages(viewer, "RevisionPages", session_ids, page, _revision)

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[DraftRecord]]:
        return await self._child_pages(viewer, "DraftPages", session_ids, page, _draft)

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[ResolutionRecord]]:
        return await self._child_pages(viewer, "ResolutionPages", session_ids, page, _resolution)

    async def _child_pages(
        self,
        viewer: Claims,
        operation: str,
        session_ids: Sequence[UUID],
        page: ChildPageRequest,
        to_record: Callable[[dict[str, Any]], R],
    ) -> list[Page[R]]:
        found: dict[UUID, Page[R]] = {}
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
                    items=[to_record(e["node"]) for e in node["page"]["edges"]],
                    has_next_page=bool(node["page"]["pageInfo"]["hasNextPage"]),
                    total_count=int(node["all"]["totalCount"]),
                )
        empty: Page[R] = Page(items=[], has_next_page=False, total_count=0)
        return [found.get(i, empty) for i in session_ids]

    # Writes: the migrations' SQL functions, exposed by pg_graphql as Mutation fields; the
    # one single-row write (delete) is deleteFromSessionCollection with an explicit atMost.

    async def create_session(self, viewer: Claims, new: NewSession) -> SessionRecord:
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
        return _session(_present(data["createSession"]))

    async def add_revision(
        self, viewer: Claims, new: NewRevision
    ) -> tuple[RevisionRecord, SessionRecord]:
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
        return _revision(node), _session(_present(node["session"]))

    async def add_draft(self, viewer: Claims, new: NewDraft) -> tuple[DraftRecord, SessionRecord]:
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
        return _draft(node), _session(_present(node["session"]))

    async def resolve_hole(
        self, viewer: Claims, answer: HoleAnswer
    ) -> tuple[ResolutionRecord, RevisionRecord, SessionRecord]:
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
            _resolution(node),
            _revision(_present(node["revision"])),
            _session(_present(node["session"])),
        )

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord:
        data = await self._execute(
            viewer,
            "FinalizeSession",
            {"sessionId": str(session_id), "expectedVersion": expected_version},
        )
        return _session(_present(data["finalizeSession"]))

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> SessionRecord:
        data = await self._execute(
            viewer,
            "AbandonSession",
            {"sessionId": str(session_id), "expectedVersion": expected_version},
        )
        return _session(_present(data["abandonSession"]))

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID:
        data = await self._execute(viewer, "DeleteSession", {"sessionId": str(session_id)})
        records = data["deleteFromSessionCollection"]["records"]
        if not records:
            raise NotFound("session not found")
        return UUID(records[0]["id"])

    # Plumbing

    async def _execute(
        self, viewer: Claims | None, operation: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        if self._session is None:
            raise UpstreamUnavailable("the upstream connection is closed")
        headers = {"Authorization": f"Bearer {viewer.token}"} if viewer is not None else {}
        request = self._documents[operation].with_variables(variables)
        try:
            data: dict[str, Any] = await self._session.execute(
                request, extra_args={"headers": headers}
            )
        except TransportQueryError as exc:
            raise _query_error(operation, exc.errors or []) from exc
        except TransportServerError as exc:
            if exc.code == 401:
                raise Unauthenticated("the token was refused") from exc
            logger.warning("pg_graphql answered HTTP %s to %s", exc.code, operation)
            raise UpstreamUnavailable("the database API is unavailable; retry") from exc
        except (TransportConnectionFailed, TimeoutError) as exc:
            logger.warning("pg_graphql unreachable for %s: %s", operation, exc)
            raise UpstreamUnavailable("the database API is unavailable; retry") from exc
        except TransportError as exc:
            logger.error("pg_graphql protocol failure on %s: %s", operation, exc)
            raise UpstreamProtocolError(str(exc)) from exc
        return data


def _query_error(operation: str, errors: list[Any]) -> Exception:
    messages = [str(e.get("message", "")) if isinstance(e, dict) else str(e) for e in errors]
    for message in messages:
        rule = from_rule_message(message)
        if rule is not None:
            return rule
    message = messages[0] if messages else ""
    if any(marker in message for marker in _NOT_FOUND):
        logger.info("pg_graphql refused as not found on %s: %s", operation, message)
        return NotFound("session not found")
    if "duplicate key value violates unique constraint" in message:
        return Conflict("a concurrent write got there first; read again and retry")
    if any(marker in message for marker in _BAD_INPUT):
        logger.info("pg_graphql refused input on %s: %s", operation, message)
        return BadUserInput("the input breaks a rule of the session record")
    if "statement timeout" in message:
        return UpstreamUnavailable("the database did not answer in time; retry")
    logger.error("pg_graphql rejected %s: %s", operation, json.dumps(messages))
    return UpstreamProtocolError(f"{operation}: {message}")


def _chunks(ids: list[UUID]) -> list[list[UUID]]:
    return [ids[i : i + MAX_PAGE_SIZE] for i in range(0, len(ids), MAX_PAGE_SIZE)] or [[]]


def _present(node: Any) -> Any:
    if node is None:  # a function's row that RLS or a rule made disappear
        raise NotFound("session not found")
    return node


def _json(value: Any) -> str | None:
    """pg_graphql takes JSON values as strings; None stays null (the SQL default)."""
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _optional_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _session(node: dict[str, Any]) -> SessionRecord:
    return SessionRecord(
        id=UUID(node["id"]),
        status=node["status"],
        source=node["source"],
        title=node["title"],
        metadata=json.loads(node["metadata"]),
        version=int(node["version"]),
        created_at=_time(node["createdAt"]),
        updated_at=_time(node["updatedAt"]),
        finalized_at=_optional_time(node["finalizedAt"]),
    )


def _revision(node: dict[str, Any]) -> RevisionRecord:
    return RevisionRecord(
        id=UUID(node["id"]),
        session_id=UUID(node["sessionId"]),
        number=int(node["number"]),
        content=node["content"],
        revision_type=node["revisionType"],
        target_hole=node["targetHole"],
        metadata=json.loads(node["metadata"]),
        created_at=_time(node["createdAt"]),
    )


def _draft(node: dict[str, Any]) -> DraftRecord:
    return DraftRecord(
        id=UUID(node["id"]),
        session_id=UUID(node["sessionId"]),
        version=int(node["version"]),
        ir=json.loads(node["ir"]),
        validation_status=node["validationStatus"],
        smt_results=json.loads(node["smtResults"]),
        ambiguities=list(node["ambiguities"]),
        metadata=json.loads(node["metadata"]),
        created_at=_time(node["createdAt"]),
    )


def _resolution(node: dict[str, Any]) -> ResolutionRecord:
    return ResolutionRecord(
        id=UUID(node["id"]),
        session_id=UUID(node["sessionId"]),
        number=int(node["number"]),
        revision_id=UUID(node["revisionId"]) if node["revisionId"] else None,
        hole_id=node["holeId"],
        resolution_text=node["resolutionText"],
        resolution_type=node["resolutionType"],
        applied=bool(node["applied"]),
        metadata=json.loads(node["metadata"]),
        created_at=_time(node["createdAt"]),
    )
