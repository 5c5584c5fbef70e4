"""A mutation's arguments as Strawberry hands them to its resolver, converted by a plan
made once per argument type.

Strawberry's `convert_arguments` inspects every type again on each request (its generics,
its lazy types, its scalar registry): a fifth of a compiled `createSession`'s gateway CPU
(cProfile over 600 requests, 2026-12-01). `converter` walks the types once, at planning,
into plain functions that do what it does for the types this graph's inputs use:
scalars and enums as graphql-core coerced them, lists copied, input objects built with
their Python names (a field without a default first None), null and UNSET kept. A type
outside that (a custom `from_input`, `Maybe`, a GlobalID) gets Strawberry's own
conversion. tests/unit/test_inputs.py proves both agree on generated inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING
from typing import TYPE_CHECKING, Any

from strawberry.scalars import is_scalar
from strawberry.types.arguments import StrawberryArgument, convert_arguments
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

if TYPE_CHECKING:
    from strawberry.schema.schema import Schema as StrawberrySchema

Convert = Callable[[Any], Any]
ConvertArguments = Callable[[Mapping[str, Any]], dict[str, Any]]


class _Unplanned(Exception):
    """A type this module does not plan: Strawberry converts it."""


def converter(
    arguments: Sequence[StrawberryArgument], schema: StrawberrySchema
) -> ConvertArguments:
    """graphql-core's argument values → the resolver's keyword arguments."""
    registry, config = schema.schema_converter.scalar_registry, schema.config
    try:
        planned = [
            (
                config.name_converter.from_argument(argument),
                argument.python_name,
                _plan(argument.type, schema),
            )
            for argument in arguments
        ]
    except _Unplanned:
        listed = list(arguments)
        return lambda values: convert_arguments(dict(values), listed, registry, config)

    def convert(values: Mapping[str, Any]) -> dict[str, Any]:
        return {python: plan(values[name]) for name, python, plan in planned if name in values}

    return convert


def _identity(value: Any) -> Any:
    return value


def _plan(type_: StrawberryType | type, schema: StrawberrySchema) -> Convert:
    if isinstance(type_, StrawberryOptional):
        if type(type_) is not StrawberryOptional:  # Maybe and other refinements
            raise _Unplanned(str(type_))
        return _plan(type_.of_type, schema)
    if isinstance(type_, LazyType):
        return _plan(type_.resolve_type(), schema)
    if isinstance(type_, StrawberryList):
        return _list(type_.of_type, schema)
    if _is_leaf(type_, schema):
        return _identity
    if has_enum_definition(type_):
        return _identity
    if has_object_definition(type_):
        return _input_object(type_, schema)
    raise _Unplanned(str(type_))


def _is_leaf(type_: StrawberryType | type, schema: StrawberrySchema) -> bool:
    registry = schema.schema_converter.scalar_registry
    if getattr(type_, "__name__", None) == "GlobalID":
        raise _Unplanned("GlobalID")  # Strawberry decodes it
    return is_scalar(type_, registry) or isinstance(type_, StrawberryEnumDefinition)


def _list(item: StrawberryType | type, schema: StrawberrySchema) -> Convert:
    inner = _plan(item, schema)

    def convert(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        if inner is _identity:  # copied: graphql-core shares one default between requests
            return list(value)
        return [inner(x) for x in value]

    return convert


def _input_object(cls: type, schema: StrawberrySchema) -> Convert:
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    if definition.from_input is not None:
        raise _Unplanned(cls.__name__)
    names = schema.config.name_converter
    defaults = (
        {
            f.python_name: None
            for f in definition.fields
            if f.default_value is MISSING and f.default_factory is MISSING
        }
        if definition.is_input
        else {}
    )
    fields = [
        (
            names.from_field(f),
            f.python_name,
            _plan(f.resolve_type(type_definition=definition), schema),
        )
        for f in definition.fields
    ]

    def convert(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(defaults)
        for name, python, plan in fields:
            if name in value:
                kwargs[python] = plan(value[name])
        return cls(**kwargs)

    return convert
