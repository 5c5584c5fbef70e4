"""The typed holes of an IR, in IR order, where each one sits, and its status.

IR order: intent, signature, effects, assertions, then the optional relationships and
constraints, each clause's holes in their order; `path` names the clause ("signature",
"effects[0]"). The database has the same walk in SQL (`session_graph.ir_holes`, which
also gives a draft its default `ambiguities`); tests/integration/test_holes.py proves the
two agree on generated IRs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeGuard

CLAUSES: tuple[tuple[str, bool], ...] = (  # (key, is a list of clauses)
    ("intent", False),
    ("signature", False),
    ("effects", True),
    ("assertions", True),
    ("relationships", True),
    ("constraints", True),
)


class Status(Enum):
    OPEN = "OPEN"  # no resolution answers it yet
    RESOLVED = "RESOLVED"  # answered, not applied
    APPLIED = "APPLIED"  # an answer to it was applied (a later draft took it in)


@dataclass(frozen=True, slots=True)
class HoleAt:
    """One hole of an IR: the hole's own JSON and the clause that holds it."""

    path: str
    hole: Mapping[str, Any]

    @property
    def identifier(self) -> str:
        return str(self.hole["identifier"])

    @property
    def kind(self) -> str:
        return str(self.hole["kind"])

    @property
    def type_hint(self) -> str:
        return str(self.hole.get("type_hint", ""))

    @property
    def description(self) -> str:
        return str(self.hole.get("description", ""))

    @property
    def constraints(self) -> dict[str, str]:
        value = self.hole.get("constraints") or {}
        return dict(value) if isinstance(value, Mapping) else {}


def clauses(ir: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, clause) for every clause of the IR that can hold holes, in IR order."""
    for key, is_list in CLAUSES:
        value = ir.get(key)
        if is_list:
            if isinstance(value, list):
                for index, clause in enumerate(value):
                    if isinstance(clause, Mapping):
                        yield f"{key}[{index}]", clause
        elif isinstance(value, Mapping):
            yield key, value


def holes(ir: Mapping[str, Any]) -> list[HoleAt]:
    """Every hole of the IR, in IR order (an identifier may appear twice)."""
    found: list[HoleAt] = []
    for key, is_list in CLAUSES:  # clauses(), unrolled: this runs for every hole list read
        value = ir.get(key)
        if is_list:
            if isinstance(value, list):
                for index, clause in enumerate(value):
                    if _is_object(clause) and (inside := _holes_in(clause)):
                        path = f"{key}[{index}]"
                        found.extend(HoleAt(path, hole) for hole in inside)
        elif _is_object(value) and (inside := _holes_in(value)):
            found.extend(HoleAt(key, hole) for hole in inside)
    return found


def clause_holes(clause: Mapping[str, Any], path: str) -> list[HoleAt]:
    return [HoleAt(path, hole) for hole in _holes_in(clause)]


def _holes_in(clause: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = clause.get("holes")
    if not found or not isinstance(found, list):
        return []
    return [hole for hole in found if _is_object(hole)]


def _is_object(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object: parsed JSON is a dict, so that is asked first (an ABC's isinstance
    costs five times as much, on every clause and hole of every hole list read)."""
    return type(value) is dict or isinstance(value, Mapping)


def status(identifier: str, resolutions: Sequence[Mapping[str, Any]]) -> Status:
    """From the session's resolutions (rows: `hole_id`, `applied`)."""
    return statuses(resolutions).get(identifier, Status.OPEN)


def statuses(resolutions: Sequence[Mapping[str, Any]]) -> dict[str, Status]:
    """Each answered hole's status (an identifier missing here is OPEN): APPLIED once any
    of its resolutions is applied, else RESOLVED."""
    found: dict[str, Status] = {}
    for row in resolutions:
        if row["applied"]:
            found[row["hole_id"]] = Status.APPLIED
        else:
            found.setdefault(row["hole_id"], Status.RESOLVED)
    return found
