"""Field arguments as the store needs them: the one place their rules live.

The resolvers call these, and so do compiled reads (through each field's description,
graph/schema/model.py), so a value one path refuses the other refuses too.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any
from uuid import UUID

from graph.backends.base import (
    MAX_PAGE_SIZE,
    ActivityPageRequest,
    ChildPageRequest,
    SessionPageRequest,
)
from graph.cursors import (
    CursorKind,
    parse_activity_cursor,
    parse_position_cursor,
    parse_session_cursor,
)
from graph.errors import BadUserInput
from graph.schema.ids import parse_id
from graph.schema.model import Arguments

DEFAULT_SESSIONS_PAGE = 20
DEFAULT_ACTIVITY_PAGE = 20


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


def activity_page(first: int | None, after: str | None) -> ActivityPageRequest:
    return ActivityPageRequest(
        first=page_size(first, DEFAULT_ACTIVITY_PAGE),
        after=parse_activity_cursor(after) if after else None,
    )


def child_page(
    first: int | None, after: str | None, kind: CursorKind, applied: bool | None = None
) -> ChildPageRequest:
    return ChildPageRequest(
        first=page_size(first, MAX_PAGE_SIZE),
        after=parse_position_cursor(after, kind) if after else None,
        applied=applied,
    )


def _children(kind: CursorKind) -> Callable[[dict[str, Any]], ChildPageRequest]:
    def read(args: dict[str, Any]) -> ChildPageRequest:
        return child_page(args.get("first"), args.get("after"), kind, args.get("applied"))

    return read


# Each field's arguments, as the store takes them (graph/schema/model.py's Arguments).
SESSION_ID: Arguments[UUID] = Arguments("a session id", lambda args: parse_id(args["id"]))
SESSIONS_PAGE: Arguments[SessionPageRequest] = Arguments(
    "a page of sessions",
    lambda args: sessions_page(args.get("first"), args.get("after"), args.get("status")),
)
REVISION_PAGES: Arguments[ChildPageRequest] = Arguments(
    "a page of revisions", _children(CursorKind.REVISION)
)
DRAFT_PAGES: Arguments[ChildPageRequest] = Arguments(
    "a page of drafts", _children(CursorKind.DRAFT)
)
RESOLUTION_PAGES: Arguments[ChildPageRequest] = Arguments(
    "a page of resolutions", _children(CursorKind.RESOLUTION)
)
DRAFT_VERSION: Arguments[int] = Arguments("a draft version", lambda args: int(args["version"]))
ACTIVITY_PAGES: Arguments[ActivityPageRequest] = Arguments(
    "a page of activity", lambda args: activity_page(args.get("first"), args.get("after"))
)
