"""Opaque pagination cursors: base64url of a small JSON array that names its list.

A cursor holds only the sort key of a row the caller has already seen, so handing one
to another user reveals nothing: it positions their own list, nothing more.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import orjson

from graph.backends.base import ActivityCursor, SessionCursor
from graph.errors import BadUserInput

_MAX_CURSOR_LENGTH = 200


class CursorKind(StrEnum):
    SESSION = "s"
    REVISION = "r"
    DRAFT = "d"
    RESOLUTION = "x"
    ACTIVITY = "a"


def _encode(parts: list[object]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).rstrip(b"=").decode()


def _decode(cursor: str, kind: CursorKind) -> list[object]:
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise BadUserInput("invalid cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadUserInput("invalid cursor") from exc
    if not isinstance(parts, list) or not parts or parts[0] != kind.value:
        raise BadUserInput("invalid cursor")
    return parts[1:]


def session_cursor(updated_at: datetime, session_id: UUID) -> str:
    return session_cursor_of(updated_at.isoformat(), str(session_id))


def session_cursor_of(updated_at_iso: str, session_id: str) -> str:
    """The same cursor from text: `updated_at.isoformat()` and the uuid's canonical form."""
    return _encode([CursorKind.SESSION.value, updated_at_iso, session_id])


def parse_session_cursor(cursor: str) -> SessionCursor:
    updated_at, session_id = _parse_timed(cursor, CursorKind.SESSION)
    return SessionCursor(updated_at=updated_at, id=session_id)


def activity_cursor(at: datetime, row_id: UUID) -> str:
    return activity_cursor_of(at.isoformat(), str(row_id))


def activity_cursor_of(at_iso: str, row_id: str) -> str:
    """The same cursor from text: `at.isoformat()` (in UTC) and the row's uuid."""
    return _encode([CursorKind.ACTIVITY.value, at_iso, row_id])


def parse_activity_cursor(cursor: str) -> ActivityCursor:
    at, row_id = _parse_timed(cursor, CursorKind.ACTIVITY)
    return ActivityCursor(at=at, id=row_id)


def _parse_timed(cursor: str, kind: CursorKind) -> tuple[datetime, UUID]:
    """A cursor of a list ordered by a time, then a row's uuid."""
    parts = _decode(cursor, kind)
    try:
        at_text, id_text = parts
        at = datetime.fromisoformat(str(at_text))
        row_id = UUID(str(id_text))
    except ValueError as exc:
        raise BadUserInput("invalid cursor") from exc
    if at.tzinfo is None:
        raise BadUserInput("invalid cursor")
    return at, row_id


def position_cursor(kind: CursorKind, position: int) -> str:
    return _encode([kind.value, position])


def parse_position_cursor(cursor: str, kind: CursorKind) -> int:
    parts = _decode(cursor, kind)
    if len(parts) != 1 or not isinstance(parts[0], int) or isinstance(parts[0], bool):
        raise BadUserInput("invalid cursor")
    if not 0 <= parts[0] < 2**31:
        raise BadUserInput("invalid cursor")
    return parts[0]
