"""Fan-out in process: each subscription has a Feed, and the Hub hands every change to the
feeds that follow its session or its user.

A feed keeps at most one pending change per session, the latest (a burst coalesces; the
subscriber always ends at the latest version), and never yields a change ranked at or
below one it has yielded for that session. A feed following a user holds at most
`MAX_PENDING_SESSIONS` sessions' changes; past that it drops them and re-reads instead,
so a slow subscriber costs bounded memory.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from graph.auth import Claims
from graph.errors import BadUserInput, GraphError
from graph.live.changes import Follow, SessionChange

MAX_PENDING_SESSIONS = 1000
SUBSCRIPTIONS_PER_USER = 100


class Resync:
    """What a feed yields when it may have missed changes: re-read what it follows."""


RESYNC = Resync()


class Feed:
    def __init__(self, hub: Hub, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        self.user_id = user_id
        self.session_id = session_id  # None: every session of the user
        self._hub = hub
        self._pending: dict[uuid.UUID, SessionChange] = {}
        self._yielded: dict[uuid.UUID, tuple[int, int]] = {}
        self._resync = False
        self._wake = asyncio.Event()
        self._error: GraphError | None = None
        self.started = False  # its subscription has begun (what it follows was read)
        self.closed = False

    def seen(self, session_id: uuid.UUID, version: int) -> None:
        """The subscriber knows this version already (read it): nothing at or below it."""
        rank = (version, 0)
        if rank > self._yielded.get(session_id, (-1, 0)):
            self._yielded[session_id] = rank
        pending = self._pending.get(session_id)
        if pending is not None and pending.rank <= rank:
            del self._pending[session_id]

    def known_version(self, session_id: uuid.UUID) -> int | None:
        found = self._yielded.get(session_id)
        return None if found is None else found[0]

    def offer(self, change: SessionChange) -> None:
        if change.rank <= self._yielded.get(change.session_id, (-1, 0)):
            return
        pending = self._pending.get(change.session_id)
        if pending is not None and pending.rank >= change.rank:
            return
        if pending is None and len(self._pending) >= MAX_PENDING_SESSIONS:
            self._pending.clear()
            self._resync = True
        else:
            self._pending[change.session_id] = change
        self._wake.set()

    def resync(self) -> None:
        self._resync = True
        self._wake.set()

    def fail(self, error: GraphError) -> None:
        """What the feed follows is lost for good: `next` raises `error` from now on."""
        self._error = error
        self._wake.set()

    async def next(self) -> SessionChange | Resync:
        """The next change to deliver, oldest pending first, or RESYNC."""
        while True:
            if self._error is not None:
                raise self._error.again()
            if self._resync:
                self._resync = False
                return RESYNC
            if self._pending:
                session_id = next(iter(self._pending))
                change = self._pending.pop(session_id)
                self._yielded[session_id] = change.rank
                return change
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._remove(self)


class Hub:
    def __init__(
        self,
        *,
        per_user: int = SUBSCRIPTIONS_PER_USER,
        on_delivery: Callable[[float], None] | None = None,
        follow: Follow | None = None,
    ) -> None:
        self._per_user = per_user
        self._follow = follow
        self._by_session: defaultdict[uuid.UUID, set[Feed]] = defaultdict(set)
        self._by_user: defaultdict[uuid.UUID, set[Feed]] = defaultdict(set)
        self._counts: defaultdict[uuid.UUID, int] = defaultdict(int)
        self._on_delivery = on_delivery

    def open(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> Feed:
        """A feed for one session of the user's, or (None) all of them; close it when done."""
        if self._counts[user_id] >= self._per_user:
            raise BadUserInput(
                f"at most {self._per_user} live subscriptions per user; end one first"
            )
        feed = Feed(self, user_id, session_id)
        self._counts[user_id] += 1
        if session_id is None:
            self._by_user[user_id].add(feed)
        else:
            self._by_session[session_id].add(feed)
        return feed

    @asynccontextmanager
    async def following(self, viewer: Claims, session_id: uuid.UUID | None) -> AsyncIterator[Feed]:
        """A feed, and (where the store announces per subscriber) the store's topic for
        it followed with the viewer's credentials, until the block ends."""
        feed = self.open(viewer.user_id, session_id)
        try:
            if self._follow is None:
                yield feed
                return
            topic = f"session:{session_id}" if session_id is not None else f"user:{viewer.user_id}"
            async with self._follow(viewer, topic, self) as lost:
                lost.add_done_callback(lambda done: feed.fail(done.result()))
                yield feed
        finally:
            feed.close()

    def subscriptions(self) -> int:
        """Live subscriptions: begun, not yet ended (the metric)."""
        return sum(
            1
            for feeds in (*self._by_session.values(), *self._by_user.values())
            for feed in feeds
            if feed.started
        )

    def publish(self, change: SessionChange) -> None:
        for feed in (*self._by_session.get(change.session_id, ()),):
            feed.offer(change)
        for feed in (*self._by_user.get(change.user_id, ()),):
            feed.offer(change)

    def recovered(self) -> None:
        for feeds in (*self._by_session.values(), *self._by_user.values()):
            for feed in feeds:
                feed.resync()

    def delivered(self, change: SessionChange) -> None:
        """A change reached a subscriber: commit-to-send latency for the metrics."""
        if self._on_delivery is not None:
            self._on_delivery(max(0.0, time.time() - change.at))

    def _remove(self, feed: Feed) -> None:
        index, key = (
            (self._by_user, feed.user_id)
            if feed.session_id is None
            else (self._by_session, feed.session_id)
        )
        feeds = index.get(key)
        if feeds is not None:
            feeds.discard(feed)
            if not feeds:
                del index[key]
        self._counts[feed.user_id] -= 1
        if self._counts[feed.user_id] <= 0:
            del self._counts[feed.user_id]
