"""A hole's `suggestions` as a selection asks for them (graph/spec/suggestions.py computes
them; a compiled read calls this after its round trip, since no store computes them)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from graph.reads.plan import TYPENAME, PlannedField
from graph.schema.model import Suggested
from graph.spec.holes import HoleAt
from graph.spec.suggestions import Suggester, Suggestion

SuggestionsOf = Callable[[HoleAt, Suggester], list[dict[str, Any]]]


def suggestions_shape(fields: Sequence[PlannedField]) -> SuggestionsOf:
    """(hole, its IR's Suggester) -> an OPEN hole's suggestions, as `fields` select them."""
    parts = [(field.key, _part(field)) for field in fields]

    def shaped(found: tuple[Suggestion, ...]) -> list[dict[str, Any]]:
        return [{key: part(one) for key, part in parts} for one in found]

    def shape(at: HoleAt, suggester: Suggester) -> list[dict[str, Any]]:
        return suggester.shaped(at, shaped)  # holes alike share one list in the response

    return shape


def _part(field: PlannedField) -> Callable[[Suggestion], Any]:
    if field.name == TYPENAME:
        parent = field.parent
        return lambda _found: parent
    read = field.read
    if not isinstance(read, Suggested) or read.key is None:
        raise TypeError(f"{field.parent}.{field.name} is not a suggestion's field")
    if read.key == "resolution_type":  # the enum's name, as Strawberry writes it
        return lambda found: found.resolution_type.upper()
    return operator.attrgetter(read.key)


def is_suggestions(field: PlannedField) -> bool:
    """A hole's list of suggestions (not one suggestion's field)."""
    return isinstance(field.read, Suggested) and field.read.key is None
