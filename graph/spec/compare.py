"""Two drafts' IRs compared: a structured field diff per category, with similarity.

Categories and their weight in the overall similarity (lift-sys's weights):
signature 0.35, intent 0.20, assertion 0.20, effect 0.15, metadata 0.10. Metadata also
takes every top-level key that is no other category's (relationships, constraints, ...),
so no change goes unreported.

A change is reported where the two sides first differ: a key or list item present on one
side only is one ADDED or REMOVED change carrying the whole value; two values of
different shapes, or two different leaves, one CHANGED. `path` points at the value in the
IR it came from ("signature.parameters[0].type_hint"): `before` is what `path` holds in
the first IR, `after` in the second (None where absent).

A category's similarity is the share of its leaf values (the union of both sides) that
are equal at the same path; two empty sides are equal (1.0). Severity says what a change
does to code written against the spec: to the signature, removing or changing is ERROR
(callers break) and adding is WARNING; removing an assertion or changing an effect is
WARNING (a guarantee weakened, behaviour moved); the rest is INFO.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

WEIGHTS = {"SIGNATURE": 0.35, "INTENT": 0.20, "ASSERTION": 0.20, "EFFECT": 0.15, "METADATA": 0.10}
_KEYS = {
    "intent": "INTENT",
    "signature": "SIGNATURE",
    "effects": "EFFECT",
    "assertions": "ASSERTION",
}
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Change:
    category: str
    kind: str  # ADDED, REMOVED, CHANGED
    path: str
    before: Any
    after: Any
    severity: str  # ERROR, WARNING, INFO
    message: str


@dataclass(frozen=True, slots=True)
class CategoryResult:
    category: str
    similarity: float
    changes: int


@dataclass(frozen=True, slots=True)
class Comparison:
    similarity: float
    categories: list[CategoryResult]
    changes: list[Change]


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> Comparison:
    changes: list[Change] = []
    categories: list[CategoryResult] = []
    overall = 0.0
    for category, weight in WEIGHTS.items():
        left, right = _part(before, category), _part(after, category)
        found = [
            _change(category, kind, path, old, new)
            for kind, path, old, new in _diff(left, right, "")
        ]
        similarity = _similarity(left, right)
        categories.append(CategoryResult(category, similarity, len(found)))
        changes.extend(found)
        overall += weight * similarity
    return Comparison(round(overall, 6), categories, changes)


def _part(ir: Mapping[str, Any], category: str) -> dict[str, Any]:
    """The top-level keys of `ir` that belong to `category`."""
    return {key: value for key, value in ir.items() if _KEYS.get(key, "METADATA") == category}


def _diff(left: Any, right: Any, path: str) -> Iterator[tuple[str, str, Any, Any]]:
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        for key in [*left, *(k for k in right if k not in left)]:
            yield from _step(left.get(key, _MISSING), right.get(key, _MISSING), _key(path, key))
    elif isinstance(left, list) and isinstance(right, list):
        for index in range(max(len(left), len(right))):
            old = left[index] if index < len(left) else _MISSING
            new = right[index] if index < len(right) else _MISSING
            yield from _step(old, new, f"{path}[{index}]")
    elif left != right or type(left) is not type(right):
        yield "CHANGED", path, left, right


def _step(old: Any, new: Any, path: str) -> Iterator[tuple[str, str, Any, Any]]:
    if old is _MISSING:
        yield "ADDED", path, None, new
    elif new is _MISSING:
        yield "REMOVED", path, old, None
    else:
        yield from _diff(old, new, path)


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        found: dict[str, Any] = {}
        for key, child in value.items():
            found.update(_leaves(child, _key(path, key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, child in enumerate(value):
            found.update(_leaves(child, f"{path}[{index}]"))
        return found
    return {path: value}


def _similarity(left: Mapping[str, Any], right: Mapping[str, Any]) -> float:
    if not left and not right:
        return 1.0
    old, new = _leaves(left), _leaves(right)
    paths = set(old) | set(new)
    same = sum(
        1
        for p in paths
        if p in old and p in new and old[p] == new[p] and type(old[p]) is type(new[p])
    )
    return round(same / len(paths), 6) if paths else 1.0


def _change(category: str, kind: str, path: str, before: Any, after: Any) -> Change:
    if category == "SIGNATURE":
        severity = "WARNING" if kind == "ADDED" else "ERROR"
    elif (category == "ASSERTION" and kind == "REMOVED") or (
        category == "EFFECT" and kind != "ADDED"
    ):
        severity = "WARNING"
    else:
        severity = "INFO"
    if kind == "ADDED":
        message = f"{path} added: {_short(after)}"
    elif kind == "REMOVED":
        message = f"{path} removed (was {_short(before)})"
    else:
        message = f"{path} changed from {_short(before)} to {_short(after)}"
    return Change(category, kind, path, before, after, severity, message)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
