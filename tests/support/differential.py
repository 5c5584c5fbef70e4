"""Comparing two GraphQL answers to one request where the spec lets their errors differ.

The rule (GraphQL spec, "Handling Execution Errors" and "Errors and Non-Null Types"):
an error in a Non-Null position nulls its nearest nullable ancestor (or `data` itself),
and an error under a position that is already null is not added to `errors`. Which of
the failing fields under a nulled position run, and so which of their errors are found
before the null propagates, is left to the implementation (graphql-spec #1182):
graphql-core runs siblings concurrently and cancels the rest once one has nulled their
parent, so the set found depends on timing. So:

1. `data` must be equal, exactly (what is nulled does not depend on timing: a field that
   can fail either fails or sits under a position that is nulled anyway).
2. Errors without a path (parse, validation, variables) must be equal as sets.
3. Every error either side reports must be one the request can raise: it is in the
   *reference* set, found by executing the request without error propagation (the
   `@experimental_disableErrorPropagation` mode of graphql-core: every field runs, every
   error is reported at its own path, nothing is cancelled), with the same path, message,
   code and locations.
4. An error whose position is null in `data` with no null above it (a nullable field that
   failed) must be on both sides.
5. Under each position nulled by propagation, each side reports at least one of the
   reference's errors there (the null is explained), and may report any number of them.

Request ids are left out: they differ on every request by design.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLSchema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

Path = tuple[str | int, ...]
ROOT: Path = ()


class ReferenceExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor without error propagation: every field's error is reported
    where it happened, so one run finds them all, deterministically."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_propagation = False


def without_error_propagation(schema: GraphQLSchema | Any) -> None:
    """Make a Strawberry schema (its `execution_context_class`) execute as the reference."""
    schema.execution_context_class = ReferenceExecutionContext


def _key(error: Mapping[str, Any]) -> str:
    extensions = {k: v for k, v in error.get("extensions", {}).items() if k != "requestId"}
    return json.dumps({**error, "extensions": extensions}, sort_keys=True)


def _null_root(data: Any, path: Sequence[str | int]) -> Path | None:
    """The shallowest position on `path` whose value in `data` is null; None when the whole
    path has values (then the error did not null anything: a real difference)."""
    if data is None:
        return ROOT
    value = data
    for depth, part in enumerate(path, start=1):
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
        if value is None:
            return tuple(path[:depth])
    return None


def assert_same_answer(
    first: Mapping[str, Any],
    second: Mapping[str, Any],
    reference: Mapping[str, Any] | None,
    *,
    context: str = "",
) -> None:
    """Assert `first` and `second` answer one request alike (the rule in this module's
    docstring). `reference` is the request's answer without error propagation; it is only
    read when a side has an error with a path."""
    assert ("data" in first) == ("data" in second), context
    assert first.get("data") == second.get("data"), context
    data = first.get("data")
    sides = [list(first.get("errors") or []), list(second.get("errors") or [])]
    request_errors = [{_key(e) for e in side if not e.get("path")} for side in sides]
    assert request_errors[0] == request_errors[1], context
    field_errors = [{_key(e): e for e in side if e.get("path")} for side in sides]
    if not field_errors[0] and not field_errors[1]:
        return
    assert reference is not None, "a reference answer is needed to judge field errors"
    possible = {_key(e): e for e in reference.get("errors") or [] if e.get("path")}
    at_own_position: set[str] = set()  # rule 4
    under_null: dict[Path, set[str]] = {}  # rule 5, by the nulled position
    for key, error in possible.items():
        root = _null_root(data, error["path"])
        assert root is not None, f"{context}\nan error that nulls nothing: {error}"
        if root == tuple(error["path"]):
            at_own_position.add(key)
        else:
            under_null.setdefault(root, set()).add(key)
    for side in field_errors:
        reported = set(side)
        unknown = reported - set(possible)
        assert not unknown, f"{context}\nerrors the request cannot raise: {unknown}"
        missing = at_own_position - reported
        assert not missing, f"{context}\nerrors missing: {missing}"
        for position, members in under_null.items():
            assert members & reported, f"{context}\nno error explains the null at {position}"
