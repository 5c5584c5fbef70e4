"""What a compiled read leaves to Python: hole lists and suggestions.

A compiler writes the inputs where these go, and `finisher(plan)` turns them into the
selection's values after the one round trip:

- a list of an IR's holes (`Draft.holes`, `Session.openHoles`) comes as
  `{"ir": <the draft's IR>, "answers": [{"hole_id", "applied", "node"}, ...]}`, the
  session's answers oldest first, `node` holding, per `resolutions` field of the holes
  (by response key), the answer as that field selects it (`[]` when there is no draft);
  graph/reads/ir_shapes.py shapes the list. With `"draft": "<id>:<row version>"` as well,
  a list that selects no answers is a function of that draft and of which holes are
  answered (and applied) alone, so the list shaped for them is kept and handed out again
  (a session screen read over and over shapes its holes and suggestions once). When
  the response holds the same draft's IR already (`ir_beside`: `currentDraft { ir }`
  beside `openHoles`), the inputs leave `ir` out and the list reads that one: the IR is
  built, sent and parsed once;
- a clause's holes that select suggestions come as `{"ir": ..., "holes": [...]}` (the IR
  once per list), and in each hole, where its `suggestions` go, `[]` for a hole some
  resolution answers, else `{"hole": <its JSON>, "path": ...}`.

A plan that selects neither needs no finisher, and its response passes through as the store
wrote it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graph.reads.ir_shapes import HoleList, context, hole_list, hole_shape
from graph.reads.plan import PlannedField, ReadPlan
from graph.reads.suggested import SuggestionsOf, is_suggestions, suggestions_shape
from graph.schema.model import Column, HoleKey, Holes, JsonKey, Kind
from graph.spec.holes import HoleAt
from graph.spec.suggestions import Suggester

Finish = Callable[[dict[str, Any]], None]
SHAPED_LISTS = 256  # per hole-list field of a plan: the drafts read most recently


def hole_list_of(field: PlannedField) -> HoleList:
    """The shape of a `Holes` field whose answers' `node`s the store wrote as selected."""
    if not isinstance(field.read, Holes):
        raise TypeError(f"{field.parent}.{field.name} is not a list of an IR's holes")
    return hole_list(hole_shape(field.children, _written_for), field.read)


def _written_for(field: PlannedField) -> Callable[[dict[str, Any]], Any]:
    key = field.key
    return lambda node: node[key]


class _ShapedLists:
    """Hole lists already shaped, by (draft and row version, each answered hole's
    applied-or-not): least recently used out. The lists are shared: never changed."""

    __slots__ = ("lists", "size")

    def __init__(self, size: int = SHAPED_LISTS) -> None:
        self.size = size
        self.lists: OrderedDict[tuple[str, tuple[tuple[str, bool], ...]], list[dict[str, Any]]]
        self.lists = OrderedDict()

    def shaped(self, holes: HoleList, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        answered: dict[str, bool] = {}
        for answer in inputs["answers"]:
            answered[answer["hole_id"]] = answered.get(answer["hole_id"], False) or bool(
                answer["applied"]
            )
        key = (inputs["draft"], tuple(sorted(answered.items())))
        found = self.lists.get(key)
        if found is not None:
            self.lists.move_to_end(key)
            return found
        made = self.lists[key] = holes(context(inputs["ir"], inputs["answers"]))
        if len(self.lists) > self.size:
            self.lists.popitem(last=False)
        return made


def ir_beside(field: PlannedField, siblings: Sequence[PlannedField]) -> tuple[str, str] | None:
    """Where the response already holds the IR a current draft's hole list reads: (the
    key of a sibling that selects the same newest row, the key of its IR as stored)."""
    read = field.read
    if not isinstance(read, Holes) or read.current is None:
        return None
    for sibling in siblings:
        if sibling.read != read.current or sibling.many:
            continue
        for child in sibling.children:
            if child.read == Column(read.column) and child.kind is Kind.JSON:
                return sibling.key, child.key
    return None


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    holes: HoleList | None = None  # the field shaped here, or
    kept: _ShapedLists | None = None  # (its lists, when they select no answers)
    ir_at: tuple[str, str] | None = None  # (where the IR is beside it, ir_beside)
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
            selects_answers = any(
                isinstance(f.read, HoleKey) and f.read.key == "resolutions" for f in field.children
            )
            kept = None if selects_answers else _ShapedLists()
            ir_at = ir_beside(field, fields)
            found.append(_Step(field.key, holes=hole_list_of(field), kept=kept, ir_at=ir_at))
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
                if step.ir_at is not None:
                    inputs["ir"] = value[step.ir_at[0]][step.ir_at[1]]
                value[step.key] = _hole_list(step.holes, step.kept, inputs)
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


def _hole_list(
    holes: HoleList, kept: _ShapedLists | None, inputs: dict[str, Any]
) -> list[dict[str, Any]]:
    if kept is not None and "draft" in inputs:
        return kept.shaped(holes, inputs)
    return holes(context(inputs["ir"], inputs["answers"]))
