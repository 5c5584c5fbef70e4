"""An IR's holes and its Spec as response values, from a draft's `ir` and its session's
answers (resolutions, oldest first), as one store round trip brings them.

The pg_graphql compiler has no IR walk upstream, so it asks for the IR and the answers
beside the rest of the document and shapes holes and spec here. The Postgres compiler
shapes hole lists here too (graph/reads/finish.py): walking the IR in Python after the
round trip costs the gateway less than `session_graph.ir_holes` costs Postgres (about
0.2 ms a statement on the bench's IR). The rules are the ones the executor's objects follow
(graph/schema/spec_types.py) and the SQL compiler writes for clauses (JsonKey): the
differential tests hold them to one answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.reads.plan import TYPENAME, PlannedField
from graph.reads.suggested import suggestions_shape
from graph.schema.model import WHOLE, HoleKey, Holes, JsonKey, Kind, Suggested
from graph.spec.holes import HoleAt, Status, clause_holes, holes, statuses
from graph.spec.suggestions import Suggester


@dataclass(frozen=True, slots=True)
class Context:
    """The draft's IR, and its session's answers as rows: `hole_id`, `applied`, and
    `node`, the answer as the store brought it (its upstream node, or its response value);
    `by_hole` holds the same rows per hole, `status_of` each answered hole's status."""

    ir: Mapping[str, Any]
    answers: Sequence[Mapping[str, Any]]
    by_hole: Mapping[str, Sequence[Mapping[str, Any]]]
    status_of: Mapping[str, str]
    suggester: Suggester


def context(ir: Mapping[str, Any], answers: Sequence[Mapping[str, Any]]) -> Context:
    by_hole: dict[str, list[Mapping[str, Any]]] = {}
    for answer in answers:
        by_hole.setdefault(answer["hole_id"], []).append(answer)
    status_of = {hole: found.value for hole, found in statuses(answers).items()}
    return Context(ir, answers, by_hole, status_of, Suggester(ir))


HoleList = Callable[[Context], list[dict[str, Any]]]
OPEN = Status.OPEN.value


def hole_list(hole: HoleShape, read: Holes) -> HoleList:
    """Every hole of the IR in IR order, or (openHoles) those no answer names."""

    def value(context: Context) -> list[dict[str, Any]]:
        found = holes(context.ir)
        if read.open_only:
            found = [at for at in found if at.identifier not in context.by_hole]
        return [hole(at, context) for at in found]

    return value


HoleShape = Callable[[HoleAt, Context], dict[str, Any]]
ObjectShape = Callable[[Mapping[str, Any], str | None, Context], dict[str, Any]]
NodeShape = Callable[[dict[str, Any]], Any]


class Unshapeable(Exception):
    """A field these shapes do not know (the compiler then leaves the document)."""


def hole_shape(
    fields: Sequence[PlannedField], resolution_node: Callable[[PlannedField], NodeShape]
) -> HoleShape:
    """`resolution_node(field)` gives the shape of a resolution's upstream node for a
    hole's `resolutions` field (and asks upstream for what it needs)."""
    parts: list[tuple[str, Callable[[HoleAt, Context], Any]]] = []
    for field in fields:
        parts.append((field.key, _hole_part(field, resolution_node)))

    def shape(at: HoleAt, context: Context) -> dict[str, Any]:
        return {key: part(at, context) for key, part in parts}

    return shape


def _hole_part(
    field: PlannedField, resolution_node: Callable[[PlannedField], NodeShape]
) -> Callable[[HoleAt, Context], Any]:
    read = field.read
    if field.name == TYPENAME:
        return lambda _at, _context: field.parent
    if isinstance(read, Suggested) and read.key is None:
        suggestions = suggestions_shape(field.children)

        def suggested(at: HoleAt, context: Context) -> Any:
            if at.identifier in context.by_hole:
                return []
            return suggestions(at, context.suggester)

        return suggested
    if not isinstance(read, HoleKey):
        raise Unshapeable(field.name)
    if read.key == "resolutions":
        node = resolution_node(field)
        return lambda at, context: [node(a["node"]) for a in context.by_hole.get(at.identifier, ())]
    if read.key == "status":
        return lambda at, context: context.status_of.get(at.identifier, OPEN)
    part = _HOLE_PARTS.get(read.key)
    if part is None:
        raise Unshapeable(field.name)
    return part


# A hole's own fields, as the response writes them (the enum's name for `kind`).
_HOLE_PARTS: dict[str, Callable[[HoleAt, Context], Any]] = {
    "identifier": lambda at, _context: at.identifier,
    "kind": lambda at, _context: at.kind.upper(),
    "type_hint": lambda at, _context: at.type_hint,
    "description": lambda at, _context: at.description,
    "constraints": lambda at, _context: at.constraints,
    "path": lambda at, _context: at.path,
}


def object_shape(
    fields: Sequence[PlannedField], resolution_node: Callable[[PlannedField], NodeShape]
) -> ObjectShape:
    """A JSON object of the IR (the IR itself, or a clause) as JsonKey describes it; the
    path is where it sits, for a clause's holes."""
    parts = [(field.key, _json_part(field, resolution_node)) for field in fields]

    def shape(value: Mapping[str, Any], path: str | None, context: Context) -> dict[str, Any]:
        return {key: part(value, path, context) for key, part in parts}

    return shape


def _json_part(
    field: PlannedField, resolution_node: Callable[[PlannedField], NodeShape]
) -> Callable[[Mapping[str, Any], str | None, Context], Any]:
    read = field.read
    if field.name == TYPENAME:
        return lambda _value, _path, _context: field.parent
    if not isinstance(read, JsonKey):
        raise Unshapeable(field.name)
    key = read.key

    def here(path: str | None) -> str:
        return key if path is None else f"{path}.{key}"

    if key == "holes":
        hole = hole_shape(field.children, resolution_node)
        return lambda value, path, context: [
            hole(at, context) for at in clause_holes(value, path or "")
        ]
    if field.children and field.many:
        item = object_shape(field.children, resolution_node)

        def items(value: Mapping[str, Any], path: str | None, context: Context) -> Any:
            found = value.get(key)
            return [
                item(one if isinstance(one, Mapping) else {}, f"{here(path)}[{i}]", context)
                for i, one in enumerate(found if isinstance(found, list) else [])
            ]

        return items
    if field.children:
        inner = object_shape(field.children, resolution_node)

        def nested(value: Mapping[str, Any], path: str | None, context: Context) -> Any:
            found = value.get(key)
            return inner(found, here(path), context) if isinstance(found, Mapping) else None

        return nested
    return _json_leaf(field, read)


def _json_leaf(
    field: PlannedField, read: JsonKey
) -> Callable[[Mapping[str, Any], str | None, Context], Any]:
    key = read.key
    if key == WHOLE:
        return lambda value, _path, _context: dict(value)
    if field.kind is Kind.TEXT:
        return lambda value, _path, _context: (
            found if isinstance(found := value.get(key), str) else None
        )
    if field.kind is Kind.JSON:
        empty = read.empty
        return lambda value, _path, _context: value.get(key, None if empty is None else [])
    raise Unshapeable(field.name)
