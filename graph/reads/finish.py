"""What a compiled read leaves to Python: hole lists and suggestions.

A compiler writes the inputs where these go, and `finisher(plan)` turns them into the
selection's values after the one round trip:

- a list of an IR's holes (`Draft.holes`, `Session.openHoles`) comes as
  `{"ir": <the draft's IR>, "answers": [{"hole_id", "applied", "node"}, ...]}`, the
  session's answers oldest first, `node` holding, per `resolutions` field of the holes
  (by response key), the answer as that field selects it (`[]` when there is no draft);
  graph/reads/ir_shapes.py shapes the list;
- a clause's holes that select suggestions come as `{"ir": ..., "holes": [...]}` (the IR
  once per list), and in each hole, where its `suggestions` go, `[]` for a hole some
  resolution answers, else `{"hole": <its JSON>, "path": ...}`.

A plan that selects neither needs no finisher, and its response passes through as the store
wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graph.reads.ir_shapes import HoleList, context, hole_list, hole_shape
from graph.reads.plan import PlannedField, ReadPlan
from graph.reads.suggested import SuggestionsOf, is_suggestions, suggestions_shape
from graph.schema.model import Holes, JsonKey
from graph.spec.holes import HoleAt
from graph.spec.suggestions import Suggester

Finish = Callable[[dict[str, Any]], None]


def hole_list_of(field: PlannedField) -> HoleList:
    """The shape of a `Holes` field whose answers' `node`s the store wrote as selected."""
    if not isinstance(field.read, Holes):
        raise TypeError(f"{field.parent}.{field.name} is not a list of an IR's holes")
    return hole_list(hole_shape(field.children, _written_for), field.read)


def _written_for(field: PlannedField) -> Callable[[dict[str, Any]], Any]:
    key = field.key
    return lambda node: node[key]


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    holes: HoleList | None = None  # the field shaped here, or
    suggestions: SuggestionsOf | None = None  # the field computed here, or
    unwraps: bool = False  # a wrapped clause's hole list: the IR for the steps below, or
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
        if isinstance(field.read, Holes):
            found.append(_Step(field.key, holes=hole_list_of(field)))
        elif is_suggestions(field):
            found.append(_Step(field.key, suggestions=suggestions_shape(field.children)))
        elif field.children:
            inner = _steps(field.children)
            unwraps = _is_clause_holes(field) and any(is_suggestions(f) for f in field.children)
            if inner:
                found.append(_Step(field.key, unwraps=unwraps, inner=inner))
    return tuple(found)


def _is_clause_holes(field: PlannedField) -> bool:
    return isinstance(field.read, JsonKey) and field.read.key == "holes"


def _walk(steps: tuple[_Step, ...], value: Any, suggester: Suggester | None) -> None:
    """`suggester`: for the IR whose clause holes are below, once inside one."""
    if isinstance(value, list):
        for item in value:
            _walk(steps, item, suggester)
        return
    if not isinstance(value, dict):
        return  # null
    for step in steps:
        if step.holes is not None:
            inputs = value[step.key]
            if isinstance(inputs, dict):  # else [], a session without a draft
                value[step.key] = step.holes(context(inputs["ir"], inputs["answers"]))
        elif step.suggestions is not None:
            inputs = value[step.key]
            if isinstance(inputs, dict) and suggester is not None:
                value[step.key] = step.suggestions(
                    HoleAt(inputs["path"], inputs["hole"]), suggester
                )
        elif step.unwraps:
            wrapped = value[step.key]
            if isinstance(wrapped, dict):
                value[step.key] = wrapped["holes"]
                _walk(step.inner, wrapped["holes"], Suggester(wrapped["ir"]))
        else:
            _walk(step.inner, value[step.key], suggester)
