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
depends only on the plan. What each field reads, and how its value is written, comes
from its description (graph/schema/model.py): pg_graphql's name for a column is the
column's, inflected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import DocumentNode, parse

from graph.auth import Claims
from graph.backends.base import MAX_PAGE_SIZE
from graph.backends.pg_graphql.values import (
    TO_RESPONSE,
    activity_filter,
    session_filter,
    timestamp,
    upstream_session_cursor,
)
from graph.cursors import activity_cursor_of, position_cursor, session_cursor_of
from graph.reads.ir_shapes import (
    Context,
    NodeShape,
    Unshapeable,
    context,
    hole_list,
    hole_shape,
    object_shape,
)
from graph.reads.plan import TYPENAME, Bound, NotAnswerable, PlannedField, ReadPlan
from graph.schema.model import (
    Arguments,
    Caller,
    Children,
    Column,
    Current,
    DraftByVersion,
    Holes,
    Kind,
    Linked,
    SessionById,
    SessionList,
    SpecOf,
    Stats,
    Structure,
    Summary,
    Timeline,
    camel,
)

T = TypeVar("T")
Node = dict[str, Any]
Shape = Callable[[Node], Any]


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    type: str
    read: Callable[[Bound], object]
    omit_when_null: bool  # pg_graphql skips a filter operand whose variable is absent


@dataclass(frozen=True, slots=True)
class UpstreamRead:
    """The document to send (None: nothing to ask upstream), and how to read its answer."""

    document: DocumentNode | None
    _variables: tuple[_Variable, ...]
    _shape: Callable[[Node, Claims], dict[str, Any]]

    def variables(self, bound: Bound) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for variable in self._variables:
            value = variable.read(bound)
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
        document = parse(f"{head} {{ {selections} }}", no_location=True)
    return UpstreamRead(document, tuple(compiler.variables), shape)


class _Compiler:
    def __init__(self) -> None:
        self.variables: list[_Variable] = []
        self._names: dict[tuple[int, str], str] = {}
        self._aliases = 0

    def _alias(self) -> str:
        self._aliases += 1
        return f"a{self._aliases}"

    def _argument(
        self,
        field: PlannedField,
        arguments: Arguments[T],
        name: str,
        gql_type: str,
        get: Callable[[T], object],
        *,
        omit_when_null: bool = False,
    ) -> str:
        """A variable holding part of `field`'s arguments for this request."""
        read = lambda bound: get(bound.get(field, arguments))  # noqa: E731
        return self._variable(field, name, gql_type, read, omit_when_null=omit_when_null)

    def _variable(
        self,
        field: PlannedField,
        name: str,
        gql_type: str,
        read: Callable[[Bound], object],
        *,
        omit_when_null: bool = False,
    ) -> str:
        key = (id(field), name)
        if key not in self._names:
            self._names[key] = f"v{len(self.variables) + 1}"
            self.variables.append(_Variable(self._names[key], gql_type, read, omit_when_null))
        return "$" + self._names[key]

    # The root

    def root(
        self, fields: Sequence[PlannedField]
    ) -> tuple[str, Callable[[Node, Claims], dict[str, Any]]]:
        parts: list[str] = []
        shapes: list[tuple[str, Callable[[Node, Claims], Any]]] = []
        for field in fields:
            read = field.read
            if field.name == TYPENAME:
                shapes.append((field.key, lambda _data, _viewer: "Query"))
            elif isinstance(read, Caller):
                text, viewer_shape = self._viewer(field)
                parts.append(text)
                shapes.append((field.key, viewer_shape))
            elif isinstance(read, SessionById):
                text, shape = self._session(field, read)
                parts.append(text)
                shapes.append((field.key, _ignoring_viewer(shape)))
            elif isinstance(read, SessionList):
                text, shape = self._sessions(field, read)
                parts.append(text)
                shapes.append((field.key, _ignoring_viewer(shape)))
            else:
                raise _Unsupported(field.name)

        def data(upstream: Node, viewer: Claims) -> dict[str, Any]:
            return {key: shape(upstream, viewer) for key, shape in shapes}

        return " ".join(parts), data

    def _session(self, field: PlannedField, read: SessionById) -> tuple[str, Shape]:
        session_id = self._variable(
            field, "id", "UUID!", lambda bound: str(bound.get(field, read.arguments))
        )
        return self._one(field, "sessionCollection", f"{{id: {{eq: {session_id}}}}}")

    def _one(self, field: PlannedField, collection: str, filter_: str) -> tuple[str, Shape]:
        """The one node of `collection` that `filter_` leaves, or null."""
        selection, node = self.node(field.children)
        a = self._alias()
        text = (
            f"{a}: {collection}(filter: {filter_}, first: 1)"
            f" {{ edges {{ node {{ {selection} }} }} }}"
        )

        def shape(data: Node) -> Any:
            edges = data[a]["edges"]
            return node(edges[0]["node"]) if edges else None

        return text, shape

    def _sessions(self, field: PlannedField, read: SessionList) -> tuple[str, Shape]:
        page = functools.partial(self._argument, field, read.arguments)
        filter_ = page("filter", "SessionFilter", session_filter)
        first = page("first", "Int!", lambda p: p.first)
        after = page("after", "Cursor", upstream_session_cursor)
        updated_at, session_id = self._alias(), self._alias()

        def cursor(node: Node) -> str:
            return session_cursor_of(timestamp(node[updated_at]) or "", node[session_id])

        return self._connection(
            field,
            total=lambda a: f"{a}: sessionCollection(filter: {filter_}, first: 1) {{ totalCount }}",
            page=lambda a, selection: (
                f"{a}: sessionCollection(filter: {filter_}, first: {first}, after: {after},"
                f" orderBy: [{{updatedAt: DescNullsLast}}]) {{ pageInfo {{ hasNextPage }}"
                f" edges {{ node {{ {updated_at}: updatedAt {session_id}: id {selection} }} }} }}"
            ),
            cursor=cursor,
        )

    # Objects

    def node(self, fields: Sequence[PlannedField]) -> tuple[str, Shape]:
        parts: list[str] = []
        shapes: list[tuple[str, Shape]] = []
        for field in fields:
            read = field.read
            if field.name == TYPENAME:
                shapes.append((field.key, _constant(field.parent)))
            elif isinstance(read, Column) and field.kind is not None:
                a = self._alias()
                parts.append(f"{a}: {camel(read.name)}")
                shapes.append((field.key, _converted(a, TO_RESPONSE[field.kind])))
            elif isinstance(read, Current):
                text, value = self._current(field, read)
                parts.append(text)
                shapes.append((field.key, value))
            elif isinstance(read, Children):
                text, value = self._children(field, read)
                parts.append(text)
                shapes.append((field.key, value))
            elif isinstance(read, DraftByVersion):
                text, value = self._draft_by_version(field, read)
                parts.append(text)
                shapes.append((field.key, value))
            elif isinstance(read, Holes | SpecOf):
                text, value = self._ir(field, read)
                parts.append(text)
                shapes.append((field.key, value))
            elif isinstance(read, Summary | Timeline | Linked):
                text, value = self._dashboard(field, read)
                parts.append(text)
                shapes.append((field.key, value))
            else:
                raise _Unsupported(field.name)

        def shape(node: Node) -> dict[str, Any]:
            return {key: s(node) for key, s in shapes}

        return " ".join(parts) or "__typename", shape

    # Dashboards: migrations/0013's views, and the relationships their directives name

    def _viewer(self, field: PlannedField) -> tuple[str, Callable[[Node, Claims], Any]]:
        parts: list[str] = []
        shapes: list[tuple[str, Callable[[Node, Claims], Any]]] = []
        for sub in field.children:
            read = sub.read
            if sub.name == TYPENAME:
                shapes.append((sub.key, lambda _data, _viewer: "Viewer"))
            elif isinstance(read, Column) and read.name == "id":
                shapes.append((sub.key, lambda _data, viewer: str(viewer.user_id)))
            elif isinstance(read, Stats):
                text, stats = self._stats(sub)
                parts.append(text)
                shapes.append((sub.key, _ignoring_viewer(stats)))
            elif isinstance(read, Timeline) and not read.per_session:
                text, timeline = self._timeline(sub, read, "sessionActivityCollection")
                parts.append(text)
                shapes.append((sub.key, _ignoring_viewer(timeline)))
            else:
                raise _Unsupported(sub.name)

        def shape(data: Node, viewer: Claims) -> dict[str, Any]:
            return {key: s(data, viewer) for key, s in shapes}

        return " ".join(parts), shape

    def _stats(self, field: PlannedField) -> tuple[str, Shape]:
        """The caller's row of session_stats; zeros (and a null average) without one."""
        a = self._alias()
        parts: list[tuple[str, Shape]] = []
        names: list[str] = []
        for sub in field.children:
            if sub.name == TYPENAME:
                parts.append((sub.key, _constant(sub.parent)))
                continue
            if not isinstance(sub.read, Column) or sub.kind is None:
                raise _Unsupported(sub.name)
            upstream, convert = camel(sub.read.name), TO_RESPONSE[sub.kind]
            empty = None if sub.read.name == "average_seconds_to_finalize" else 0
            parts.append((sub.key, _stat(upstream, convert, empty)))
            names.append(upstream)
        selection = " ".join(dict.fromkeys(names)) or "total"
        text = f"{a}: sessionStatsCollection(first: 1) {{ edges {{ node {{ {selection} }} }} }}"

        def shape(data: Node) -> dict[str, Any]:
            edges = data[a]["edges"]
            row = edges[0]["node"] if edges else {}
            return {key: part(row) for key, part in parts}

        return text, shape

    def _dashboard(
        self, field: PlannedField, read: Summary | Timeline | Linked
    ) -> tuple[str, Shape]:
        if isinstance(read, Timeline):
            return self._timeline(field, read, "activity")
        if isinstance(read, Linked):
            a = self._alias()
            selection, node = self.node(field.children)
            relation = camel(read.key.removesuffix("_id"))
            return (
                f"{a}: {relation} {{ {selection} }}",
                lambda n: node(n[a]) if n[a] is not None else None,
            )
        return self._summary(field, read)

    def _summary(self, field: PlannedField, read: Summary) -> tuple[str, Shape]:
        """A session's counts from its children's totals, as session_summary defines them
        for the Postgres compiler."""
        a = self._alias()
        if read.column in ("revision_count", "draft_count"):
            relation = "revisions" if read.column == "revision_count" else "drafts"
            return f"{a}: {relation} {{ totalCount }}", lambda n: int(n[a]["totalCount"])
        raise _Unsupported(field.name)

    def _timeline(self, field: PlannedField, read: Timeline, relation: str) -> tuple[str, Shape]:
        page = functools.partial(self._argument, field, read.arguments)
        first = page("first", "Int!", lambda p: p.first)
        after = page("after", "SessionActivityFilter!", activity_filter)
        at, key = self._alias(), self._alias()

        def cursor(node: Node) -> str:
            return activity_cursor_of(timestamp(node[at]) or "", node[key])

        return self._connection(
            field,
            total=lambda a: f"{a}: {relation} {{ totalCount }}",
            page=lambda a, selection: (
                f"{a}: {relation}(first: {first}, filter: {after},"
                " orderBy: [{at: DescNullsLast}, {rowKey: DescNullsLast}])"
                " { pageInfo { hasNextPage }"
                f" edges {{ node {{ {at}: at {key}: rowKey {selection} }} }} }}"
            ),
            cursor=cursor,
        )

    def _draft_by_version(self, field: PlannedField, read: DraftByVersion) -> tuple[str, Shape]:
        version = self._argument(field, read.arguments, "version", "Int!", lambda v: v)
        return self._one(field, read.table, f"{{version: {{eq: {version}}}}}")

    # An IR's holes and its Spec: the IR and the session's answers, shaped in Python

    def _ir(self, field: PlannedField, read: Holes | SpecOf) -> tuple[str, Shape]:
        answers = _Answers(self)
        try:
            if isinstance(read, SpecOf):
                spec = object_shape(field.children, answers.resolution_node)
                value: Callable[[Context], Any] = lambda c: spec(c.ir, None, c)  # noqa: E731
            else:
                value = hole_list(hole_shape(field.children, answers.resolution_node), read)
        except Unshapeable as exc:
            raise _Unsupported(str(exc)) from exc
        ir, column, parse_json = self._alias(), camel(read.column), TO_RESPONSE[Kind.JSON]
        current = read.current if isinstance(read, Holes) else None
        if current is not None:  # on a session: its current draft's IR, its own answers
            d = self._alias()
            text = (
                f"{d}: {current.table}(first: 1, orderBy: [{{{camel(current.order)}:"
                f" DescNullsLast}}]) {{ edges {{ node {{ {ir}: {column} }} }} }} {answers.text()}"
            )

            def on_session(node: Node) -> Any:
                edges = node[d]["edges"]
                if not edges:
                    return []
                return value(context(parse_json(edges[0]["node"][ir]), answers.read(node)))

            return text, on_session
        s = self._alias()
        text = f"{ir}: {column} {s}: {_SESSION} {{ {answers.text()} }}"

        def on_draft(node: Node) -> Any:
            return value(context(parse_json(node[ir]), answers.read(node[s])))

        return text, on_draft

    def _current(self, field: PlannedField, read: Current) -> tuple[str, Shape]:
        a = self._alias()
        if read.column is None:
            selection, value = self.node(field.children)
        else:
            column, convert = self._alias(), TO_RESPONSE[Kind.TEXT_LIST]
            selection = f"{column}: {camel(read.column)}"

            def value(node: Node) -> Any:
                return convert(node[column])

        text = (
            f"{a}: {read.table}(first: 1, orderBy: [{{{camel(read.order)}: DescNullsLast}}])"
            f" {{ edges {{ node {{ {selection} }} }} }}"
        )
        empty: Any = list(read.empty) if read.empty is not None else None

        def current(node: Node) -> Any:
            edges = node[a]["edges"]
            return value(edges[0]["node"]) if edges else empty

        return text, current

    # Connections

    def _children(self, field: PlannedField, read: Children) -> tuple[str, Shape]:
        page = functools.partial(self._argument, field, read.arguments)
        first = page("first", "Int!", lambda p: p.first)
        after = page("after", "Int!", lambda p: p.after or 0)
        filters = " ".join(
            f"{camel(name)}: {{eq: {page(name, 'Boolean', _attribute(name), omit_when_null=True)}}}"
            for name in read.filters
        )
        key, order = self._alias(), camel(read.order)
        relation, kind = read.table, read.cursor
        total_filter = f"(filter: {{{filters}}})" if filters else ""
        return self._connection(
            field,
            total=lambda a: f"{a}: {relation}{total_filter} {{ totalCount }}",
            page=lambda a, selection: (
                f"{a}: {relation}(first: {first},"
                f" filter: {{{order}: {{gt: {after}}} {filters}}},"
                f" orderBy: [{{{order}: AscNullsLast}}]) {{ pageInfo {{ hasNextPage }}"
                f" edges {{ node {{ {key}: {order} {selection} }} }} }}"
            ),
            cursor=lambda node: position_cursor(kind, int(node[key])),
        )

    def _connection(
        self,
        field: PlannedField,
        *,
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
            part = _part(sub)
            if sub.name == TYPENAME:
                shapes.append((sub.key, _constant(sub.parent)))
            elif part == "totalCount":
                wants_total = True
                shapes.append((sub.key, lambda n: int(n[total_alias]["totalCount"])))
            elif part == "edges":
                wants_page = True
                selection, edges = self._edges(sub, cursor)
                node_selections.append(selection)
                shapes.append((sub.key, _under(page_alias, "edges", edges)))
            elif part == "pageInfo":
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
        self, edges: PlannedField, cursor: Callable[[Node], str]
    ) -> tuple[str, Callable[[list[Node]], Any]]:
        selections: list[str] = []
        shapes: list[tuple[str, Shape]] = []
        for sub in edges.children:
            part = _part(sub)
            if sub.name == TYPENAME:
                shapes.append((sub.key, _constant(sub.parent)))
            elif part == "cursor":
                shapes.append((sub.key, cursor))
            elif part == "node":
                selection, node = self.node(sub.children)
                selections.append(selection)
                shapes.append((sub.key, node))
            else:
                raise _Unsupported(sub.name)

        def shape(upstream_edges: list[Node]) -> list[dict[str, Any]]:
            return [{key: s(edge["node"]) for key, s in shapes} for edge in upstream_edges]

        return " ".join(selections), shape


_SESSION = "session"  # a draft's session, upstream
_ANSWERS = "resolutions"  # a session's answers to its holes, upstream


class _Answers:
    """A session's answers, oldest first, in one upstream page: each answer's hole and
    `applied`, and what the holes' `resolutions` fields select of it."""

    def __init__(self, compiler: _Compiler) -> None:
        self._compiler = compiler
        self._alias, self._hole, self._applied = (compiler._alias() for _ in range(3))
        self._selections: list[str] = []

    def resolution_node(self, field: PlannedField) -> NodeShape:
        selection, shape = self._compiler.node(field.children)
        self._selections.append(selection)
        return shape

    def text(self) -> str:
        return (
            f"{self._alias}: {_ANSWERS}(first: {MAX_PAGE_SIZE},"
            f" orderBy: [{{number: AscNullsLast}}]) {{ pageInfo {{ hasNextPage }}"
            f" edges {{ node {{ {self._hole}: holeId {self._applied}: applied"
            f" {' '.join(self._selections)} }} }} }}"
        )

    def read(self, node: Node) -> list[dict[str, Any]]:
        page = node[self._alias]
        if page["pageInfo"]["hasNextPage"]:
            raise NotAnswerable("the session has more answers than one pg_graphql page")
        return [
            {
                "hole_id": e["node"][self._hole],
                "applied": bool(e["node"][self._applied]),
                "node": e["node"],
            }
            for e in page["edges"]
        ]


def _stat(upstream: str, convert: Callable[[Any], Any], empty: int | None) -> Shape:
    def value(row: Node) -> Any:
        found = row.get(upstream)
        return convert(found) if found is not None else empty

    return value


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
        part = _part(sub)
        if sub.name == TYPENAME:
            shapes.append((sub.key, _constant(sub.parent)))
        elif part == "hasNextPage":
            shapes.append((sub.key, lambda p: bool(p["pageInfo"]["hasNextPage"])))
        elif part == "endCursor":
            shapes.append(
                (sub.key, lambda p: cursor(p["edges"][-1]["node"]) if p["edges"] else None)
            )
        else:
            raise _Unsupported(sub.name)

    def shape(page: Node) -> dict[str, Any]:
        return {key: s(page) for key, s in shapes}

    return shape


def _attribute(name: str) -> Callable[[Any], object]:
    """A page request's filter by name (`applied`)."""
    return lambda request: getattr(request, name)


def _part(field: PlannedField) -> str | None:
    if field.name == TYPENAME:
        return None
    if not isinstance(field.read, Structure):
        raise _Unsupported(field.name)
    return field.read.part
