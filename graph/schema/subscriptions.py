"""Subscription root: the caller's sessions as they change (graph/live/ brings the changes).

A subscription first reads what it follows under the caller's claims (another user's
session and a missing one are the same NOT_FOUND), then waits on its feed. Each event's
`session` is read again when it is delivered, under the subscriber's claims, through the
same store as queries, so RLS decides what it shows. After the store's change source
recovered from an outage, each subscription re-reads and reports what moved meanwhile.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import strawberry
from starlette.websockets import WebSocket
from strawberry.types import Info

from graph.auth import Claims
from graph.backends.base import Backend, SessionPageRequest
from graph.context import RequestContext
from graph.errors import FailedPrecondition, NotFound, Unauthenticated, UpstreamUnavailable
from graph.live.changes import ChangeKind, SessionChange
from graph.live.hub import Feed, Hub, Resync
from graph.schema.arguments import SESSION_ID
from graph.schema.model import ExecutorOnly, reads
from graph.schema.types import Session

RESYNC_SESSIONS = 100  # the most recently updated sessions a user feed re-reads
RESYNC_ATTEMPTS = 8  # about 10 s of a store coming back
T = TypeVar("T")
LIVE = ExecutorOnly("a subscription and its events: executed per delivery, field by field")


@strawberry.enum(description="What happened to a session.")
class SessionEventKind(Enum):
    CREATED = "CREATED"
    CHANGED = "CHANGED"
    FINALIZED = "FINALIZED"
    ABANDONED = "ABANDONED"
    DELETED = "DELETED"


@strawberry.type(
    description=(
        "A committed change to one of the caller's sessions. Events of one session arrive in "
        "version order; under a burst several may be coalesced into the latest (a subscriber "
        "always ends at the latest version), and none is ever older than one already delivered."
    )
)
class SessionEvent:
    kind: SessionEventKind = strawberry.field(metadata=reads(LIVE))
    session_id: strawberry.ID = strawberry.field(metadata=reads(LIVE))
    version: int = strawberry.field(
        description="The session's version after the change (its last version for DELETED).",
        metadata=reads(LIVE),
    )

    @strawberry.field(
        description=(
            "The session as the subscriber may see it now, read when the event is delivered; "
            "null for DELETED (and if it is gone by then)."
        ),
        metadata=reads(LIVE),
    )
    async def session(self, info: Info[RequestContext, None]) -> Session | None:
        if self.kind is SessionEventKind.DELETED:
            return None
        viewer = info.context.require_viewer()
        [row] = await info.context.store().sessions_by_id(viewer, [uuid.UUID(self.session_id)])
        return Session.of(row) if row is not None else None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "One of the caller's sessions as it changes; NOT_FOUND at once when it is absent "
            "or not the caller's. Completes after DELETED."
        ),
        metadata=reads(LIVE),
    )
    async def session_events(
        self, info: Info[RequestContext, None], session_id: strawberry.ID
    ) -> AsyncIterator[SessionEvent]:
        subscriber = _subscriber(info)
        target = SESSION_ID.read({"id": session_id})
        held = AsyncExitStack()
        try:
            # The feed opens before the read: nothing committed in between is lost.
            feed = await held.enter_async_context(
                subscriber.hub.following(subscriber.viewer, target)
            )
            [row] = await subscriber.store.sessions_by_id(subscriber.viewer, [target])
            if row is None:
                raise NotFound("session not found")
        except BaseException:
            await held.aclose()
            raise
        # Every change from the feed's opening on is delivered, including one committed
        # while the session was read: the subscriber has not seen that version.
        feed.started = True
        return _session_stream(subscriber, feed, target, held)

    @strawberry.subscription(
        description="Every session of the caller's as it changes.", metadata=reads(LIVE)
    )
    async def my_session_events(
        self, info: Info[RequestContext, None]
    ) -> AsyncIterator[SessionEvent]:
        subscriber = _subscriber(info)
        held = AsyncExitStack()
        feed = await held.enter_async_context(subscriber.hub.following(subscriber.viewer, None))
        feed.started = True
        return _user_stream(subscriber, feed, time.time(), held)


@dataclass(frozen=True, slots=True)
class _Subscriber:
    context: RequestContext
    viewer: Claims
    store: Backend
    hub: Hub
    expires: float | None  # when the stream ends UNAUTHENTICATED (SSE; a socket is closed)

    def deliver(self, change: SessionChange) -> SessionEvent:
        self.context.fresh_reads()
        self.hub.delivered(change)
        return _event(change)


def _subscriber(info: Info[RequestContext, None]) -> _Subscriber:
    context = info.context
    viewer = context.require_viewer()
    store = context.store()
    if context.live is None:
        raise FailedPrecondition("live subscriptions are not available on this backend")
    expires = viewer.raw.get("exp")
    ends = (
        float(expires)
        if isinstance(expires, int | float) and not isinstance(context.request, WebSocket)
        else None  # graph/ws.py closes a WebSocket when its token expires
    )
    return _Subscriber(context, viewer, store, context.live, ends)


async def _session_stream(
    subscriber: _Subscriber, feed: Feed, target: uuid.UUID, held: AsyncExitStack
) -> AsyncGenerator[SessionEvent, None]:
    """`held`: the feed and what follows it, released when the stream ends."""
    viewer = subscriber.viewer
    try:
        while True:
            found = await _next(feed, subscriber.expires)
            if isinstance(found, Resync):
                [row] = await _retrying(lambda: subscriber.store.sessions_by_id(viewer, [target]))
                known = feed.known_version(target) or 0
                if row is None:
                    found = _change(ChangeKind.DELETED, target, viewer, known)
                elif row["version"] > known:
                    feed.seen(target, row["version"])
                    found = _change(ChangeKind.CHANGED, target, viewer, row["version"])
                else:
                    continue
            yield subscriber.deliver(found)
            if found.kind is ChangeKind.DELETED:
                return
    finally:
        await held.aclose()


async def _user_stream(
    subscriber: _Subscriber, feed: Feed, since: float, held: AsyncExitStack
) -> AsyncGenerator[SessionEvent, None]:
    """`since`: when the subscription began; a resync reports sessions changed after it."""
    try:
        while True:
            found = await _next(feed, subscriber.expires)
            if isinstance(found, Resync):
                moved = await _retrying(
                    lambda: _moved(subscriber.store, subscriber.viewer, feed, since)
                )
                for change in moved:
                    yield subscriber.deliver(change)
                continue
            yield subscriber.deliver(found)
    finally:
        await held.aclose()


async def _moved(store: Backend, viewer: Claims, feed: Feed, since: float) -> list[SessionChange]:
    """The caller's recently updated sessions whose version moved past what the feed knows
    (a session deleted meanwhile is not found here: its subscriber re-reads it at once)."""
    page = await store.list_sessions(viewer, SessionPageRequest(first=RESYNC_SESSIONS))
    moved = []
    for row in page.items:
        known = feed.known_version(row["id"])
        if row["updated_at"].timestamp() < since and known is None:
            continue
        if known is None or row["version"] > known:
            feed.seen(row["id"], row["version"])
            moved.append(_change(ChangeKind.CHANGED, row["id"], viewer, row["version"]))
    return moved


async def _retrying(read: Callable[[], Awaitable[T]]) -> T:
    """A re-read after the change source recovered: the store may be coming back too (a
    restarted Postgres), so a retryable failure waits and tries again."""
    delay = 0.1
    for _ in range(RESYNC_ATTEMPTS - 1):
        try:
            return await read()
        except UpstreamUnavailable:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    return await read()


async def _next(feed: Feed, expires: float | None) -> SessionChange | Resync:
    """The feed's next change, until `expires` (then UNAUTHENTICATED)."""
    if expires is None:
        return await feed.next()
    try:
        async with asyncio.timeout(max(0.0, expires - time.time())):
            return await feed.next()
    except TimeoutError:
        raise Unauthenticated("the token expired; subscribe again with a fresh one") from None


def _change(kind: ChangeKind, session_id: uuid.UUID, viewer: Claims, version: int) -> SessionChange:
    return SessionChange(kind, session_id, viewer.user_id, version, time.time())


def _event(change: SessionChange) -> SessionEvent:
    return SessionEvent(
        kind=SessionEventKind(change.kind.value),
        session_id=strawberry.ID(str(change.session_id)),
        version=change.version,
    )
