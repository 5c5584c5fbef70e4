"""Argument values: from the GraphQL AST (with variables) to JSON-like values, then
checked against pg_graphql's input types with its exact error messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql.language import ast

from tests.pg_graphql_standin.reflect import ScalarType, Table


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class GraphQLFailure(Exception):
    """A request error pg_graphql reports as {"message": ...}."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def rust_list(names: list[str]) -> str:
    """Rust's {:?} of a Vec<&str>: ["a", "b"]."""
    return "[" + ", ".join(json.dumps(n) for n in names) + "]"


def value_of(
    node: ast.ValueNode, variables: dict[str, Any], defaults: dict[str, ast.ValueNode]
) -> Any:
    if isinstance(node, ast.VariableNode):
        name = node.name.value
        if name in variables:
            return variables[name]
        if name in defaults:
            return value_of(defaults[name], variables, defaults)
        return ABSENT
    if isinstance(node, ast.NullValueNode):
        return None
    if isinstance(node, ast.IntValueNode):
        return int(node.value)
    if isinstance(node, ast.FloatValueNode):
        return float(node.value)
    if isinstance(node, ast.StringValueNode | ast.EnumValueNode):
        return node.value
    if isinstance(node, ast.BooleanValueNode):
        return node.value
    if isinstance(node, ast.ListValueNode):
        return [value_of(v, variables, defaults) for v in node.values]
    if isinstance(node, ast.ObjectValueNode):
        return {f.name.value: value_of(f.value, variables, defaults) for f in node.fields}
    raise GraphQLFailure("Invalid input")


# Input types, as pg_graphql describes them


@dataclass(frozen=True)
class Scalar:
    name: str
    max_length: int | None = None


@dataclass(frozen=True)
class NonNull:
    inner: Any


@dataclass(frozen=True)
class ListOf:
    inner: Any


@dataclass(frozen=True)
class Enum:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class InputObject:
    name: str
    fields: Callable[[], dict[str, Any]]


FILTER_IS = Enum("FilterIs", ("NULL", "NOT_NULL"))
ORDER_BY_DIRECTION = Enum(
    "OrderByDirection", ("AscNullsFirst", "AscNullsLast", "DescNullsFirst", "DescNullsLast")
)
_COMPARABLE = ("eq", "neq", "lt", "lte", "gt", "gte")


def scalar_input(t: ScalarType) -> Any:
    base = Scalar(t.scalar, t.max_length)
    return ListOf(base) if t.is_list else base


def scalar_filter(t: ScalarType) -> InputObject:
    base = Scalar(t.scalar, t.max_length)
    if t.is_list:
        ops = {op: ListOf(NonNull(base)) for op in ("contains", "containedBy", "eq", "overlaps")}
        ops["is"] = FILTER_IS
        return InputObject(f"{t.scalar}ListFilter", lambda: ops)
    if t.scalar == "UUID":
        names: tuple[str, ...] = ("eq", "neq")
    elif t.scalar in ("Boolean", "Opaque"):
        names = ("eq",)
    else:
        names = _COMPARABLE
    ops = dict.fromkeys(names, base)
    if t.scalar not in ("Boolean", "Opaque"):
        ops["in"] = ListOf(NonNull(base))
    ops["is"] = FILTER_IS
    if t.scalar == "String":
        ops.update(startsWith=base, like=base, ilike=base, regex=base, iregex=base)
    return InputObject(f"{t.scalar}Filter", lambda: ops)


def entity_filter(table: Table) -> InputObject:
    def fields() -> dict[str, Any]:
        out: dict[str, Any] = {
            c.field: scalar_filter(c.type) for c in table.columns if c.type.filterable
        }
        out["nodeId"] = InputObject("IDFilter", lambda: {"eq": Scalar("ID")})
        names = set(out)
        me = entity_filter(table)
        if "and" not in names:
            out["and"] = ListOf(NonNull(me))
        if "or" not in names:
            out["or"] = ListOf(NonNull(me))
        if "not" not in names:
            out["not"] = me
        return out

    return InputObject(f"{table.type_name}Filter", fields)


def entity_order_by(table: Table) -> InputObject:
    return InputObject(
        f"{table.type_name}OrderBy",
        lambda: {c.field: ORDER_BY_DIRECTION for c in table.columns if c.type.orderable},
    )


def insert_input(table: Table) -> InputObject:
    return InputObject(
        f"{table.type_name}InsertInput",
        lambda: {c.field: scalar_input(c.type) for c in table.columns if c.can_insert},
    )


def update_input(table: Table) -> InputObject:
    return InputObject(
        f"{table.type_name}UpdateInput",
        lambda: {c.field: scalar_input(c.type) for c in table.columns if c.can_update},
    )


def _invalid(name: str) -> GraphQLFailure:
    return GraphQLFailure(f"Invalid input for {name} type")


def check(spec: Any, value: Any) -> Any:
    """pg_graphql's validate_arg_from_type: the value, coerced, or its error."""
    if isinstance(spec, NonNull):
        out = check(spec.inner, value)
        if out is ABSENT or out is None:
            raise GraphQLFailure("Invalid input for NonNull type")
        return out
    if value is ABSENT or value is None:
        return value
    if isinstance(spec, ListOf):
        if isinstance(value, list):
            return [check(spec.inner, v) for v in value]
        return [check(spec.inner, value)]
    if isinstance(spec, Enum):
        if isinstance(value, str) and value in spec.values:
            return value
        raise _invalid(spec.name)
    if isinstance(spec, InputObject):
        if not isinstance(value, dict):
            raise _invalid(spec.name)
        fields = spec.fields()
        extra = [k for k in value if k not in fields]
        if extra:
            raise GraphQLFailure(
                f"Input for type {spec.name} contains extra keys {rust_list(extra)}"
            )
        out: dict[str, Any] = {}
        for name, field_spec in fields.items():
            if name in value:
                out[name] = check(field_spec, value[name])
            else:
                check(field_spec, None)
        return out
    assert isinstance(spec, Scalar)
    name = spec.name
    if name == "Int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _invalid(name)
    if name == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise _invalid(name)
    if name == "Boolean":
        if isinstance(value, bool):
            return value
        raise _invalid(name)
    if name == "BigInt":
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
        raise _invalid(name)
    if name == "BigFloat":
        if isinstance(value, str):
            return value
        raise GraphQLFailure("Invalid input for BigFloat type. String required")
    if name == "Opaque":
        return value
    if not isinstance(value, str):
        raise _invalid(name)
    if spec.max_length is not None and len(value) > spec.max_length:
        raise GraphQLFailure(
            f"Invalid input for {name} type. Maximum character length {spec.max_length}"
        )
    return value
