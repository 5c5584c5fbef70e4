"""Values as pg_graphql writes them, and as our responses and its requests need them:
conversions by kind, timestamps, cursors, the sessions filter."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from graph.schema.model import Kind


def text(value: Any) -> Any:
    return value


# Postgres's JSON timestamps trim trailing zeros of the fraction; isoformat() keeps six.
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?([+-]\d\d:\d\d)")


def timestamp(value: str | None) -> str | None:
    """`datetime.fromisoformat(value).isoformat()`, without building the datetime for
    pg_graphql's usual shape (twenty nodes carry forty of them)."""
    if value is None:
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None or match[3] == "-00:00":  # isoformat() writes that one as +00:00
        return datetime.fromisoformat(value).isoformat()
    seconds, fraction, offset = match.groups()
    if fraction is None or fraction.strip("0") == "":
        return seconds + offset
    return f"{seconds}.{fraction.ljust(6, '0')}{offset}"


# How a column's value, as pg_graphql writes it, is written in our response, by kind.
TO_RESPONSE: dict[Kind, Callable[[Any], Any]] = {
    Kind.ID: text,
    Kind.TEXT: text,
    Kind.INT: lambda value: int(value) if value is not None else None,
    Kind.FLOAT: lambda value: float(value) if value is not None else None,
    Kind.BOOLEAN: lambda value: bool(value) if value is not None else None,
    Kind.ENUM: lambda value: value.upper() if value is not None else None,
    Kind.JSON: lambda value: json.loads(value) if value is not None else None,
    Kind.DATETIME: timestamp,
    Kind.TEXT_LIST: lambda value: list(value) if value is not None else None,
}


def session_filter(page: Any) -> dict[str, Any]:
    return {"status": {"eq": page.status}} if page.status else {}


def upstream_session_cursor(page: Any) -> str | None:
    """pg_graphql's cursor for our position: [updatedAt, id] (it appends the key)."""
    after = page.after
    if after is None:
        return None
    return pg_graphql_cursor(after.updated_at.isoformat(), str(after.id))


def pg_graphql_cursor(*values: object) -> str:
    """pg_graphql's cursor: base64 of the JSON array of the row's order values."""
    return base64.b64encode(json.dumps(list(values)).encode()).decode()


def activity_filter(page: Any) -> dict[str, Any]:
    """pg_graphql's filter for the timeline's rows after a position, newest first by (at,
    row_id): no filter without one."""
    after = page.after
    if after is None:
        return {}
    at = after.at.isoformat()
    return {
        "or": [
            {"at": {"lt": at}},
            {"at": {"eq": at}, "rowKey": {"lt": str(after.id)}},
        ]
    }
