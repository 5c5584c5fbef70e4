"""The one description of the graph (graph/schema/model.py): every field of every object
type says where its value comes from, or that the executor answers it and why; and what
is described compiles on both fast paths."""

from __future__ import annotations

from graphql import GraphQLObjectType, get_named_type, is_non_null_type

from graph.backends.pg_graphql.compiled import compile_read as compile_upstream
from graph.backends.postgres.compiled import compile_read as compile_sql
from graph.limits import Limits, validation_rules
from graph.reads.plan import PlannedField
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
    read_of,
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
    """Every field of a type the compilers are to answer, its object fields expanded to a
    depth that reaches every type (within the document depth limit); a required
    argument gets a literal."""
    graphql_type = SCHEMA.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        if isinstance(read_of(field), ExecutorOnly):
            continue
        required = [f"{arg}: 1" for arg, a in field.args.items() if is_non_null_type(a.type)]
        head = f"{name}({', '.join(required)})" if required else name
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth < 6:
                parts.append(f"{head} {{ {_selection(named.name, depth + 1)} }}")
        else:
            parts.append(head)
    return " ".join(parts) or "__typename"


def test_a_document_selecting_every_described_field_compiles_on_both_paths() -> None:
    query = (
        "query Everything($id: ID!) { viewer { id } "
        f"session(id: $id) {{ {_selection('Session')} }} "
        f"sessions {{ {_selection('SessionConnection')} }} }}"
    )
    limits = Limits(max_depth=20, max_aliases=100, max_tokens=200_000, max_root_fields=10)
    plan = plan_query(
        SCHEMA, query, None, rules=validation_rules(limits), max_tokens=limits.max_tokens
    )
    assert plan is not None, "a described field the planner leaves to the executor"
    assert compile_sql(plan) is not None, "a described field the SQL compiler cannot write"
    assert compile_upstream(plan) is not None, "a described field pg_graphql's cannot ask for"
    reached = {field.parent for field in _planned(plan.fields)}
    for type_name in ("Hole", "Suggestion", "Spec", "Intent", "Signature", "Parameter"):
        assert type_name in reached, f"the document does not reach {type_name}"
    executor_only = {
        (t, f)
        for t, f, read in described_fields(SCHEMA)
        if t in reached and isinstance(read, ExecutorOnly)
    }
    assert executor_only == {("Draft", "compare")}, "left to the executor, in a read"


def _planned(fields: tuple[PlannedField, ...]) -> list[PlannedField]:
    return [f for field in fields for f in (field, *_planned(field.children))]


def test_roots_and_structures_are_what_the_compilers_know() -> None:
    reads = {(t, f): r for t, f, r in described_fields(SCHEMA)}
    assert isinstance(reads[("Query", "viewer")], Caller)
    for type_name in ("PageInfo", "SessionEdge", "SessionConnection"):
        assert all(isinstance(read, Structure) for (t, _), read in reads.items() if t == type_name)


def test_pg_graphql_names_columns_by_inflection() -> None:
    assert camel("finalized_at") == "finalizedAt"
    assert camel("id") == "id"
    assert graph_schema() is graph_schema()  # built once
