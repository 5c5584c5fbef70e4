"""What a compiled read leaves to Python: a hole's suggestions (graph/spec/suggestions.py).

Suggestions are one pure function in the domain layer, so no compiler writes them in its
store's language. A compiler writes the inputs instead: a list of holes that select
suggestions comes as `{"ir": <the draft's IR>, "holes": [...]}` (the IR once per list;
`[]` when there is no draft),
and in each hole, where its `suggestions` go, `[]` for a hole some resolution answers,
else `{"hole": <its JSON>, "path": ...}`. `finisher(plan)` turns these into the
suggestions as the selection asks for them; a plan that selects none needs no finisher,
and its response passes through as the store wrote it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.reads.plan import TYPENAME, PlannedField, ReadPlan
from graph.schema.model import Holes, JsonKey, Suggested
from graph.spec.holes import HoleAt
from graph.spec.suggestions import Suggestion, suggest

Finish = Callable[[dict[str, Any]], None]


SuggestionsOf = Callable[[Mapping[str, Any], str, Mapping[str, Any]], list[dict[str, Any]]]


def suggestions_shape(fields: Sequence[PlannedField]) -> SuggestionsOf:
    """(hole JSON, path, IR) -> an OPEN hole's suggestions, each as `fields` select it."""
    parts = [(field.key, _part(field)) for field in fields]

    def shape(hole: Mapping[str, Any], path: str, ir: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {key: part(found) for key, part in parts} for found in suggest(HoleAt(path, hole), ir)
        ]

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


def _is_hole_list(field: PlannedField) -> bool:
    read = field.read
    return isinstance(read, Holes) or (isinstance(read, JsonKey) and read.key == "holes")


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    suggestions: SuggestionsOf | None = None  # the field computed here, or
    unwraps: bool = False  # a wrapped hole list: the IR for the steps below, or
    inner: tuple[_Step, ...] = ()  # the steps below this key


def finisher(plan: ReadPlan) -> Finish | None:
    """Completes a compiled read's `data` in place; None when there is nothing to do."""
    steps = _steps(plan.fields)
    if not steps:
        return None
    return lambda data: _walk(steps, data, None)


def _steps(fields: Sequence[PlannedField]) -> tuple[_Step, ...]:
    found = []
    for field in fields:
        if is_suggestions(field):
            found.append(_Step(field.key, suggestions=suggestions_shape(field.children)))
        elif field.children:
            inner = _steps(field.children)
            unwraps = _is_hole_list(field) and any(is_suggestions(f) for f in field.children)
            if inner:
                found.append(_Step(field.key, unwraps=unwraps, inner=inner))
    return tuple(found)


def _walk(steps: tuple[_Step, ...], value: Any, ir: Mapping[str, Any] | None) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(steps, item, ir)
        return
    if not isinstance(value, dict):
        return  # null
    for step in steps:
        if step.suggestions is not None:
            inputs = value[step.key]
            if isinstance(inputs, dict) and ir is not None:
                value[step.key] = step.suggestions(inputs["hole"], inputs["path"], ir)
        elif step.unwraps:
            wrapped = value[step.key]
            if isinstance(wrapped, dict):  # else [], a session without a draft
                value[step.key] = wrapped["holes"]
                _walk(step.inner, wrapped["holes"], wrapped["ir"])
        else:
            _walk(step.inner, value[step.key], ir)
