"""Per-request context: the caller, the store, and DataLoaders made for this request only.

DataLoaders must never outlive a request: one shared between requests would hand one
user's cached rows to another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from graph.auth import Claims
from graph.backends.base import ActivityPageRequest, Backend, ChildPageRequest, Page, Row
from graph.errors import GraphError, Unauthenticated
from graph.live.hub import Hub

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R", ChildPageRequest, ActivityPageRequest)  # a page request, the same per batch
PageKey = tuple[UUID, ChildPageRequest]


class Loaders:
    """Batches the nested fields of many sessions into one store call per field and page shape."""

    def __init__(self, backend: Backend, viewer: Claims) -> None:
        async def current_drafts(ids: Sequence[UUID]) -> list[Row | None]:
            return await backend.current_drafts(viewer, ids)

        self.current_draft: DataLoader[UUID, Row | None] = DataLoader(current_drafts)

        async def session_resolutions(ids: Sequence[UUID]) -> list[list[Row]]:
            return await backend.session_resolutions(viewer, ids)

        async def drafts_by_version(keys: Sequence[tuple[UUID, int]]) -> list[Row | None]:
            return await backend.drafts_by_version(viewer, keys)

        # Every resolution of a session, oldest first (holes' status and answers).
        self.session_resolutions: DataLoader[UUID, list[Row]] = DataLoader(session_resolutions)
        self.draft_by_version: DataLoader[tuple[UUID, int], Row | None] = DataLoader(
            drafts_by_version
        )

        async def session_summaries(ids: Sequence[UUID]) -> list[Row | None]:
            return await backend.session_summaries(viewer, ids)

        self.session_summary: DataLoader[UUID, Row | None] = DataLoader(session_summaries)
        self.activity: DataLoader[tuple[UUID, ActivityPageRequest], Page[Row]] = _page_loader(
            backend.activity, viewer
        )
        self.rows: dict[str, DataLoader[UUID, Row | None]] = {
            table: DataLoader(_rows_of(backend, viewer, table))
            for table in ("sessions", "revisions", "drafts", "resolutions")
        }
        self.revisions: DataLoader[PageKey, Page[Row]] = _page_loader(backend.revisions, viewer)
        self.drafts: DataLoader[PageKey, Page[Row]] = _page_loader(backend.drafts, viewer)
        self.resolutions: DataLoader[PageKey, Page[Row]] = _page_loader(backend.resolutions, viewer)


def load(loader: DataLoader[K, V], key: K) -> Awaitable[V]:
    """`loader.load(key)`, shielded: graphql-core cancels the fields still running once an
    error has nulled their parent, and cancelling one awaiter of a DataLoader's future
    would cancel the future itself for every other field waiting on the same key (which
    then crashed the request with CancelledError instead of answering). A batch that
    outlives its request fails or finishes unobserved."""
    future = asyncio.ensure_future(loader.load(key))
    future.add_done_callback(_observe)
    return asyncio.shield(future)


def _observe(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not log it as lost


def _rows_of(
    backend: Backend, viewer: Claims, table: str
) -> Callable[[Sequence[UUID]], Awaitable[list[Row | None]]]:
    async def rows(ids: Sequence[UUID]) -> list[Row | None]:
        return await backend.rows_by_id(viewer, table, ids)

    return rows


def _page_loader(
    fetch: Callable[[Claims, Sequence[UUID], R], Awaitable[list[Page[T]]]], viewer: Claims
) -> DataLoader[tuple[UUID, R], Page[T]]:
    async def load(keys: Sequence[tuple[UUID, R]]) -> list[Page[T]]:
        by_request: dict[R, list[UUID]] = {}
        for session_id, request in keys:
            by_request.setdefault(request, []).append(session_id)
        found: dict[tuple[UUID, R], Page[T]] = {}
        for request, session_ids in by_request.items():
            pages = await fetch(viewer, session_ids, request)
            found.update(
                {(sid, request): page for sid, page in zip(session_ids, pages, strict=True)}
            )
        return [found[key] for key in keys]

    return DataLoader(load)


@dataclass
class RequestContext:
    """One HTTP request's, or one WebSocket connection's (no `response`; its `viewer` is
    set by `connection_init`)."""

    request: HTTPConnection
    response: Response | None
    backend: Backend
    viewer: Claims | None
    # Set when a compiled read of this request found the store failing: every field that
    # would call the store fails the same way instead, so the executor reports it in its
    # usual shape without asking the store again (a slow upstream would double the wait).
    store_failure: GraphError | None = None
    live: Hub | None = None  # subscriptions' fan-out, where the store announces changes
    connection_params: dict[str, object] | None = None  # a WebSocket's connection_init payload
    _loaders: Loaders | None = field(default=None, init=False)

    def store(self) -> Backend:
        """The store, for a resolver; raises the request's store failure when it had one."""
        if self.store_failure is not None:
            raise self.store_failure.again()
        return self.backend

    def require_viewer(self) -> Claims:
        """The caller, or UNAUTHENTICATED (HTTP 401) when the request carried no token."""
        if self.viewer is None:
            if self.response is not None:
                self.response.status_code = 401
            raise Unauthenticated("a bearer token is required")
        return self.viewer

    def fresh_reads(self) -> None:
        """Forget what this context's loaders cached: a subscription's context lives as
        long as its connection, and each event must read the store as it is now."""
        self._loaders = None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.store(), self.require_viewer())
        return self._loaders
