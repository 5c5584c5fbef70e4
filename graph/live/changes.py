"""A session's announcement of a committed change: ids and a version, never content.

Announcements travel on channels RLS does not cover (NOTIFY reaches every role that
listens), so whoever hears one re-reads the session under its own claims.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import orjson

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
        payload = orjson.loads(text)["payload"]
        return SessionChange(
            kind=ChangeKind(payload["kind"]),
            session_id=uuid.UUID(payload["session_id"]),
            user_id=uuid.UUID(payload["user_id"]),
            version=int(payload["version"]),
            at=float(payload["at"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        logger.warning("an announcement this gateway cannot read: %.200s", text)
        return None


class ChangeSink(Protocol):
    def publish(self, change: SessionChange) -> None: ...

    def recovered(self) -> None:
        """The source missed what happened while it was away: every reader re-reads."""


ChangeSource = Callable[[ChangeSink], Coroutine[Any, Any, None]]
"""Feeds a sink until cancelled (a store's event source: LISTEN, Realtime, ...)."""
