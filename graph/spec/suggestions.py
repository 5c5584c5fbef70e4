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
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

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
_FRACTION = re.compile(r"rate|ratio|percent|fraction|probability", re.IGNORECASE)
_VAGUE = {"type", "any", "object", "unknown", "assertion", "effect", "intent", "signature"}


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    resolution_type: str  # resolveHole's stored value (lower case)
    rationale: str


def suggest(hole: HoleAt, ir: Mapping[str, Any]) -> list[Suggestion]:
    """The suggestions for `hole` of `ir`, best first."""
    return list(Suggester(ir).suggest(hole))


Candidate = tuple[str, str]  # (text, rationale)
Inputs = tuple[str, tuple[Candidate, ...], tuple[Candidate, ...]]  # kind, constraints, own


S = TypeVar("S")


class Suggester:
    """`suggest` for the holes of one IR. What its holes share (the signature's parameters,
    each kind's candidates from the IR) is worked out once, and holes with the same inputs
    (kind, constraints, type hint or description where the kind reads them) share one
    answer: on a typical IR most holes are alike."""

    __slots__ = ("_ir", "_parameters", "_shaped", "_shared", "_suggested")

    def __init__(self, ir: Mapping[str, Any]) -> None:
        self._ir = ir
        self._parameters: list[tuple[str, str]] | None = None
        self._shared: dict[str, list[Candidate]] = {}
        self._suggested: dict[Hashable, tuple[Suggestion, ...]] = {}
        self._shaped: dict[tuple[Hashable, Hashable], Any] = {}

    def suggest(self, hole: HoleAt) -> tuple[Suggestion, ...]:
        return self._suggested_for(self._inputs(hole))

    def shaped(self, hole: HoleAt, shape: Callable[[tuple[Suggestion, ...]], S]) -> S:
        """`shape(self.suggest(hole))`, once per distinct inputs and `shape` (a caller's
        function that depends on nothing else). The result is shared: do not change it."""
        inputs = self._inputs(hole)
        key = (shape, inputs)
        if key in self._shaped:
            found: S = self._shaped[key]
            return found
        made = self._shaped[key] = shape(self._suggested_for(inputs))
        return made

    def _suggested_for(self, inputs: Inputs) -> tuple[Suggestion, ...]:
        found = self._suggested.get(inputs)
        if found is None:
            found = self._suggested[inputs] = self._suggest(*inputs)
        return found

    def _inputs(self, hole: HoleAt) -> Inputs:
        """What the suggestions for `hole` depend on beside the IR (runs for every hole
        read: the hole's JSON is read once, its constraints copied only when present)."""
        kind = hole.kind
        own = self._own(kind, hole)
        if not own and hole.description and not self._shared_by(kind):
            own = (_described(hole),)  # the fallback
        constraints = hole.hole.get("constraints")
        if not constraints or not isinstance(constraints, Mapping):
            return kind, (), own
        return kind, tuple(sorted(constraints.items())), own

    def _suggest(
        self, kind: str, constraints: tuple[Candidate, ...], own: tuple[Candidate, ...]
    ) -> tuple[Suggestion, ...]:
        kind_type = RESOLUTION_TYPES.get(kind, "clarify_intent")
        candidates = (
            *((value, f"the hole's own constraint {name!r}") for name, value in constraints),
            *own,
            *self._shared_by(kind),
        )
        found: list[Suggestion] = []
        seen: set[str] = set()
        for candidate, rationale in candidates:
            text = candidate.strip()
            if text and text not in seen:
                seen.add(text)
                found.append(Suggestion(text, kind_type, rationale))
                if len(found) == MAX_SUGGESTIONS:
                    break
        return tuple(found)

    def _own(self, kind: str, hole: HoleAt) -> tuple[Candidate, ...]:
        """The kind's candidates from the hole itself, before the shared ones."""
        if kind == "signature":
            hint = hole.type_hint.strip()
            if hint and _base(hint) not in _VAGUE and _CONCRETE.match(hint):
                return ((hint, f"the hole's type hint names {hint}"),)
        elif kind == "implementation" and hole.description:
            return (_described(hole),)
        return ()

    def _shared_by(self, kind: str) -> list[Candidate]:
        """The kind's candidates from the IR alone, the same for each of its holes."""
        found = self._shared.get(kind)
        if found is None:
            by_kind = _SHARED.get(kind)
            found = [] if by_kind is None else list(by_kind(self._ir, self.parameters))
            self._shared[kind] = found
        return found

    @property
    def parameters(self) -> list[tuple[str, str]]:
        if self._parameters is None:
            self._parameters = _parameters(self._ir)
        return self._parameters


def _described(hole: HoleAt) -> Candidate:
    return hole.description, "the hole's description"


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
    _ir: Mapping[str, Any], parameters: Sequence[tuple[str, str]]
) -> Iterator[Candidate]:
    """After the hole's own type hint (Suggester._own)."""
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
    _ir: Mapping[str, Any], parameters: Sequence[tuple[str, str]]
) -> Iterator[Candidate]:
    for name, type_hint in parameters:
        base = _base(type_hint)
        if base in _NUMERIC:
            if _FRACTION.search(name):
                yield f"0 <= {name} <= 1", f"{name} is a {type_hint} that reads as a fraction"
            yield f"{name} >= 0", f"{name} is a {type_hint}: a lower bound"
        elif base in _TEXT:
            yield f"len({name}) > 0", f"{name} is text: not empty"
        elif _SEQUENCE.match(type_hint.strip()):
            yield f"len({name}) > 0", f"{name} is a collection: not empty"


def _effect(ir: Mapping[str, Any], _parameters: Sequence[tuple[str, str]]) -> Iterator[Candidate]:
    yield "No side effects", "a pure function is the simplest to specify"
    yield "Logs the result", "a log line is the most common effect"
    if ir.get("assertions"):
        yield "Raises ValueError when an assertion fails", "the IR has assertions to enforce"


def _intent(ir: Mapping[str, Any], _parameters: Sequence[tuple[str, str]]) -> Iterator[Candidate]:
    intent, signature = ir.get("intent"), ir.get("signature")
    summary = intent.get("summary") if isinstance(intent, Mapping) else None
    name = signature.get("name") if isinstance(signature, Mapping) else None
    if isinstance(summary, str) and summary.strip():
        yield summary, "the intent's own summary"
    if isinstance(name, str) and name.strip():
        yield f"{name} computes its result from its parameters", "the signature's name"


_SHARED: dict[str, Callable[[Mapping[str, Any], Sequence[tuple[str, str]]], Iterator[Candidate]]]
_SHARED = {
    "signature": _signature,
    "assertion": _assertion,
    "effect": _effect,
    "intent": _intent,
}
