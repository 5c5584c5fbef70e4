"""SQL for the stand-in: rows projected to pg_graphql's JSON forms, filters, order, cursors.

Every value is bound as text and cast to the column's type, as pg_graphql binds
`$n::<type>`, so Postgres itself refuses malformed values with its own message.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from tests.pg_graphql_standin.inputs import ABSENT, GraphQLFailure
from tests.pg_graphql_standin.reflect import Column, ScalarType, Table


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def json_expr(column: Column, alias: str = "t") -> str:
    """The column as pg_graphql writes it: JSON as a string, bigint/numeric as strings."""
    ref = f"{alias}.{quote(column.name)}"
    scalar = column.type.scalar
    if scalar == "JSON" and not column.type.is_list:
        return f"to_jsonb({ref} #>> '{{}}')"
    if scalar in ("BigInt", "BigFloat") and not column.type.is_list:
        return f"to_jsonb({ref}::text)"
    return f"to_jsonb({ref})"


def node_id_expr(table: Table, alias: str = "t") -> str:
    pk = ", ".join(f"{alias}.{quote(c)}" for c in table.primary_key)
    return (
        "translate(encode(convert_to(jsonb_build_array('public', "
        f"{_literal(table.name)}, {pk})::text, 'utf8'), 'base64'), E'\\n', '')"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def row_expr(table: Table, alias: str = "t") -> str:
    pairs = [f"{_literal(c.name)}, {json_expr(c, alias)}" for c in table.columns]
    pairs.append(f"'__node_id', to_jsonb({node_id_expr(table, alias)})")
    # jsonb_build_object takes at most 100 arguments: build in chunks.
    chunks = [pairs[i : i + 40] for i in range(0, len(pairs), 40)]
    return " || ".join("jsonb_build_object(" + ", ".join(chunk) + ")" for chunk in chunks)


def cast(t: ScalarType) -> str:
    return t.sql


@dataclass
class Params:
    values: list[Any] = field(default_factory=list)

    def bind(self, value: Any, sql_type: str) -> str:
        self.values.append(_as_text(value))
        base = sql_type[:-2] if sql_type.endswith("[]") else sql_type
        if isinstance(value, list):
            return f"(${len(self.values)}::text[])::{base}[]"
        return f"(${len(self.values)}::text)::{sql_type}"


def _as_text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


_OPERATORS = {
    "eq": "=",
    "neq": "<>",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "like": "like",
    "ilike": "ilike",
    "regex": "~",
    "iregex": "~*",
    "startsWith": "^@",
}
_LIST_OPERATORS = {"contains": "@>", "containedBy": "<@", "overlaps": "&&", "eq": "="}


def filter_sql(table: Table, value: Any, params: Params, alias: str = "t") -> str:
    """A validated <Table>Filter as SQL; absent operands are skipped, nulls kept."""
    if value is ABSENT or value is None:
        return "true"
    clauses: list[str] = []
    for key, operand in value.items():
        if operand is ABSENT:
            continue
        if key == "and" and table.column("and") is None:
            parts = [filter_sql(table, v, params, alias) for v in operand or [] if v is not ABSENT]
            if parts:
                clauses.append("(" + " and ".join(parts) + ")")
        elif key == "or" and table.column("or") is None:
            parts = [filter_sql(table, v, params, alias) for v in operand or [] if v is not ABSENT]
            if parts:
                clauses.append("(" + " or ".join(parts) + ")")
        elif key == "not" and table.column("not") is None:
            if operand:
                clauses.append(f"(not {filter_sql(table, operand, params, alias)})")
        elif key == "nodeId":
            clauses.append(_node_id_filter(table, operand, params, alias))
        else:
            column = table.column(key)
            if column is None:
                raise GraphQLFailure("Filter type error, attempted filter on non-column")
            clauses.extend(_column_filter(column, operand, params, alias))
    return "(" + " and ".join(clauses) + ")" if clauses else "true"


def _column_filter(column: Column, ops: Any, params: Params, alias: str) -> list[str]:
    if ops is None:
        return ["false"]
    ref = f"{alias}.{quote(column.name)}"
    out = []
    for op, operand in ops.items():
        if operand is ABSENT:
            continue
        if op == "is":
            if operand is None:
                raise GraphQLFailure("Error transpiling Is filter value type")
            out.append(f"{ref} is {'null' if operand == 'NULL' else 'not null'}")
        elif op == "in":
            if operand is None:
                out.append("false")
            else:
                out.append(f"{ref} = any({params.bind(list(operand), column.type.sql + '[]')})")
        elif column.type.is_list:
            bound = "null" if operand is None else params.bind(list(operand), column.type.sql)
            out.append(f"{ref} {_LIST_OPERATORS[op]} {bound}")
        else:
            bound = "null" if operand is None else params.bind(operand, column.type.sql)
            out.append(f"{ref} {_OPERATORS[op]} {bound}")
    return out


def _node_id_filter(table: Table, operand: Any, params: Params, alias: str) -> str:
    if operand is None or operand.get("eq") in (ABSENT, None):
        return "true"
    schema, name, pk = decode_node_id(operand["eq"])
    if schema != "public" or name != table.name:
        raise GraphQLFailure("nodeId belongs to a different collection")
    clauses = [
        f"{alias}.{quote(col)} = {params.bind(value, table.column_named(col).type.sql)}"
        for col, value in zip(table.primary_key, pk, strict=True)
    ]
    return "(" + " and ".join(clauses) + ")"


def decode_node_id(node_id: str) -> tuple[Any, Any, list[Any]]:
    try:
        parts = json.loads(base64.b64decode(node_id, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise GraphQLFailure("Invalid value passed to nodeId argument. Error 2") from exc
    if not isinstance(parts, list) or len(parts) < 3:
        raise GraphQLFailure("Invalid value passed to nodeId argument. Error 4")
    return parts[0], parts[1], parts[2:]


@dataclass(frozen=True)
class OrderItem:
    column: Column
    direction: str  # AscNullsFirst | AscNullsLast | DescNullsFirst | DescNullsLast

    @property
    def descending(self) -> bool:
        return self.direction.startswith("Desc")

    @property
    def nulls_first(self) -> bool:
        return self.direction.endswith("NullsFirst")

    def sql(self, alias: str = "t", reverse: bool = False) -> str:
        descending = self.descending != reverse
        nulls_first = self.nulls_first != reverse
        return (
            f"{alias}.{quote(self.column.name)} {'desc' if descending else 'asc'} "
            f"nulls {'first' if nulls_first else 'last'}"
        )


def order_items(table: Table, order_by: Any) -> list[OrderItem]:
    items: list[OrderItem] = []
    for element in order_by or []:
        for key, direction in element.items():
            if direction in (ABSENT, None):
                continue
            column = table.column(key)
            if column is None:
                raise GraphQLFailure("Order re-validation error 6")
            items.append(OrderItem(column, direction))
    # pg_graphql always appends the primary key, ascending, even when it is already ordered on.
    items.extend(OrderItem(table.column_named(pk), "AscNullsLast") for pk in table.primary_key)
    return items


def cursor_expr(items: list[OrderItem], alias: str = "t") -> str:
    values = ", ".join(f"{alias}.{quote(i.column.name)}" for i in items)
    return (
        f"translate(encode(convert_to(jsonb_build_array({values})::text, 'utf8'), 'base64'), "
        "E'\\n', '')"
    )


def decode_cursor(cursor: str, items: list[OrderItem]) -> list[Any]:
    try:
        raw = base64.b64decode(cursor, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GraphQLFailure("Failed to decode cursor, error 1") from exc
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise GraphQLFailure("Failed to decode cursor, error 2") from exc
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise GraphQLFailure("Failed to decode cursor, error 3") from exc
    if not isinstance(values, list):
        raise GraphQLFailure("Failed to decode cursor, error 4")
    if len(values) != len(items):
        raise GraphQLFailure("orderBy clause incompatible with pagination cursor")
    return values


def after_sql(
    items: list[OrderItem], values: list[Any], params: Params, reverse: bool, alias: str = "t"
) -> str:
    """Rows strictly after (or, reversed, before) the cursor's position in this order."""
    ors = []
    for index, item in enumerate(items):
        ands = []
        for prior, value in zip(items[:index], values[:index], strict=True):
            ref = f"{alias}.{quote(prior.column.name)}"
            bound = params.bind(value, prior.column.type.sql) if value is not None else None
            ands.append(f"{ref} is null" if bound is None else f"{ref} = {bound}")
        ref = f"{alias}.{quote(item.column.name)}"
        value = values[index]
        descending = item.descending != reverse
        nulls_first = item.nulls_first != reverse
        if value is None:
            ands.append("false" if nulls_first is False else f"{ref} is not null")
        else:
            bound = params.bind(value, item.column.type.sql)
            comparison = f"{ref} {'<' if descending else '>'} {bound}"
            if not nulls_first:
                comparison = f"({comparison} or {ref} is null)"
            ands.append(comparison)
        ors.append("(" + " and ".join(ands) + ")")
    return "(" + " or ".join(ors) + ")"
