"""The IR as typed GraphQL: holes with their status and suggestions, and the Spec.

A hole's status comes from its session's resolutions (graph/spec/holes.py): OPEN until
one answers it, RESOLVED once one does, APPLIED once one of them is applied. The objects
here are built from the IR's JSON and the session's resolution rows, both already loaded;
nothing in this module calls the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from graph.backends.base import Row
from graph.schema.model import WHOLE, HoleKey, JsonKey, Suggested, described, reads
from graph.spec.holes import HoleAt, Status, clause_holes, clauses, statuses
from graph.spec.suggestions import suggest

if TYPE_CHECKING:
    from graph.schema.types import Resolution, ResolutionType


@strawberry.enum
class HoleKind(Enum):
    INTENT = "intent"
    SIGNATURE = "signature"
    EFFECT = "effect"
    ASSERTION = "assertion"
    IMPLEMENTATION = "implementation"


@strawberry.enum(
    description="OPEN: no resolution yet; RESOLVED: answered, not applied; "
    "APPLIED: an answer to it was applied."
)
class HoleStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    APPLIED = "applied"


@strawberry.type
class Suggestion:
    text: str = described(Suggested("text"), description="Usable as resolveHole's `text` as is.")
    resolution_type: Annotated[ResolutionType, strawberry.lazy("graph.schema.types")] = described(
        Suggested("resolution_type"), description="The type resolveHole should use."
    )
    rationale: str = described(Suggested("rationale"), description="Why (for a tooltip).")


@strawberry.type
class Hole:
    identifier: str = described(HoleKey("identifier"))
    kind: HoleKind = described(HoleKey("kind"))
    type_hint: str = described(HoleKey("type_hint"))
    description: str = described(HoleKey("description"))
    constraints: JSON = described(HoleKey("constraints"), description="The IR's {name: text}.")
    path: str = described(
        HoleKey("path"), description='Where in the IR: "intent", "signature", "effects[0]", ...'
    )
    status: HoleStatus = described(HoleKey("status"))
    answers: strawberry.Private[list[Row]]
    at: strawberry.Private[HoleAt]
    ir: strawberry.Private[Mapping[str, Any]]

    @strawberry.field(
        description="This session's answers to this hole, oldest first.",
        metadata=reads(HoleKey("resolutions")),
    )
    def resolutions(self) -> list[Annotated[Resolution, strawberry.lazy("graph.schema.types")]]:
        from graph.schema.types import Resolution, from_row  # noqa: PLC0415 - types imports us

        return [from_row(Resolution, row) for row in self.answers]

    @strawberry.field(
        description="For OPEN holes, best first (at most 5); [] otherwise.",
        metadata=reads(Suggested()),
    )
    def suggestions(self) -> list[Suggestion]:
        from graph.schema.types import ResolutionType  # noqa: PLC0415 - types imports us

        if self.status is not HoleStatus.OPEN:
            return []
        return [
            Suggestion(
                text=s.text,
                resolution_type=ResolutionType(s.resolution_type),
                rationale=s.rationale,
            )
            for s in suggest(self.at, self.ir)
        ]


def hole_objects(
    found: Sequence[HoleAt], ir: Mapping[str, Any], resolutions: Sequence[Row]
) -> list[Hole]:
    """Holes of `ir` as objects, their status and answers from the session's `resolutions`."""
    answered = statuses(resolutions)
    return [
        Hole(
            identifier=at.identifier,
            kind=HoleKind(at.kind),
            type_hint=at.type_hint,
            description=at.description,
            constraints=JSON(at.constraints),
            path=at.path,
            status=HoleStatus[answered.get(at.identifier, Status.OPEN).name],
            answers=[row for row in resolutions if row["hole_id"] == at.identifier],
            at=at,
            ir=ir,
        )
        for at in found
    ]


def _text(value: object) -> str | None:
    """A string key that is not a JSON string reads as null (as in SQL, JsonKey)."""
    return value if isinstance(value, str) else None


def _json(clause: Mapping[str, Any], key: str) -> JSON | None:
    return JSON(clause.get(key))


@strawberry.type
class Provenance:
    source: str | None = described(JsonKey("source"))
    confidence: JSON | None = described(JsonKey("confidence"))
    timestamp: str | None = described(JsonKey("timestamp"))
    author: str | None = described(JsonKey("author"))
    evidence_refs: JSON | None = described(JsonKey("evidence_refs"))
    metadata: JSON | None = described(JsonKey("metadata"))


@strawberry.type
class Parameter:
    name: str = described(JsonKey("name"))
    type_hint: str = described(JsonKey("type_hint"))
    description: str | None = described(JsonKey("description"))


@strawberry.type
class Intent:
    summary: str = described(JsonKey("summary"))
    rationale: str | None = described(JsonKey("rationale"))
    provenance: Provenance | None = described(JsonKey("provenance"))
    holes: list[Hole] = described(JsonKey("holes"))


@strawberry.type
class Signature:
    name: str = described(JsonKey("name"))
    parameters: list[Parameter] = described(JsonKey("parameters"))
    returns: str | None = described(JsonKey("returns"))
    provenance: Provenance | None = described(JsonKey("provenance"))
    holes: list[Hole] = described(JsonKey("holes"))


@strawberry.type
class Effect:
    description: str = described(JsonKey("description"))
    provenance: Provenance | None = described(JsonKey("provenance"))
    holes: list[Hole] = described(JsonKey("holes"))


@strawberry.type
class Assertion:
    predicate: str = described(JsonKey("predicate"))
    rationale: str | None = described(JsonKey("rationale"))
    provenance: Provenance | None = described(JsonKey("provenance"))
    holes: list[Hole] = described(JsonKey("holes"))


@strawberry.type
class Relationship:
    from_entity: str | None = described(JsonKey("from_entity"))
    to_entity: str | None = described(JsonKey("to_entity"))
    relationship_type: str | None = described(JsonKey("relationship_type"))
    confidence: JSON | None = described(JsonKey("confidence"))
    description: str | None = described(JsonKey("description"))
    provenance: Provenance | None = described(JsonKey("provenance"))
    holes: list[Hole] = described(JsonKey("holes"))


@strawberry.type(description="A constraint clause (a newer lift-sys's ReturnConstraint, ...).")
class Constraint:
    type: str | None = described(JsonKey("type"))
    description: str | None = described(JsonKey("description"))
    severity: str | None = described(JsonKey("severity"))
    provenance: Provenance | None = described(JsonKey("provenance"))
    holes: list[Hole] = described(JsonKey("holes"))
    fields: JSON = described(JsonKey(WHOLE), description="The clause itself, raw.")


@strawberry.type
class SpecMetadata:
    source_path: str | None = described(JsonKey("source_path"))
    language: str = described(JsonKey("language"))
    origin: str = described(JsonKey("origin"))
    evidence: JSON = described(JsonKey("evidence", empty=()))


@strawberry.type(description="The draft's IR, typed; every clause carries its holes.")
class Spec:
    intent: Intent = described(JsonKey("intent"))
    signature: Signature = described(JsonKey("signature"))
    effects: list[Effect] = described(JsonKey("effects"))
    assertions: list[Assertion] = described(JsonKey("assertions"))
    relationships: list[Relationship] = described(JsonKey("relationships"))
    constraints: list[Constraint] = described(JsonKey("constraints"))
    metadata: SpecMetadata = described(JsonKey("metadata"))


def spec_of(ir: Mapping[str, Any], resolutions: Sequence[Row]) -> Spec:
    """The Spec of a valid IR (the database holds drafts to the IR's shape)."""
    by_path = dict(clauses(ir))

    def holes_of(path: str) -> list[Hole]:
        clause = by_path.get(path)
        return hole_objects(clause_holes(clause, path), ir, resolutions) if clause else []

    def provenance(clause: Mapping[str, Any]) -> Provenance | None:
        value = clause.get("provenance")
        if not isinstance(value, Mapping):
            return None
        return Provenance(
            source=_text(value.get("source")),
            confidence=_json(value, "confidence"),
            timestamp=_text(value.get("timestamp")),
            author=_text(value.get("author")),
            evidence_refs=_json(value, "evidence_refs"),
            metadata=_json(value, "metadata"),
        )

    intent, signature, metadata = ir["intent"], ir["signature"], ir["metadata"]
    return Spec(
        intent=Intent(
            summary=intent["summary"],
            rationale=intent.get("rationale"),
            provenance=provenance(intent),
            holes=holes_of("intent"),
        ),
        signature=Signature(
            name=signature["name"],
            parameters=[
                Parameter(
                    name=p["name"], type_hint=p["type_hint"], description=p.get("description")
                )
                for p in signature.get("parameters") or []
            ],
            returns=signature.get("returns"),
            provenance=provenance(signature),
            holes=holes_of("signature"),
        ),
        effects=[
            Effect(
                description=e["description"],
                provenance=provenance(e),
                holes=holes_of(f"effects[{i}]"),
            )
            for i, e in enumerate(ir.get("effects") or [])
        ],
        assertions=[
            Assertion(
                predicate=a["predicate"],
                rationale=a.get("rationale"),
                provenance=provenance(a),
                holes=holes_of(f"assertions[{i}]"),
            )
            for i, a in enumerate(ir.get("assertions") or [])
        ],
        relationships=[
            Relationship(
                from_entity=_text(r.get("from_entity")),
                to_entity=_text(r.get("to_entity")),
                relationship_type=_text(r.get("relationship_type")),
                confidence=_json(r, "confidence"),
                description=_text(r.get("description")),
                provenance=provenance(r),
                holes=holes_of(f"relationships[{i}]"),
            )
            for i, r in enumerate(ir.get("relationships") or [])
        ],
        constraints=[
            Constraint(
                type=_text(c.get("type")),
                description=_text(c.get("description")),
                severity=_text(c.get("severity")),
                provenance=provenance(c),
                holes=holes_of(f"constraints[{i}]"),
                fields=JSON(dict(c)),
            )
            for i, c in enumerate(ir.get("constraints") or [])
        ],
        metadata=SpecMetadata(
            source_path=metadata.get("source_path"),
            language=metadata["language"],
            origin=metadata["origin"],
            evidence=JSON(metadata.get("evidence", [])),
        ),
    )
