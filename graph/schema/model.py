"""How each field of the public graph is stored: the one description the fast paths read.

Every field of the graph's object types says, in its Strawberry metadata, where its value
comes from:

    Column("title")                 a column of the row the object is built from
    Children("revisions", ...)      a page of the session's rows in a child table
    Current("drafts", ...)          the session's newest child row (or one of its columns)
    DraftByVersion                  `Session.draft(version:)`: one child row by version
    Holes, HoleKey                  an IR's typed holes and their fields (status, answers)
    SpecOf, JsonKey                 the IR typed: a key of its JSON (or of a clause's)
    Suggested                       computed from a hole and its IR in Python; the
                                    compilers fetch the inputs (graph/reads/finish.py)
    SessionById, SessionList        the root fields over sessions; Caller: `viewer`
    Summary("draft_count")          a column of the session's row in session_summary
    Stats                           `Viewer.stats`: the caller's sessions counted (a row)
    Timeline(...)                   a page of session_activity, newest first
    Linked("revisions", "revision_id")  the row of a table that this row's column names
    Structure("edges")              a part of the Connection / Edge / PageInfo shape
    Write("resolve_hole", command)  a mutation: the store's write of that name, given the
                                    command its arguments build (the resolver's own)
    Written("sessions", "id")       a mutation payload's row, found by the written row's key
    ExecutorOnly("why")             answered by the executor only; the reason says why

The compiled reads (graph/backends/*/compiled.py) walk a planned query's fields and
read these; so do the field-by-field paths (the rows they select, the records they
build). A column's kind (how it is serialised) follows from the field's GraphQL type, so
a new column is one field here, `title: str | None = column("title")`, and nothing else
in Python. tests/unit/test_graph_model.py fails when a field has no description.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar
from uuid import UUID

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
)

from graph.backends.base import ActivityPageRequest, ChildPageRequest, SessionPageRequest
from graph.cursors import CursorKind

T = TypeVar("T")
_METADATA_KEY = "session_graph.read"
_STRAWBERRY_FIELD = "strawberry-definition"  # where Strawberry keeps a field's definition


@dataclass(frozen=True, slots=True)
class Arguments(Generic[T]):
    """How a field's GraphQL arguments become the store's value (and the rules they
    follow: the resolvers and the compiled reads both call `read`)."""

    name: str
    read: Callable[[dict[str, Any]], T]


@dataclass(frozen=True, slots=True)
class Column:
    name: str


@dataclass(frozen=True, slots=True)
class Children:
    """A connection over the session's rows in `table`, oldest first by `order`."""

    table: str
    order: str
    cursor: CursorKind
    arguments: Arguments[ChildPageRequest]
    filters: tuple[str, ...] = ()  # boolean columns a client may filter on by name
    foreign_key: str = "session_id"  # the child's column holding its session's id


@dataclass(frozen=True, slots=True)
class Current:
    """The session's newest row in `table` by `order`; with `column`, that column of it."""

    table: str
    order: str
    column: str | None = None
    empty: Any = None  # the value when the session has no such row
    foreign_key: str = "session_id"


@dataclass(frozen=True, slots=True)
class SessionById:
    """`session(id:)`: the caller's row of `table` with that id, or null."""

    table: str
    arguments: Arguments[UUID]


@dataclass(frozen=True, slots=True)
class SessionList:
    """`sessions`: a connection over the caller's rows, newest updated first."""

    table: str
    arguments: Arguments[SessionPageRequest]


@dataclass(frozen=True, slots=True)
class Caller:
    """`viewer`: the caller, from the verified token (no store read)."""


@dataclass(frozen=True, slots=True)
class DraftByVersion:
    """`Session.draft(version:)`: the session's draft with that version, or null."""

    table: str
    arguments: Arguments[int]
    foreign_key: str = "session_id"


@dataclass(frozen=True, slots=True)
class Holes:
    """The typed holes of the IR in `column` (graph/spec/holes.py, or
    `session_graph.ir_holes` in SQL), each with its status from the session's
    resolutions: the draft's own, or with `current` the session's current draft's, and
    with `open_only` only those no resolution answers yet."""

    column: str = "ir"
    current: Current | None = None
    open_only: bool = False


@dataclass(frozen=True, slots=True)
class HoleKey:
    """A field of a hole: a key of its JSON, or `path`, `status`, `resolutions`."""

    key: str


@dataclass(frozen=True, slots=True)
class SpecOf:
    """The IR in `column`, typed: Spec and its clauses read `JsonKey`s of it."""

    column: str = "ir"


@dataclass(frozen=True, slots=True)
class JsonKey:
    """A key of the JSON object the parent is made of (the IR, one of its clauses). A
    string field is null unless the value is a JSON string; an object field null unless
    it is an object; a list field [] unless it is an array; a JSON field is the value,
    or `empty` when the key is missing. `holes` is the clause's holes, typed; `WHOLE`
    is the object itself, raw."""

    key: str
    empty: tuple[()] | None = None


WHOLE = "*"  # JsonKey(WHOLE): the JSON object itself


@dataclass(frozen=True, slots=True)
class Suggested:
    """Computed in Python from a hole and its IR (graph/spec/suggestions.py): the list
    (`key` None) or one suggestion's field. The compilers fetch the hole and the IR, and
    graph/reads/finish.py computes the list, so a document selecting suggestions is
    still one store round trip."""

    key: str | None = None


@dataclass(frozen=True, slots=True)
class Structure:
    part: str  # edges, node, cursor, pageInfo, totalCount, hasNextPage, endCursor


@dataclass(frozen=True, slots=True)
class Summary:
    """A column of the session's row in the `view` (migrations/0013's session_summary)."""

    column: str
    view: str = "session_summary"


@dataclass(frozen=True, slots=True)
class Stats:
    """`Viewer.stats`: one row counting the caller's sessions; its fields are Columns."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """A connection over the `view` (session_activity), newest first by (at, row_id): of
    the session (`per_session`), or of all the caller's sessions."""

    arguments: Arguments[ActivityPageRequest]
    per_session: bool
    view: str = "session_activity"


@dataclass(frozen=True, slots=True)
class Linked:
    """The row of `table` whose id is this row's `key` column (null when that is null)."""

    table: str
    key: str


@dataclass(frozen=True, slots=True)
class Write:
    """A mutation field: the store's write named `call` (one SQL function), with the
    command `command` builds from the field's arguments as Strawberry converts them. The
    resolver builds its command with the same function, so both paths send the same."""

    call: str
    command: Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Written:
    """A field of a mutation's payload: the row of `table` whose id is the written row's
    `key` column; with `newest`, the newest row of `table` (by that column) whose
    session is the written row's `key`. Read after the write, in its transaction."""

    table: str
    key: str
    newest: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutorOnly:
    reason: str


Read = (
    Column
    | Children
    | Current
    | DraftByVersion
    | Holes
    | HoleKey
    | SpecOf
    | JsonKey
    | Suggested
    | SessionById
    | SessionList
    | Caller
    | Structure
    | Summary
    | Stats
    | Timeline
    | Linked
    | Write
    | Written
    | ExecutorOnly
)
_READS = (
    Column,
    Children,
    Current,
    DraftByVersion,
    Holes,
    HoleKey,
    SpecOf,
    JsonKey,
    Suggested,
    SessionById,
    SessionList,
    Caller,
    Structure,
    Summary,
    Stats,
    Timeline,
    Linked,
    Write,
    Written,
    ExecutorOnly,
)


def described(read: Read, *, description: str | None = None) -> Any:
    """A Strawberry field (without a resolver) carrying its description."""
    return strawberry.field(description=description, metadata={_METADATA_KEY: read})


def column(name: str, *, description: str | None = None) -> Any:
    return described(Column(name), description=description)


def reads(read: Read) -> dict[str, Read]:
    """For `@strawberry.field(metadata=reads(...))` on a field with a resolver."""
    return {_METADATA_KEY: read}


def read_of(field: GraphQLField) -> Read | None:
    definition = (field.extensions or {}).get(_STRAWBERRY_FIELD)
    found = getattr(definition, "metadata", None) or {}
    value = found.get(_METADATA_KEY)
    return value if isinstance(value, _READS) else None


class Kind(Enum):
    """How a column's value is written in a response."""

    ID = "id"
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOLEAN = "boolean"
    ENUM = "enum"  # stored lower case, answered as the enum's (upper case) name
    JSON = "json"
    DATETIME = "datetime"  # Python's isoformat() in UTC
    TEXT_LIST = "text_list"


_SCALARS = {
    "ID": Kind.ID,
    "String": Kind.TEXT,
    "Int": Kind.INT,
    "Float": Kind.FLOAT,
    "Boolean": Kind.BOOLEAN,
    "JSON": Kind.JSON,
    "DateTime": Kind.DATETIME,
}


class NotDescribable(Exception):
    pass


def kind_of(output: GraphQLOutputType) -> Kind:
    """The kind of a leaf field's GraphQL type (nullability aside)."""
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if isinstance(inner, GraphQLList):
        item = inner.of_type.of_type if isinstance(inner.of_type, GraphQLNonNull) else inner.of_type
        if isinstance(item, GraphQLScalarType) and item.name == "String":
            return Kind.TEXT_LIST
        raise NotDescribable(f"a list of {item}")
    if isinstance(inner, GraphQLEnumType):
        return Kind.ENUM
    if isinstance(inner, GraphQLScalarType) and inner.name in _SCALARS:
        return _SCALARS[inner.name]
    raise NotDescribable(str(inner))


@dataclass(frozen=True, slots=True)
class DescribedColumn:
    field: str  # the GraphQL field
    column: str
    kind: Kind


def columns(schema: GraphQLSchema, type_name: str) -> list[DescribedColumn]:
    """The columns an object type's fields are read from, in the type's field order."""
    found = []
    graphql_type = schema.get_type(type_name)
    if not isinstance(graphql_type, GraphQLObjectType):
        raise NotDescribable(type_name)
    for name, field in graphql_type.fields.items():
        read = read_of(field)
        if isinstance(read, Column):
            found.append(DescribedColumn(name, read.name, kind_of(field.type)))
    return found


def described_fields(schema: GraphQLSchema) -> Iterator[tuple[str, str, Read | None]]:
    """Every field of the schema's own object types: (type, field, its description)."""
    for type_name, graphql_type in sorted(schema.type_map.items()):
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name, field in graphql_type.fields.items():
            yield type_name, name, read_of(field)


@dataclass(frozen=True, slots=True)
class StoredField:
    column: str
    is_id: bool  # an ID: the row holds the store's key (a uuid), the graph its text


_STORED: dict[type, dict[str, StoredField]] = {}


def stored_fields(cls: type) -> dict[str, StoredField]:
    """{python name: its column} for the fields of a Strawberry type stored in a column."""
    found = _STORED.get(cls)
    if found is None:
        found = {}
        for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            read = (field.metadata or {}).get(_METADATA_KEY)
            if isinstance(read, Column) and field.base_resolver is None:
                is_id = getattr(field.type, "of_type", field.type) is strawberry.ID
                found[field.python_name] = StoredField(read.name, is_id)
        _STORED[cls] = found
    return found


def camel(column: str) -> str:
    """A column's name as pg_graphql inflects it (migrations/0006: `inflect_names`)."""
    head, *rest = column.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_SCHEMA: list[GraphQLSchema] = []


def graph_schema() -> GraphQLSchema:
    """The public graph's schema (built once, on first use), for whoever reads the
    descriptions outside a request: the pg_graphql adapter's documents and rows."""
    if not _SCHEMA:
        from graph.schema import build_schema  # noqa: PLC0415 - the schema imports this module

        _SCHEMA.append(build_schema()._schema)
    return _SCHEMA[0]
