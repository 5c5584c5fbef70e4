"""How long the gateway's GraphQL execution takes with no I/O at all:
`.venv/bin/python -m bench.execution`.

The store here answers at once from memory; it measures Strawberry / graphql-core and our
resolvers, nothing else, so it bounds what any database work can win. (A measurement aid,
not a test: the tests always use a real Postgres.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from bench.run import GATEWAY_QUERIES, ir_document
from graph.auth import Claims
from graph.backends.base import (
    ChildPageRequest,
    DraftRecord,
    Page,
    RevisionRecord,
    SessionRecord,
)
from graph.context import RequestContext
from graph.http import OperationName, ReadTransaction
from graph.schema import build_schema

RUNS = 500


class InstantStore:
    """Answers every read at once with the same bench-shaped records."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self.session_id = uuid.uuid4()
        self.session = SessionRecord(
            self.session_id, "active", "prompt", "t", {}, 1, now, now, None
        )
        self.draft = DraftRecord(
            uuid.uuid4(), self.session_id, 5, ir_document(), "incomplete", [], ["a"], {}, now
        )
        self.revision_records = [
            RevisionRecord(uuid.uuid4(), self.session_id, n, "content", "hole_fill", "h", {}, now)
            for n in range(1, 11)
        ]

    async def sessions_by_id(self, _: Claims, ids: Sequence[uuid.UUID]) -> list[SessionRecord]:
        return [self.session for _ in ids]

    async def current_drafts(self, _: Claims, ids: Sequence[uuid.UUID]) -> list[DraftRecord]:
        return [self.draft for _ in ids]

    async def revisions(
        self, _: Claims, ids: Sequence[uuid.UUID], __: ChildPageRequest
    ) -> list[Page[Any]]:
        return [Page(self.revision_records, False, 10) for _ in ids]

    async def drafts(
        self, _: Claims, ids: Sequence[uuid.UUID], __: ChildPageRequest
    ) -> list[Page[Any]]:
        return [Page([self.draft], False, 1) for _ in ids]

    async def resolutions(
        self, _: Claims, ids: Sequence[uuid.UUID], __: ChildPageRequest
    ) -> list[Page[Any]]:
        return [Page([], False, 0) for _ in ids]

    async def list_sessions(self, *_: Any) -> Page[SessionRecord]:
        return Page([self.session] * 20, True, 50)

    @asynccontextmanager
    async def read_scope(self, _: Claims) -> AsyncIterator[None]:
        yield


class _Request:
    class state:  # noqa: N801 - shaped like Starlette's request.state
        pass

    headers: ClassVar[dict[str, str]] = {}


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
        print(
            f"{name}: {(time.perf_counter() - started) / RUNS * 1000:.2f} ms per execution, no I/O"
        )


if __name__ == "__main__":
    asyncio.run(main())
