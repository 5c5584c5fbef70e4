"""A planned read as one pg_graphql request, and pg_graphql's answer reshaped into ours.

Field by field, a query costs one upstream request per level of nesting (the
DataLoaders batch each level). Compiled, the whole query is one pg_graphql document:
pg_graphql resolves nested collections itself, in one transaction, as the caller.
The reshaping applies exactly the conversions the field-by-field path applies (the
records in pg_graphql.py, then Strawberry's serialisation): JSON parsed from pg_graphql's
strings, enums upper-cased, datetimes through `datetime.isoformat()`, cursors from
`graph.cursors`. tests/integration/test_compiled_reads.py checks both paths agree.

Upstream aliases are generated (`a1`, `a2`, ...), so a client's aliases never reach
pg_graphql, and variables are generated too (`$v1`, ...), so the document's text
depends only on the plan.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.auth import Claims
from graph.backends.base import ChildPageRequest, SessionPageRequest
from graph.cursors import CursorKind, position_cursor, session_cursor_of
from graph.reads.plan import TYPENAME, PlannedField, ReadPlan

Node = dict[str, Any]
Shape = Callable[[Node], Any]


def _text(value: Any) -> Any:
    return value


def _upper(value: str) -> str:
    return value.upper()


def _json(value: str) -> Any:
    return json.loads(value)


# Postgres's JSON timestamps trim trailing zeros of the fraction; isoformat() keeps six.
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?([+-]\d\d:\d\d)")


def _time(value: str | None) -> str | None:
    """`datetime.fromisoformat(value).isoformat()`, without building the datetime for
    pg_graphql's usual shape (twenty nodes carry forty of them)."""
    if value is None:
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None or match[3] == "-00:00":  # isoformat() writes that one as +00:00
        return datetime.fromisoformat(value).isoformat()
    seconds, fraction, offset = match.groups()
    if fraction is None or fraction.strip("0") == "":
        return seconds + offset
    return f"{seconds}.{fraction.ljust(6, '0')}{offset}"


# Our leaf field -> (pg_graphql field, conversion), per type.
_LEAVES: dict[str, dict[str, tuple[str, Callable[[Any], Any]]]] = {
    "Session": {
        "id": ("id", _text),
        "status": ("status", _upper),
        "source": ("source", _upper),
        "title": ("title", _text),
        "metadata": ("metadata", _json),
        "version": ("version", int),
        "createdAt": ("createdAt", _time),
        "updatedAt": ("updatedAt", _time),
        "finalizedAt": ("finalizedAt", _time),
    },
    "Revision": {
        "id": ("id", _text),
        "number": ("number", int),
        "content": ("content", _text),
        "type": ("revisionType", _upper),
        "targetHole": ("targetHole", _text),
        "metadata": ("metadata", _json),
        "createdAt": ("createdAt", _time),
    },
    "Draft": {
        "id": ("id", _text),
        "version": ("version", int),
        "ir": ("ir", _json),
        "validationStatus": ("validationStatus", _upper),
        "smtResults": ("smtResults", _json),
        "ambiguities": ("ambiguities", list),
        "metadata": ("metadata", _json),
        "createdAt": ("createdAt", _time),
    },
    "Resolution": {
        "id": ("id", _text),
        "holeId": ("holeId", _text),
        "text": ("resolutionText", _text),
        "type": ("resolutionType", _upper),
        "applied": ("applied", bool),
        "metadata": ("metadata", _json),
        "createdAt": ("createdAt", _time),
    },
}


@dataclass(frozen=True, slots=True)
class _Child:
    node_type: str
    key: str  # the pg_graphql field that orders the children and makes the cursor
    cursor_kind: CursorKind
    filters_applied: bool = False


_CHILDREN = {
    "revisions": _Child("Revision", "number", CursorKind.REVISION),
    "drafts": _Child("Draft", "version", CursorKind.DRAFT),
    "resolutions": _Child("Resolution", "number", CursorKind.RESOLUTION, filters_applied=True),
}


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    type: str
    slot: int
    read: Callable[[object], object]
    omit_when_null: bool  # pg_graphql skips a filter operand whose variable is absent


@dataclass(frozen=True, slots=True)
class UpstreamRead:
    """The document to send (None: nothing to ask upstream), and how to read its answer."""

    document: str | None
    _variables: tuple[_Variable, ...]
    _shape: Callable[[Node, Claims], dict[str, Any]]

    def variables(self, bound: Sequence[object]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for variable in self._variables:
            value = variable.read(bound[variable.slot])
            if value is None and variable.omit_when_null:
                continue
            values[variable.name] = value
        return values

    def data(self, upstream: Node, viewer: Claims) -> dict[str, Any]:
        return self._shape(upstream, viewer)


class _Unsupported(Exception):
    pass


def compile_read(plan: ReadPlan) -> UpstreamRead | None:
    compiler = _Compiler()
    try:
        selections, shape = compiler.root(plan.fields)
    except _Unsupported:
        return None
    document = None
    if selections:
        declared = ", ".join(f"${v.name}: {v.type}" for v in compiler.variables)
        head = f"query CompiledRead({declared})" if declared else "query CompiledRead"
        document = f"{head} {{ {selections} }}"
    return UpstreamRead(document, tuple(compiler.variables), shape)


class _Compiler:
    def __init__(self) -> None:
        self.variables: list[_Variable] = []
        self._names: dict[tuple[int, str], str] = {}
        self._aliases = 0

    def _alias(self) -> str:
        self._aliases += 1
        return f"a{self._aliases}"

    def _variable(
        self,
        slot: int | None,
        name: str,
        gql_type: str,
        read: Callable[[object], object],
        *,
        omit_when_null: bool = False,
    ) -> str:
        if slot is None:
            raise _Unsupported("a field with arguments has no argument slot")
        key = (slot, name)
        if key not in self._names:
            self._names[key] = f"v{len(self.variables) + 1}"
            self.variables.append(_Variable(self._names[key], gql_type, slot, read, omit_when_null))
        return "$" + self._names[key]

    # The root

    def root(
        self, fields: Sequence[PlannedField]
    ) -> tuple[str, Callable[[Node, Claims], dict[str, Any]]]:
        parts: list[str] = []
        shapes: list[tuple[str, Callable[[Node, Claims], Any]]] = []
        for field in fields:
            if field.name == TYPENAME:
                shapes.append((field.key, lambda _data, _viewer: "Query"))
            elif field.name == "viewer":
                shapes.append((field.key, _viewer_shape(field)))
            elif field.name in ("session", "sessions"):
                text, shape = (self._session if field.name == "session" else self._sessions)(field)
                parts.append(text)
                shapes.append((field.key, _ignoring_viewer(shape)))
            else:
                raise _Unsupported(field.name)

        def data(upstream: Node, viewer: Claims) -> dict[str, Any]:
            return {key: shape(upstream, viewer) for key, shape in shapes}

        return " ".join(parts), data

    def _session(self, field: PlannedField) -> tuple[str, Shape]:
        session_id = self._variable(field.argument_slot, "id", "UUID!", str)
        selection, node = self.node("Session", field.children)
        a = self._alias()
        text = (
            f"{a}: sessionCollection(filter: {{id: {{eq: {session_id}}}}}, first: 1)"
            f" {{ edges {{ node {{ {selection} }} }} }}"
        )

        def shape(data: Node) -> Any:
            edges = data[a]["edges"]
            return node(edges[0]["node"]) if edges else None

        return text, shape

    def _sessions(self, field: PlannedField) -> tuple[str, Shape]:
        slot = field.argument_slot
        filter_ = self._variable(slot, "filter", "SessionFilter", _session_filter)
        first = self._variable(slot, "first", "Int!", lambda v: SessionPageRequest.of(v).first)
        after = self._variable(slot, "after", "Cursor", _upstream_session_cursor)
        updated_at, session_id = self._alias(), self._alias()

        def cursor(node: Node) -> str:
            return session_cursor_of(_time(node[updated_at]) or "", node[session_id])

        return self._connection(
            field,
            node_type="Session",
            total=lambda a: f"{a}: sessionCollection(filter: {filter_}, first: 1) {{ totalCount }}",
            page=lambda a, selection: (
                f"{a}: sessionCollection(filter: {filter_}, first: {first}, after: {after},"
                f" orderBy: [{{updatedAt: DescNullsLast}}]) {{ pageInfo {{ hasNextPage }}"
                f" edges {{ node {{ {updated_at}: updatedAt {session_id}: id {selection} }} }} }}"
            ),
            cursor=cursor,
        )

    # Objects

    def node(self, type_name: str, fields: Sequence[PlannedField]) -> tuple[str, Shape]:
        leaves = _LEAVES[type_name]
        parts: list[str] = []
        shapes: list[tuple[str, Shape]] = []
        for field in fields:
            if field.name == TYPENAME:
                shapes.append((field.key, _constant(type_name)))
            elif field.name in leaves:
                upstream, convert = leaves[field.name]
                a = self._alias()
                parts.append(f"{a}: {upstream}")
                shapes.append((field.key, _converted(a, convert)))
            elif type_name == "Session":
                text, value = self._session_field(field)
                parts.append(text)
                shapes.append((field.key, value))
            else:
                raise _Unsupported(field.name)

        def shape(node: Node) -> dict[str, Any]:
            return {key: s(node) for key, s in shapes}

        return " ".join(parts) or "__typename", shape

    def _session_field(self, field: PlannedField) -> tuple[str, Shape]:
        if field.name in ("currentDraft", "unresolvedHoles"):
            a = self._alias()
            if field.name == "currentDraft":
                selection, draft = self.node("Draft", field.children)
            else:
                holes = self._alias()
                selection = f"{holes}: ambiguities"

                def draft(node: Node) -> Any:
                    return list(node[holes])

            text = (
                f"{a}: drafts(first: 1, orderBy: [{{version: DescNullsLast}}])"
                f" {{ edges {{ node {{ {selection} }} }} }}"
            )
            empty: Any = None if field.name == "currentDraft" else []

            def current(node: Node) -> Any:
                edges = node[a]["edges"]
                return draft(edges[0]["node"]) if edges else empty

            return text, current
        child = _CHILDREN.get(field.name)
        if child is None:
            raise _Unsupported(field.name)
        return self._children(field, child)

    # Connections

    def _children(self, field: PlannedField, child: _Child) -> tuple[str, Shape]:
        slot = field.argument_slot
        first = self._variable(slot, "first", "Int!", lambda v: ChildPageRequest.of(v).first)
        after = self._variable(slot, "after", "Int!", lambda v: ChildPageRequest.of(v).after or 0)
        applied_filter = ""
        if child.filters_applied:
            applied = self._variable(
                slot,
                "applied",
                "Boolean",
                lambda v: ChildPageRequest.of(v).applied,
                omit_when_null=True,
            )
            applied_filter = f"applied: {{eq: {applied}}}"
        key = self._alias()
        name, kind = field.name, child.cursor_kind
        total_filter = f"(filter: {{{applied_filter}}})" if applied_filter else ""
        return self._connection(
            field,
            node_type=child.node_type,
            total=lambda a: f"{a}: {name}{total_filter} {{ totalCount }}",
            page=lambda a, selection: (
                f"{a}: {name}(first: {first},"
                f" filter: {{{child.key}: {{gt: {after}}} {applied_filter}}},"
                f" orderBy: [{{{child.key}: AscNullsLast}}]) {{ pageInfo {{ hasNextPage }}"
                f" edges {{ node {{ {key}: {child.key} {selection} }} }} }}"
            ),
            cursor=lambda node: position_cursor(kind, int(node[key])),
        )

    def _connection(
        self,
        field: PlannedField,
        *,
        node_type: str,
        total: Callable[[str], str],
        page: Callable[[str, str], str],
        cursor: Callable[[Node], str],
    ) -> tuple[str, Shape]:
        """Our connection from up to two upstream ones: the total (unfiltered by `after`)
        and the page, whose nodes also carry the fields our cursor is made of."""
        total_alias, page_alias = self._alias(), self._alias()
        node_selections: list[str] = []
        shapes: list[tuple[str, Shape]] = []
        wants_total = wants_page = False
        for sub in field.children:
            if sub.name == TYPENAME:
                shapes.append((sub.key, _constant(sub.parent)))
            elif sub.name == "totalCount":
                wants_total = True
                shapes.append((sub.key, lambda n: int(n[total_alias]["totalCount"])))
            elif sub.name == "edges":
                wants_page = True
                selection, edges = self._edges(sub, node_type, cursor)
                node_selections.append(selection)
                shapes.append((sub.key, _under(page_alias, "edges", edges)))
            elif sub.name == "pageInfo":
                wants_page = True
                info = _page_info(sub, cursor)
                shapes.append((sub.key, _under(page_alias, None, info)))
            else:
                raise _Unsupported(sub.name)
        parts = []
        if wants_total:
            parts.append(total(total_alias))
        if wants_page:
            parts.append(page(page_alias, " ".join(node_selections)))

        def shape(node: Node) -> dict[str, Any]:
            return {key: s(node) for key, s in shapes}

        return " ".join(parts), shape

    def _edges(
        self, edges: PlannedField, node_type: str, cursor: Callable[[Node], str]
    ) -> tuple[str, Callable[[list[Node]], Any]]:
        selections: list[str] = []
        shapes: list[tuple[str, Shape]] = []
        for sub in edges.children:
            if sub.name == TYPENAME:
                shapes.append((sub.key, _constant(sub.parent)))
            elif sub.name == "cursor":
                shapes.append((sub.key, cursor))
            elif sub.name == "node":
                selection, node = self.node(node_type, sub.children)
                selections.append(selection)
                shapes.append((sub.key, node))
            else:
                raise _Unsupported(sub.name)

        def shape(upstream_edges: list[Node]) -> list[dict[str, Any]]:
            return [{key: s(edge["node"]) for key, s in shapes} for edge in upstream_edges]

        return " ".join(selections), shape


def _constant(value: str) -> Shape:
    return lambda _node: value


def _converted(alias: str, convert: Callable[[Any], Any]) -> Shape:
    return lambda node: convert(node[alias])


def _under(alias: str, key: str | None, shape: Callable[[Any], Any]) -> Shape:
    if key is None:
        return lambda node: shape(node[alias])
    return lambda node: shape(node[alias][key])


def _ignoring_viewer(shape: Shape) -> Callable[[Node, Claims], Any]:
    return lambda data, _viewer: shape(data)


def _page_info(field: PlannedField, cursor: Callable[[Node], str]) -> Shape:
    shapes: list[tuple[str, Shape]] = []
    for sub in field.children:
        if sub.name == TYPENAME:
            shapes.append((sub.key, _constant(sub.parent)))
        elif sub.name == "hasNextPage":
            shapes.append((sub.key, lambda p: bool(p["pageInfo"]["hasNextPage"])))
        elif sub.name == "endCursor":
            shapes.append(
                (sub.key, lambda p: cursor(p["edges"][-1]["node"]) if p["edges"] else None)
            )
        else:
            raise _Unsupported(sub.name)

    def shape(page: Node) -> dict[str, Any]:
        return {key: s(page) for key, s in shapes}

    return shape


def _viewer_shape(field: PlannedField) -> Callable[[Node, Claims], Any]:
    for sub in field.children:
        if sub.name not in ("id", TYPENAME):
            raise _Unsupported(sub.name)

    def shape(_data: Node, viewer: Claims) -> dict[str, Any]:
        values = {"id": str(viewer.user_id), TYPENAME: "Viewer"}
        return {sub.key: values[sub.name] for sub in field.children}

    return shape


def _session_filter(value: object) -> dict[str, Any]:
    status = SessionPageRequest.of(value).status
    return {"status": {"eq": status}} if status else {}


def _upstream_session_cursor(value: object) -> str | None:
    """pg_graphql's cursor for our position: [updatedAt, id] (it appends the key)."""
    after = SessionPageRequest.of(value).after
    if after is None:
        return None
    return pg_graphql_cursor(after.updated_at.isoformat(), str(after.id))


def pg_graphql_cursor(*values: object) -> str:
    """pg_graphql's cursor: base64 of the JSON array of the row's order values."""
    return base64.b64encode(json.dumps(list(values)).encode()).decode()
