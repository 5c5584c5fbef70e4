"""Assembles the Strawberry schema: Query, Mutation, and the request pipeline's extensions."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from graph.errors import GraphError
from graph.limits import Limits, validation_rules
from graph.schema.mutations import Mutation
from graph.schema.queries import Query
from graph.schema.subscriptions import Subscription

logger = logging.getLogger("graph.errors")

_CACHE_SIZE = 512


class SessionGraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log bugs in full; expected errors (bad input, not found, ...) are the client's news."""
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GraphError | GraphQLError):
                continue  # a GraphQLError as the cause: a variable's coercion, the client's
            logger.error("unexpected error in %s", error.path, exc_info=original)


def build_schema(
    *,
    introspection: bool = True,
    limits: Limits | None = None,
    extra_extensions: Sequence[type[SchemaExtension]] = (),
) -> strawberry.Schema:
    # Extensions are factories: Strawberry makes one per request. The caches they use
    # are module-level and bounded, and the validation rules are the same class objects
    # on every request, so the validation cache keeps hitting (Strawberry issue #4635).
    extensions: list[type[SchemaExtension] | SchemaExtension | object] = [
        lambda: ParserCache(maxsize=_CACHE_SIZE),
        lambda: ValidationCache(maxsize=_CACHE_SIZE),
    ]
    limits = limits or Limits()
    rules = validation_rules(limits, introspection=introspection)
    extensions.append(lambda: AddValidationRules(rules))
    extensions.append(lambda: MaxTokensLimiter(limits.max_tokens))
    extensions.extend(extra_extensions)
    return SessionGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
    )


__all__ = ["build_schema"]
