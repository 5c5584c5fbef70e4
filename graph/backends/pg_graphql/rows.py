"""pg_graphql's nodes as the port's rows: pg_graphql writes JSON as strings, timestamps as
text and keys as text; a row holds them as Postgres gives them to asyncpg (parsed JSON,
aware datetimes, UUIDs), named by column. Which column is which kind comes from the
graph's description."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from graphql import GraphQLSchema

from graph.backends.base import Row
from graph.backends.pg_graphql.documents import NODE_TYPES
from graph.schema.model import Kind, camel, columns


def _uuid(value: Any) -> UUID | None:
    return UUID(value) if value is not None else None


def _json(value: Any) -> Any:
    return json.loads(value) if value is not None else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _same(value: Any) -> Any:
    return value


_FROM_PG_GRAPHQL: dict[Kind, Callable[[Any], Any]] = {
    Kind.ID: _uuid,
    Kind.JSON: _json,
    Kind.DATETIME: _time,
    Kind.TEXT_LIST: lambda value: list(value) if value is not None else None,
}


_KEYS: dict[str, Callable[[Any], Any]] = {
    "session_id": _uuid,
    "revision_id": _uuid,
    "draft_id": _uuid,
    "resolution_id": _uuid,
    "row_id": _uuid,
}


class Rows:
    """For each node type: (pg_graphql field, column, conversion), built once."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self._shapes: dict[str, list[tuple[str, str, Callable[[Any], Any]]]] = {}
        for type_name, keys in NODE_TYPES.items():
            shape = [
                (camel(c.column), c.column, _FROM_PG_GRAPHQL.get(c.kind, _same))
                for c in columns(schema, type_name)
            ]
            shape += [(camel(key), key, _KEYS.get(key, _same)) for key in keys]
            self._shapes[type_name] = shape

    def row(self, type_name: str, node: dict[str, Any]) -> Row:
        return {column: convert(node[field]) for field, column, convert in self._shapes[type_name]}
