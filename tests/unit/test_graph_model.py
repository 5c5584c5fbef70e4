"""The one description of the graph (graph/schema/model.py): every field of every object
type says where its value comes from, or that the executor answers it and why; and what
is described compiles on both fast paths."""

from __future__ import annotations

from graphql import GraphQLObjectType, get_named_type

from graph.backends.pg_graphql.compiled import compile_read as compile_upstream
from graph.backends.postgres.compiled import compile_read as compile_sql
from graph.limits import Limits, validation_rules
from graph.reads.planner import plan_query
from graph.schema import build_schema
from graph.schema.model import (
    Caller,
    Column,
    ExecutorOnly,
    Structure,
    camel,
    described_fields,
    graph_schema,
    kind_of,
)

SCHEMA = build_schema()._schema


def test_every_field_says_where_it_comes_from_or_why_the_executor_answers_it() -> None:
    missing = [
        f"{type_name}.{field}"
        for type_name, field, read in described_fields(SCHEMA)
        if read is None
    ]
    assert missing == [], "describe these fields (graph/schema/model.py)"
    reasons = [
        read.reason for _, _, read in described_fields(SCHEMA) if isinstance(read, ExecutorOnly)
    ]
    assert all(reason.strip() for reason in reasons)


def test_every_column_has_a_kind_the_compilers_write() -> None:
    for type_name, field, read in described_fields(SCHEMA):
        if isinstance(read, Column):
            graphql_type = SCHEMA.get_type(type_name)
            assert isinstance(graphql_type, GraphQLObjectType)
            kind_of(graphql_type.fields[field].type)  # raises for a type without a kind


def _selection(type_name: str, depth: int = 0) -> str:
    """Every described field of a type, its object fields expanded (one level of
    connections, so the document stays within the depth limit)."""
    graphql_type = SCHEMA.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth < 4:
                parts.append(f"{name} {{ {_selection(named.name, depth + 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts) or "__typename"


def test_a_document_selecting_every_described_field_compiles_on_both_paths() -> None:
    query = (
        "query Everything($id: ID!) { viewer { id } "
        f"session(id: $id) {{ {_selection('Session')} }} "
        f"sessions {{ {_selection('SessionConnection')} }} }}"
    )
    limits = Limits(max_depth=20, max_aliases=100, max_tokens=20_000, max_root_fields=10)
    plan = plan_query(
        SCHEMA, query, None, rules=validation_rules(limits), max_tokens=limits.max_tokens
    )
    assert plan is not None, "a described field the planner leaves to the executor"
    assert compile_sql(plan) is not None, "a described field the SQL compiler cannot write"
    assert compile_upstream(plan) is not None, "a described field pg_graphql's cannot ask for"


def test_roots_and_structures_are_what_the_compilers_know() -> None:
    reads = {(t, f): r for t, f, r in described_fields(SCHEMA)}
    assert isinstance(reads[("Query", "viewer")], Caller)
    for type_name in ("PageInfo", "SessionEdge", "SessionConnection"):
        assert all(isinstance(read, Structure) for (t, _), read in reads.items() if t == type_name)


def test_pg_graphql_names_columns_by_inflection() -> None:
    assert camel("finalized_at") == "finalizedAt"
    assert camel("id") == "id"
    assert graph_schema() is graph_schema()  # built once
