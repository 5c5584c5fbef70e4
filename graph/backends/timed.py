"""The store with the latency of every call observed (`graph_backend_call_duration_seconds`).

Written out method by method, so mypy checks it against the port like any adapter.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar
from uuid import UUID

from graph.auth import Claims
from graph.backends.base import (
    ActivityPageRequest,
    Backend,
    ChildPageRequest,
    HoleAnswer,
    NewDraft,
    NewRevision,
    NewSession,
    Page,
    Row,
    SessionPageRequest,
)
from graph.live.changes import LiveSource
from graph.reads.plan import ReadPlan
from graph.reads.planner import CompiledReader

T = TypeVar("T")
Observe = Callable[[str, float], None]  # (call, seconds)


class TimedBackend:
    def __init__(self, backend: Backend, observe: Observe) -> None:
        self.inner = backend
        self._observe = observe

    async def _timed(self, call: str, work: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await work
        finally:
            self._observe(call, time.perf_counter() - started)

    async def sessions_by_id(self, viewer: Claims, ids: Sequence[UUID]) -> list[Row | None]:
        return await self._timed("sessions_by_id", self.inner.sessions_by_id(viewer, ids))

    async def list_sessions(self, viewer: Claims, page: SessionPageRequest) -> Page[Row]:
        return await self._timed("list_sessions", self.inner.list_sessions(viewer, page))

    async def current_drafts(self, viewer: Claims, session_ids: Sequence[UUID]) -> list[Row | None]:
        return await self._timed("current_drafts", self.inner.current_drafts(viewer, session_ids))

    async def session_resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[list[Row]]:
        work = self.inner.session_resolutions(viewer, session_ids)
        return await self._timed("session_resolutions", work)

    async def drafts_by_version(
        self, viewer: Claims, keys: Sequence[tuple[UUID, int]]
    ) -> list[Row | None]:
        return await self._timed("drafts_by_version", self.inner.drafts_by_version(viewer, keys))

    async def revisions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._timed("revisions", self.inner.revisions(viewer, session_ids, page))

    async def drafts(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        return await self._timed("drafts", self.inner.drafts(viewer, session_ids, page))

    async def resolutions(
        self, viewer: Claims, session_ids: Sequence[UUID], page: ChildPageRequest
    ) -> list[Page[Row]]:
        work = self.inner.resolutions(viewer, session_ids, page)
        return await self._timed("resolutions", work)

    async def session_summaries(
        self, viewer: Claims, session_ids: Sequence[UUID]
    ) -> list[Row | None]:
        work = self.inner.session_summaries(viewer, session_ids)
        return await self._timed("session_summaries", work)

    async def viewer_stats(self, viewer: Claims) -> Row:
        return await self._timed("viewer_stats", self.inner.viewer_stats(viewer))

    async def activity(
        self, viewer: Claims, session_ids: Sequence[UUID] | None, page: ActivityPageRequest
    ) -> list[Page[Row]]:
        return await self._timed("activity", self.inner.activity(viewer, session_ids, page))

    async def rows_by_id(self, viewer: Claims, table: str, ids: Sequence[UUID]) -> list[Row | None]:
        return await self._timed("rows_by_id", self.inner.rows_by_id(viewer, table, ids))

    async def create_session(self, viewer: Claims, new: NewSession) -> Row:
        return await self._timed("create_session", self.inner.create_session(viewer, new))

    async def add_revision(self, viewer: Claims, new: NewRevision) -> tuple[Row, Row]:
        return await self._timed("add_revision", self.inner.add_revision(viewer, new))

    async def add_draft(self, viewer: Claims, new: NewDraft) -> tuple[Row, Row]:
        return await self._timed("add_draft", self.inner.add_draft(viewer, new))

    async def resolve_hole(self, viewer: Claims, answer: HoleAnswer) -> tuple[Row, Row, Row]:
        return await self._timed("resolve_hole", self.inner.resolve_hole(viewer, answer))

    async def revert_to_draft(
        self, viewer: Claims, session_id: UUID, version: int, expected_version: int | None
    ) -> tuple[Row, Row, Row]:
        work = self.inner.revert_to_draft(viewer, session_id, version, expected_version)
        return await self._timed("revert_to_draft", work)

    async def finalize_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row:
        work = self.inner.finalize_session(viewer, session_id, expected_version)
        return await self._timed("finalize_session", work)

    async def abandon_session(
        self, viewer: Claims, session_id: UUID, expected_version: int | None
    ) -> Row:
        work = self.inner.abandon_session(viewer, session_id, expected_version)
        return await self._timed("abandon_session", work)

    async def delete_session(self, viewer: Claims, session_id: UUID) -> UUID:
        return await self._timed("delete_session", self.inner.delete_session(viewer, session_id))

    def change_source(self) -> LiveSource | None:
        return self.inner.change_source()

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        """Compiled reads are timed by the view (`call="compiled_read"`)."""
        return self.inner.compile_read(plan)

    def read_scope(self, viewer: Claims) -> AbstractAsyncContextManager[None]:
        return self.inner.read_scope(viewer)

    def connections_in_use(self) -> int:
        return self.inner.connections_in_use()

    def connection_limit(self) -> int:
        return self.inner.connection_limit()

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()
