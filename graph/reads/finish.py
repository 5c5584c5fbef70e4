"""What a compiled read leaves to Python: a hole's suggestions (graph/spec/suggestions.py).

Suggestions are one pure function in the domain layer, so no compiler writes them in its
store's language. Where a hole's `suggestions` go, a compiler writes the inputs instead:
`[]` for a hole some resolution answers, else `{"hole": ..., "path": ..., "ir": ...}`
(the hole's JSON, where it sits, the draft's IR). `finisher(plan)` replaces each with the
suggestions as the selection asks for them; a plan that selects none needs no finisher,
and its response passes through as the store wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.reads.plan import TYPENAME, PlannedField, ReadPlan
from graph.schema.model import Suggested
from graph.spec.holes import HoleAt
from graph.spec.suggestions import Suggestion, suggest

Finish = Callable[[dict[str, Any]], None]


def suggestions(
    fields: Sequence[PlannedField], hole: Mapping[str, Any], path: str, ir: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """An OPEN hole's suggestions, each as `fields` select it."""
    return [
        {field.key: _value(field, found) for field in fields}
        for found in suggest(HoleAt(path, hole), ir)
    ]


def _value(field: PlannedField, found: Suggestion) -> Any:
    if field.name == TYPENAME:
        return field.parent
    read = field.read
    if not isinstance(read, Suggested) or read.key is None:
        raise TypeError(f"{field.parent}.{field.name} is not a suggestion's field")
    if read.key == "resolution_type":
        return found.resolution_type.upper()  # the enum's name, as Strawberry writes it
    return getattr(found, read.key)


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    suggestions: PlannedField | None  # the field to compute here, or
    inner: tuple[_Step, ...] = ()  # the steps below this key


def finisher(plan: ReadPlan) -> Finish | None:
    """Completes a compiled read's `data` in place; None when there is nothing to do."""
    steps = _steps(plan.fields)
    if not steps:
        return None
    return lambda data: _walk(steps, data)


def _steps(fields: Sequence[PlannedField]) -> tuple[_Step, ...]:
    found = []
    for field in fields:
        read = field.read
        if isinstance(read, Suggested) and read.key is None:
            found.append(_Step(field.key, field))
        elif field.children:
            inner = _steps(field.children)
            if inner:
                found.append(_Step(field.key, None, inner))
    return tuple(found)


def _walk(steps: tuple[_Step, ...], value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(steps, item)
        return
    if not isinstance(value, dict):
        return  # null
    for step in steps:
        if step.suggestions is None:
            _walk(step.inner, value[step.key])
            continue
        inputs = value[step.key]
        if isinstance(inputs, dict):
            value[step.key] = suggestions(
                step.suggestions.children, inputs["hole"], inputs["path"], inputs["ir"]
            )
