"""The lift-sys IR and the pure rules about it (no I/O).

The models follow lift-sys's `ir/models.py`. They check the shape a draft's `ir` must
have and let extra keys through, so a newer lift-sys can add clauses without a
migration here.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph.errors import BadUserInput

MAX_JSON_BYTES = 512 * 1024


HoleKind = Literal["intent", "signature", "effect", "assertion", "implementation"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Hole(_Open):
    identifier: str = Field(min_length=1, max_length=200)
    type_hint: str
    description: str = ""
    constraints: dict[str, str] = Field(default_factory=dict)
    kind: HoleKind


class Intent(_Open):
    summary: str
    rationale: str | None = None
    holes: list[Hole] = Field(default_factory=list)


class Parameter(_Open):
    name: str
    type_hint: str
    description: str | None = None


class Signature(_Open):
    name: str
    parameters: list[Parameter] = Field(default_factory=list)
    returns: str | None = None
    holes: list[Hole] = Field(default_factory=list)


class Effect(_Open):
    description: str
    holes: list[Hole] = Field(default_factory=list)


class Assertion(_Open):
    predicate: str
    rationale: str | None = None
    holes: list[Hole] = Field(default_factory=list)


class IRMetadata(_Open):
    source_path: str | None = None
    language: str
    origin: str
    evidence: list[Any] = Field(default_factory=list)


class IntermediateRepresentation(_Open):
    intent: Intent
    signature: Signature
    effects: list[Effect] = Field(default_factory=list)
    assertions: list[Assertion] = Field(default_factory=list)
    metadata: IRMetadata


class SmtResult(_Open):
    predicate: str
    status: str
    model: Any = None


def validate_ir(value: object) -> dict[str, Any]:
    """Check `value` is a lift-sys IR; return it unchanged (as the client sent it)."""
    if not isinstance(value, dict):
        raise BadUserInput("ir must be a JSON object")
    _check_size(value, "ir")
    try:
        IntermediateRepresentation.model_validate(value)
    except ValidationError as exc:
        raise BadUserInput(f"ir is not a valid IR: {_first_problem(exc)}") from exc
    return value


def validate_smt_results(value: object) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadUserInput("smtResults must be a JSON array")
    _check_size(value, "smtResults")
    for item in value:
        try:
            SmtResult.model_validate(item)
        except ValidationError as exc:
            raise BadUserInput(f"smtResults is not valid: {_first_problem(exc)}") from exc
    return value


def validate_metadata(value: object, field: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadUserInput(f"{field} must be a JSON object")
    _check_size(value, field)
    return value


def hole_identifiers(ir: dict[str, Any]) -> list[str]:
    """The identifiers of every hole in any clause of `ir`, first-seen order, once each.

    >>> hole_identifiers({"signature": {"holes": [{"identifier": "return_type"}]},
    ...                   "assertions": [{"holes": [{"identifier": "input_constraints"}]}]})
    ['return_type', 'input_constraints']
    """
    found: dict[str, None] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                if key == "holes" and isinstance(child, list):
                    for hole in child:
                        if isinstance(hole, dict) and isinstance(hole.get("identifier"), str):
                            found.setdefault(hole["identifier"], None)
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(ir)
    return list(found)


def _check_size(value: object, field: str) -> None:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_JSON_BYTES:
        raise BadUserInput(f"{field} is larger than {MAX_JSON_BYTES // 1024} KiB")


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(root)"
    return f"{where}: {error['msg']}"
