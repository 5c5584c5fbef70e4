"""The planned conversion of a mutation's arguments (graph/reads/inputs.py) gives what
Strawberry's own `convert_arguments` gives the resolver, on generated inputs of every
mutation of the graph."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import convert_arguments

from graph.reads.inputs import converter
from graph.schema import build_schema

SCHEMA = build_schema()
MUTATIONS = SCHEMA._schema.mutation_type.fields  # type: ignore[union-attr]

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def coerced(type_: GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values as graphql-core hands them to a resolver: enums as their Python values."""
    if isinstance(type_, GraphQLNonNull):
        return _value(type_.of_type)
    return st.none() | _value(type_)


def _value(type_: GraphQLInputType) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        return st.lists(coerced(type_.of_type), max_size=3)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from([value.value for value in type_.values.values()])
    if isinstance(type_, GraphQLInputObjectType):
        fields = {name: coerced(field.type) for name, field in type_.fields.items()}
        required = {
            n: s for n, s in fields.items() if isinstance(type_.fields[n].type, GraphQLNonNull)
        }
        optional = {n: s for n, s in fields.items() if n not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(type_, GraphQLScalarType) and type_.name == "Int":
        return st.integers(-5, 5)
    if isinstance(type_, GraphQLScalarType) and type_.name == "JSON":
        return _json
    return st.text(max_size=6)


@st.composite
def mutation_arguments(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(MUTATIONS)))
    field = MUTATIONS[name]
    values = {arg: draw(coerced(argument.type)) for arg, argument in field.args.items()}
    return name, values


@settings(max_examples=300, deadline=None)
@given(mutation_arguments())
def test_planned_conversion_matches_strawberrys(case: tuple[str, dict[str, Any]]) -> None:
    name, values = case
    arguments = MUTATIONS[name].extensions["strawberry-definition"].arguments
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    expected = convert_arguments(dict(values), arguments, registry, config)
    assert converter(arguments, SCHEMA)(values) == expected


def test_every_mutation_input_is_planned_not_handed_back_to_strawberry() -> None:
    for name, field in MUTATIONS.items():
        convert = converter(field.extensions["strawberry-definition"].arguments, SCHEMA)
        assert convert.__qualname__ == "converter.<locals>.convert", name
