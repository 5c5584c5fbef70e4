"""Field arguments as the store needs them: the one place their rules live.

The resolvers call these, and so do compiled reads (through `ARGUMENT_READERS`), so a
value one path refuses the other refuses too.
"""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

from graph.backends.base import MAX_PAGE_SIZE, ChildPageRequest, SessionPageRequest
from graph.cursors import CursorKind, parse_position_cursor, parse_session_cursor
from graph.errors import BadUserInput
from graph.reads.plan import ArgumentReader
from graph.schema.ids import parse_id

DEFAULT_SESSIONS_PAGE = 20


def page_size(first: int | None, default: int) -> int:
    if first is None:
        return default
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"first must be between 0 and {MAX_PAGE_SIZE}")
    return first


def sessions_page(first: int | None, after: str | None, status: Enum | None) -> SessionPageRequest:
    return SessionPageRequest(
        first=page_size(first, DEFAULT_SESSIONS_PAGE),
        after=parse_session_cursor(after) if after else None,
        status=str(status.value) if status is not None else None,
    )


def child_page(
    first: int | None, after: str | None, kind: CursorKind, applied: bool | None = None
) -> ChildPageRequest:
    return ChildPageRequest(
        first=page_size(first, MAX_PAGE_SIZE),
        after=parse_position_cursor(after, kind) if after else None,
        applied=applied,
    )


def _session_id(args: dict[str, Any]) -> UUID:
    return parse_id(args["id"])


def _sessions(args: dict[str, Any]) -> SessionPageRequest:
    return sessions_page(args["first"], args["after"], args["status"])


def _children(kind: CursorKind) -> ArgumentReader:
    def read(args: dict[str, Any]) -> ChildPageRequest:
        return child_page(args["first"], args["after"], kind, args.get("applied"))

    return read


ARGUMENT_READERS: dict[tuple[str, str], ArgumentReader] = {
    ("Query", "session"): _session_id,
    ("Query", "sessions"): _sessions,
    ("Session", "revisions"): _children(CursorKind.REVISION),
    ("Session", "drafts"): _children(CursorKind.DRAFT),
    ("Session", "resolutions"): _children(CursorKind.RESOLUTION),
}
