"""A session's announcement of a committed change: ids and a version, never content.

Announcements travel on channels RLS does not cover (NOTIFY reaches every role that
listens), so whoever hears one re-reads the session under its own claims.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    import asyncio

    from graph.auth import Claims
    from graph.errors import GraphError

logger = logging.getLogger(__name__)


class ChangeKind(Enum):
    CREATED = "CREATED"
    CHANGED = "CHANGED"
    FINALIZED = "FINALIZED"
    ABANDONED = "ABANDONED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class SessionChange:
    kind: ChangeKind
    session_id: uuid.UUID
    user_id: uuid.UUID
    version: int  # after the change; a deleted session's last
    at: float  # when the change was made, seconds since the epoch (the latency metric)

    @property
    def rank(self) -> tuple[int, int]:
        """Later changes rank higher; DELETED, at the version it had, comes after it."""
        return self.version, int(self.kind is ChangeKind.DELETED)


def parse_announcement(text: str) -> SessionChange | None:
    """From migrations/0011's `{"topics", "event", "payload"}`; None (logged) if malformed."""
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        found = None
    payload = found.get("payload") if isinstance(found, dict) else None
    return change_of(payload, text)


def change_of(payload: object, seen_as: str | None = None) -> SessionChange | None:
    """An announcement's payload (`{kind, session_id, user_id, version, at}`), as the LISTEN
    channel and Realtime broadcasts carry it; None (logged) if malformed."""
    try:
        if not isinstance(payload, dict):
            raise TypeError(type(payload).__name__)
        return SessionChange(
            kind=ChangeKind(payload["kind"]),
            session_id=uuid.UUID(payload["session_id"]),
            user_id=uuid.UUID(payload["user_id"]),
            version=int(payload["version"]),
            at=float(payload["at"]),
        )
    except (KeyError, TypeError, ValueError):
        logger.warning("an announcement this gateway cannot read: %.200s", seen_as or payload)
        return None


class ChangeSink(Protocol):
    def publish(self, change: SessionChange) -> None: ...

    def recovered(self) -> None:
        """The source missed what happened while it was away: every reader re-reads."""


ChangeSource = Callable[[ChangeSink], Coroutine[Any, Any, None]]
"""Feeds a sink until cancelled: one feed for the whole process (LISTEN)."""

Follow = Callable[
    ["Claims", str, ChangeSink], AbstractAsyncContextManager["asyncio.Future[GraphError]"]
]
"""While entered, what a store announces on `topic` (`session:<id>`, `user:<id>`) reaches
the sink, heard with the viewer's own credentials (Realtime: a private channel joined with
the caller's JWT). Entering raises NotFound when the store refuses the viewer that topic;
it yields a future that resolves with an error if the topic is lost for good."""


@dataclass(frozen=True, slots=True)
class LiveSource:
    """How a store announces changes: a process-wide feed, per-subscriber follows, or both."""

    run: ChangeSource | None = None
    follow: Follow | None = None
