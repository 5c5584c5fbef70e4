"""What to answer an open hole with: a pure function of the hole and its IR.

lift-sys's assists look at a hole's kind only. These also read the hole's own `type_hint`
and `constraints`, and the signature's parameters. docs/ARCHITECTURE.md has the table;
in short, best first, at most five, never twice the same text:

1. every entry of the hole's `constraints` (the hole says what would satisfy it);
2. by kind: SIGNATURE, concrete types (the hole's type hint when it names one, then a
   return type that fits the parameters' types); ASSERTION, bounds for each numeric
   parameter and non-emptiness for each text or list parameter; EFFECT, the usual answers
   (none, a log line, an error on bad input); INTENT, the signature's purpose in the
   summary's words; IMPLEMENTATION, the hole's description;
3. the hole's description, when nothing above applied.

Each suggestion's text can be sent as `resolveHole`'s `text` as it is, with its
`resolution_type`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.spec.holes import HoleAt

MAX_SUGGESTIONS = 5

# resolveHole's type for an answer to each kind of hole.
RESOLUTION_TYPES = {
    "intent": "clarify_intent",
    "signature": "refine_signature",
    "effect": "specify_effect",
    "assertion": "add_constraint",
    "implementation": "clarify_intent",
}
_NUMERIC = {"int", "float", "number", "decimal", "double", "integer", "complex"}
_TEXT = {"str", "string", "text"}
_SEQUENCE = re.compile(r"^(list|tuple|set|sequence|frozenset|array)\b", re.IGNORECASE)
_CONCRETE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(\[[A-Za-z0-9_.,\[\] |]*\])?$")
_VAGUE = {"type", "any", "object", "unknown", "assertion", "effect", "intent", "signature"}


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    resolution_type: str  # resolveHole's stored value (lower case)
    rationale: str


def suggest(hole: HoleAt, ir: Mapping[str, Any]) -> list[Suggestion]:
    """The suggestions for `hole` of `ir`, best first."""
    kind_type = RESOLUTION_TYPES.get(hole.kind, "clarify_intent")
    found: list[Suggestion] = []
    seen: set[str] = set()
    for candidate, rationale in _candidates(hole, ir):
        text = candidate.strip()
        if text and text not in seen:
            seen.add(text)
            found.append(Suggestion(text, kind_type, rationale))
        if len(found) == MAX_SUGGESTIONS:
            break
    return found


def _candidates(hole: HoleAt, ir: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for name, value in sorted(hole.constraints.items()):
        yield value, f"the hole's own constraint {name!r}"
    parameters = _parameters(ir)
    by_kind = {
        "signature": _signature,
        "assertion": _assertion,
        "effect": _effect,
        "intent": _intent,
        "implementation": _implementation,
    }.get(hole.kind)
    produced = False
    if by_kind is not None:
        for candidate in by_kind(hole, ir, parameters):
            produced = True
            yield candidate
    if not produced and hole.description:
        yield hole.description, "the hole's description"


def _parameters(ir: Mapping[str, Any]) -> list[tuple[str, str]]:
    signature = ir.get("signature")
    found = signature.get("parameters") if isinstance(signature, Mapping) else None
    return [
        (str(p.get("name", "")), str(p.get("type_hint", "")))
        for p in (found if isinstance(found, list) else [])
        if isinstance(p, Mapping) and p.get("name")
    ]


def _base(type_hint: str) -> str:
    return type_hint.strip().split("[", 1)[0].lower()


def _signature(
    hole: HoleAt, _ir: Mapping[str, Any], parameters: Sequence[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    hint = hole.type_hint.strip()
    if hint and _base(hint) not in _VAGUE and _CONCRETE.match(hint):
        yield hint, f"the hole's type hint names {hint}"
    types = [t for _, t in parameters if t]
    numeric = [t for t in types if _base(t) in _NUMERIC]
    if types and len(numeric) == len(types):
        widest = (
            "float" if any(_base(t) in ("float", "double", "decimal") for t in numeric) else "int"
        )
        names = ", ".join(name for name, _ in parameters)
        yield widest, f"the parameters ({names}) are all numeric"
    for name, type_hint in parameters:
        if type_hint:
            yield type_hint, f"the type of parameter {name!r}"
    yield from (("bool", "a yes/no answer"), ("None", "nothing returned"))


def _assertion(
    _hole: HoleAt, _ir: Mapping[str, Any], parameters: Sequence[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    for name, type_hint in parameters:
        base = _base(type_hint)
        if base in _NUMERIC:
            if re.search(r"rate|ratio|percent|fraction|probability", name, re.IGNORECASE):
                yield f"0 <= {name} <= 1", f"{name} is a {type_hint} that reads as a fraction"
            yield f"{name} >= 0", f"{name} is a {type_hint}: a lower bound"
        elif base in _TEXT:
            yield f"len({name}) > 0", f"{name} is text: not empty"
        elif _SEQUENCE.match(type_hint.strip()):
            yield f"len({name}) > 0", f"{name} is a collection: not empty"


def _effect(
    _hole: HoleAt, ir: Mapping[str, Any], _parameters: Sequence[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    yield "No side effects", "a pure function is the simplest to specify"
    yield "Logs the result", "a log line is the most common effect"
    if ir.get("assertions"):
        yield "Raises ValueError when an assertion fails", "the IR has assertions to enforce"


def _intent(
    _hole: HoleAt, ir: Mapping[str, Any], _parameters: Sequence[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    intent, signature = ir.get("intent"), ir.get("signature")
    summary = intent.get("summary") if isinstance(intent, Mapping) else None
    name = signature.get("name") if isinstance(signature, Mapping) else None
    if isinstance(summary, str) and summary.strip():
        yield summary, "the intent's own summary"
    if isinstance(name, str) and name.strip():
        yield f"{name} computes its result from its parameters", "the signature's name"


def _implementation(
    hole: HoleAt, _ir: Mapping[str, Any], _parameters: Sequence[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    if hole.description:
        yield hole.description, "the hole's description"
