"""Two drafts compared (graph/spec/compare.py), as GraphQL: per category and field."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from graph.schema.model import ExecutorOnly, described, reads

if TYPE_CHECKING:
    from graph.schema.types import Draft

COMPARED = ExecutorOnly("the comparison is computed in Python (graph/spec/compare.py)")


@strawberry.enum
class IRCategory(Enum):
    INTENT = "INTENT"
    SIGNATURE = "SIGNATURE"
    EFFECT = "EFFECT"
    ASSERTION = "ASSERTION"
    METADATA = "METADATA"


@strawberry.enum
class ChangeKind(Enum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@strawberry.enum
class ChangeSeverity(Enum):
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"


@strawberry.type
class CategoryComparison:
    category: IRCategory = described(COMPARED)
    similarity: float = described(COMPARED, description="0..1 within the category.")
    changes: int = described(COMPARED)


@strawberry.type
class IRChange:
    category: IRCategory = described(COMPARED)
    kind: ChangeKind = described(COMPARED)
    path: str = described(COMPARED, description='e.g. "signature.parameters[0].type_hint"')
    before: JSON | None = described(COMPARED)
    after: JSON | None = described(COMPARED)
    severity: ChangeSeverity = described(COMPARED)
    message: str = described(COMPARED)


DraftRef = Annotated["Draft", strawberry.lazy("graph.schema.types")]


@strawberry.type
class DraftComparison:
    from_: DraftRef = strawberry.field(name="from", metadata=reads(COMPARED))
    to: DraftRef = described(COMPARED)
    similarity: float = described(
        COMPARED,
        description="0..1: signature 0.35, intent 0.20, assertion 0.20, effect 0.15, "
        "metadata 0.10.",
    )
    categories: list[CategoryComparison] = described(COMPARED)
    changes: list[IRChange] = described(COMPARED)
