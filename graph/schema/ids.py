"""IDs arrive as strings; the store keys on UUIDs."""

from __future__ import annotations

from uuid import UUID

from graph.errors import BadUserInput


def parse_id(value: str, field: str = "id") -> UUID:
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadUserInput(f"{field} must be a UUID") from exc
