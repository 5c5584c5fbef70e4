"""How long the gateway's own work takes with no I/O at all:
`.venv/bin/python -m bench.execution`.

The store here answers at once from memory. Two figures per document: Strawberry's
field-by-field execution alone (graphql-core and our resolvers), and a whole request
through the ASGI app (token, limits, middlewares, JSON) with compiled reads, where the
store's one statement is replaced by ready bytes. They bound what any database work can
win. (A measurement aid, not a test: the tests always use a real Postgres.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import orjson

from bench.measure import post_scope
from bench.workload import GATEWAY_QUERIES, ir_document
from graph.app import create_app
from graph.auth import Claims, mint_token
from graph.backends.base import ChildPageRequest, Page, Row
from graph.config import Settings
from graph.context import RequestContext
from graph.http import OperationName, ReadTransaction
from graph.reads.plan import Bound, ReadPlan
from graph.reads.planner import CompiledReader
from graph.schema import build_schema

RUNS = 500


class InstantStore:
    """Answers every read at once with the same bench-shaped rows."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self.session_id = uuid.uuid4()
        self.session: Row = {
            "id": self.session_id,
            "status": "active",
            "source": "prompt",
            "title": "t",
            "metadata": {},
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "finalized_at": None,
        }
        self.draft: Row = {
            "id": uuid.uuid4(),
            "session_id": self.session_id,
            "version": 5,
            "ir": ir_document(),
            "validation_status": "incomplete",
            "smt_results": [],
            "ambiguities": ["a"],
            "metadata": {},
            "created_at": now,
        }
        self.revision_rows: list[Row] = [
            {
                "id": uuid.uuid4(),
                "session_id": self.session_id,
                "number": n,
                "content": "content",
                "revision_type": "hole_fill",
                "target_hole": "h",
                "metadata": {},
                "created_at": now,
            }
            for n in range(1, 11)
        ]

    async def sessions_by_id(self, _: Claims, ids: Sequence[uuid.UUID]) -> list[Row]:
        return [self.session for _ in ids]

    async def current_drafts(self, _: Claims, ids: Sequence[uuid.UUID]) -> list[Row]:
        return [self.draft for _ in ids]

    async def revisions(
        self, _: Claims, ids: Sequence[uuid.UUID], __: ChildPageRequest
    ) -> list[Page[Any]]:
        return [Page(self.revision_rows, False, 10) for _ in ids]

    async def drafts(
        self, _: Claims, ids: Sequence[uuid.UUID], __: ChildPageRequest
    ) -> list[Page[Any]]:
        return [Page([self.draft], False, 1) for _ in ids]

    async def resolutions(
        self, _: Claims, ids: Sequence[uuid.UUID], __: ChildPageRequest
    ) -> list[Page[Any]]:
        return [Page([], False, 0) for _ in ids]

    async def list_sessions(self, *_: Any) -> Page[Row]:
        return Page([self.session] * 20, True, 50)

    @asynccontextmanager
    async def read_scope(self, _: Claims) -> AsyncIterator[None]:
        yield

    def compile_read(self, _: ReadPlan) -> CompiledReader:
        answer = orjson.dumps({"session": {"id": str(self.session_id)}})

        async def run(_viewer: Claims, _bound: Bound) -> bytes:
            return answer

        return run

    def connections_in_use(self) -> int:
        return 0

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _Request:
    """As much of a Starlette request as the schema's extensions read."""

    headers: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}


async def whole_request(store: InstantStore, query: str) -> float:
    """Seconds per request through the ASGI app, compiled reads answering from memory."""
    secret = "bench-execution-" + "0" * 32
    app = create_app(
        Settings(supabase_jwt_secret=secret, database_url="postgresql://unused"),  # type: ignore[arg-type]
        backend=store,  # type: ignore[arg-type]
    )
    token = mint_token(secret, uuid.uuid4(), 3600)
    body = orjson.dumps({"query": query, "variables": {"id": str(store.session_id)}})
    headers = [
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = post_scope(headers)
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    async def once() -> None:
        await app(dict(scope), receive, send)

    async with app.router.lifespan_context(app):
        for _ in range(100):
            await once()
        started = time.perf_counter()
        for _ in range(RUNS * 4):
            await once()
        elapsed = (time.perf_counter() - started) / (RUNS * 4)
    assert set(status) == {200}, status
    return elapsed


async def main() -> None:
    schema = build_schema(extra_extensions=[OperationName, ReadTransaction])
    store = InstantStore()
    viewer = Claims(user_id=uuid.uuid4(), raw={})

    async def once(query: str) -> None:
        context = RequestContext(request=_Request(), response=None, backend=store, viewer=viewer)  # type: ignore[arg-type]
        variables = {"id": str(store.session_id)}
        result = await schema.execute(query, variable_values=variables, context_value=context)
        assert not result.errors, result.errors

    for name, query in GATEWAY_QUERIES.items():
        for _ in range(50):
            await once(query)
        started = time.perf_counter()
        for _ in range(RUNS):
            await once(query)
        executed = (time.perf_counter() - started) / RUNS * 1000
        whole = await whole_request(store, query) * 1000
        print(
            f"{name}: {executed:.2f} ms per field-by-field execution; {whole:.2f} ms per whole "
            "request with a compiled read; no I/O"
        )


if __name__ == "__main__":
    asyncio.run(main())
