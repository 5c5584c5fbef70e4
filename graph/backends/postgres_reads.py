"""A planned read as one SQL statement whose result is the response's `data`, as JSON.

Postgres builds the nested JSON itself (`json_build_object`, `json_agg`, correlated
subqueries per nested field), so a `session` with its draft and revisions is one
statement and one row instead of three statements, rows and Python objects per field.
The statement runs as the caller (role + claims), so row-level security filters every
table it touches, exactly as for the field-by-field reads. Its text depends only on the
document: every argument is a bind parameter, and asyncpg prepares it once per connection.

Values are written exactly as Strawberry writes them: enums upper-cased from their stored
values, DateTime as Python's `datetime.isoformat()` in UTC, cursors as `graph.cursors`
encodes them. tests/integration/test_compiled_reads.py checks both paths agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from graph.auth import Claims
from graph.backends.base import ChildPageRequest, SessionPageRequest
from graph.reads.plan import TYPENAME, PlannedField, ReadPlan

SESSION_COLUMNS = (
    "id, status, source, title, metadata, version, created_at, updated_at, finalized_at"
)
REVISION_COLUMNS = (
    "id, session_id, number, content, revision_type, target_hole, metadata, created_at"
)
DRAFT_COLUMNS = (
    "id, session_id, version, ir, validation_status, smt_results, ambiguities, metadata, created_at"
)
RESOLUTION_COLUMNS = (
    "id, session_id, number, revision_id, hole_id, resolution_text, resolution_type, applied, "
    "metadata, created_at"
)

# Python's isoformat() of an aware UTC datetime: microseconds only when not zero.
_ISO = (
    "(to_char({c} at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || case when extract(microseconds from {c} at time zone 'UTC') % 1000000 = 0 then ''"
    " else to_char({c} at time zone 'UTC', '.US') end || '+00:00')"
)


def _iso(column: str) -> str:
    return _ISO.replace("{c}", "{t}." + column)


# Each leaf field of each type as an SQL expression over the row alias {t}.
_LEAVES: dict[str, dict[str, str]] = {
    "Session": {
        "id": "{t}.id",
        "status": "upper({t}.status)",
        "source": "upper({t}.source)",
        "title": "{t}.title",
        "metadata": "{t}.metadata",
        "version": "{t}.version",
        "createdAt": _iso("created_at"),
        "updatedAt": _iso("updated_at"),
        "finalizedAt": _iso("finalized_at"),
    },
    "Revision": {
        "id": "{t}.id",
        "number": "{t}.number",
        "content": "{t}.content",
        "type": "upper({t}.revision_type)",
        "targetHole": "{t}.target_hole",
        "metadata": "{t}.metadata",
        "createdAt": _iso("created_at"),
    },
    "Draft": {
        "id": "{t}.id",
        "version": "{t}.version",
        "ir": "{t}.ir",
        "validationStatus": "upper({t}.validation_status)",
        "smtResults": "{t}.smt_results",
        "ambiguities": "{t}.ambiguities",
        "metadata": "{t}.metadata",
        "createdAt": _iso("created_at"),
    },
    "Resolution": {
        "id": "{t}.id",
        "holeId": "{t}.hole_id",
        "text": "{t}.resolution_text",
        "type": "upper({t}.resolution_type)",
        "applied": "{t}.applied",
        "metadata": "{t}.metadata",
        "createdAt": _iso("created_at"),
    },
}


@dataclass(frozen=True, slots=True)
class _Child:
    """One kind of a session's children, paged oldest first by `key`."""

    node_type: str
    table: str
    columns: str
    key: str
    cursor_kind: str  # graph.cursors.CursorKind's value
    filters_applied: bool = False


_CHILDREN = {
    "revisions": _Child("Revision", "revisions", REVISION_COLUMNS, "number", "r"),
    "drafts": _Child("Draft", "drafts", DRAFT_COLUMNS, "version", "d"),
    "resolutions": _Child(
        "Resolution", "resolutions", RESOLUTION_COLUMNS, "number", "x", filters_applied=True
    ),
}

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_MARKER = re.compile("\x00(\\d+):([a-z]+)\x00")
_MAX_JSON_ARGS = 100  # Postgres's limit on a function's arguments

ParameterSource = Callable[[Sequence[object], Claims], object]


@dataclass(frozen=True, slots=True)
class CompiledRead:
    sql: str
    _sources: tuple[ParameterSource, ...]

    def parameters(self, bound: Sequence[object], viewer: Claims) -> list[object]:
        return [source(bound, viewer) for source in self._sources]


class _Unsupported(Exception):
    pass


def compile_read(plan: ReadPlan) -> CompiledRead | None:
    """The plan as one statement returning the `data` object as JSON text, or None when a
    field has no SQL form here (the request is then executed field by field)."""
    compiler = _Compiler()
    try:
        data = compiler.object(plan.fields, compiler.root_field)
    except _Unsupported:
        return None
    return compiler.finish(f"select {data}::text")


def _base64url(text_sql: str) -> str:
    """graph.cursors' encoding: base64url without padding (Postgres wraps at 76 chars)."""
    return (
        f"rtrim(translate(encode(convert_to({text_sql}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )


def _literal(text: str) -> str:
    if not _NAME.match(text):
        raise _Unsupported(text)
    return f"'{text}'"


class _Compiler:
    def __init__(self) -> None:
        self._pending: list[ParameterSource] = []
        self._markers: dict[tuple[int | None, str], str] = {}
        self._aliases = 0

    # Parameters and aliases

    def _parameter(
        self, slot: int | None, name: str, sql_type: str, read: Callable[[object], object]
    ) -> str:
        """A marker for one value of one field's bound arguments. `finish` numbers the
        markers the statement actually uses, in order."""
        if slot is None:
            raise _Unsupported("a field with arguments has no argument slot")
        return self._marker((slot, name), sql_type, lambda bound, _viewer: read(bound[slot]))

    def _viewer_parameter(self) -> str:
        return self._marker((None, "viewer"), "text", lambda _b, viewer: str(viewer.user_id))

    def _marker(self, key: tuple[int | None, str], sql_type: str, source: ParameterSource) -> str:
        if key not in self._markers:
            self._markers[key] = f"\x00{len(self._pending)}:{sql_type}\x00"
            self._pending.append(source)
        return self._markers[key]

    def finish(self, sql: str) -> CompiledRead:
        numbers: dict[int, int] = {}
        sources: list[ParameterSource] = []

        def number(match: re.Match[str]) -> str:
            index = int(match[1])
            if index not in numbers:
                sources.append(self._pending[index])
                numbers[index] = len(sources)
            return f"${numbers[index]}::{match[2]}"

        return CompiledRead(sql=_MARKER.sub(number, sql), _sources=tuple(sources))

    def _alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    # Objects

    def object(self, fields: Sequence[PlannedField], value: Callable[[PlannedField], str]) -> str:
        arguments: list[str] = []
        for field in fields:
            arguments.append(_literal(field.key))
            arguments.append(_literal(field.parent) if field.name == TYPENAME else value(field))
        if len(arguments) > _MAX_JSON_ARGS:
            raise _Unsupported("too many keys for one json_build_object")
        return f"json_build_object({', '.join(arguments)})"

    def root_field(self, field: PlannedField) -> str:
        if field.name == "session":
            s = self._alias("s")
            session_id = self._parameter(field.argument_slot, "id", "uuid", lambda v: v)
            node = self.node("Session", field.children, s)
            return f"(select {node} from public.sessions {s} where {s}.id = {session_id})"
        if field.name == "sessions":
            return self._sessions(field)
        if field.name == "viewer":
            user_id = self._viewer_parameter()
            return self.object(field.children, lambda f: _leaf(f, {"id": user_id}))
        raise _Unsupported(field.name)

    def node(self, type_name: str, fields: Sequence[PlannedField], row: str) -> str:
        leaves = {name: sql.format(t=row) for name, sql in _LEAVES[type_name].items()}
        if type_name != "Session":
            return self.object(fields, lambda f: _leaf(f, leaves))
        return self.object(fields, lambda f: self._session_field(f, leaves, row))

    def _session_field(self, field: PlannedField, leaves: dict[str, str], row: str) -> str:
        if field.name in leaves:
            return leaves[field.name]
        if field.name in ("currentDraft", "unresolvedHoles"):
            d = self._alias("d")
            value = (
                self.node("Draft", field.children, d)
                if field.name == "currentDraft"
                else f"to_json({d}.ambiguities)"
            )
            current = (
                f"(select {value} from public.drafts {d} where {d}.session_id = {row}.id"
                f" order by {d}.version desc limit 1)"
            )
            return current if field.name == "currentDraft" else f"coalesce({current}, '[]'::json)"
        child = _CHILDREN.get(field.name)
        if child is None:
            raise _Unsupported(field.name)
        return self._children(field, child, row)

    # Connections

    def _sessions(self, field: PlannedField) -> str:
        slot = field.argument_slot
        first = self._parameter(slot, "first", "int", lambda v: SessionPageRequest.of(v).first)
        status = self._parameter(slot, "status", "text", lambda v: SessionPageRequest.of(v).status)
        after_at = self._parameter(slot, "after_at", "timestamptz", _after_at)
        after_id = self._parameter(slot, "after_id", "uuid", _after_id)
        s = self._alias("s")
        where = f"({status} is null or {s}.status = {status})"
        rows = (
            f"select {SESSION_COLUMNS} from public.sessions {s} where {where}"
            f" and ({after_at} is null or {s}.updated_at < {after_at}"
            f" or ({s}.updated_at = {after_at} and {s}.id > {after_id}))"
            f" order by {s}.updated_at desc, {s}.id limit {first} + 1"
        )
        total = f"select count(*) from public.sessions {s} where {where}"

        def cursor(row: str) -> str:
            iso = _iso("updated_at").format(t=row)
            return _base64url(f"""'["s","' || {iso} || '","' || {row}.id || '"]'""")

        return self._connection(
            field,
            rows=rows,
            order="{t}.updated_at desc, {t}.id",
            total=total,
            first=first,
            cursor=cursor,
            node=lambda fields, row: self.node("Session", fields, row),
        )

    def _children(self, field: PlannedField, child: _Child, parent: str) -> str:
        slot = field.argument_slot
        first = self._parameter(slot, "first", "int", lambda v: ChildPageRequest.of(v).first)
        after = self._parameter(slot, "after", "int", lambda v: ChildPageRequest.of(v).after or 0)
        r = self._alias("r")
        where = f"{r}.session_id = {parent}.id"
        if child.filters_applied:
            applied = self._parameter(
                slot, "applied", "boolean", lambda v: ChildPageRequest.of(v).applied
            )
            where += f" and ({applied} is null or {r}.applied = {applied})"
        rows = (
            f"select {child.columns} from public.{child.table} {r}"
            f" where {where} and {r}.{child.key} > {after}"
            f" order by {r}.{child.key} limit {first} + 1"
        )
        total = f"select count(*) from public.{child.table} {r} where {where}"
        kind = child.cursor_kind

        def cursor(row: str) -> str:
            return _base64url(f"""'["{kind}",' || {row}.{child.key} || ']'""")

        return self._connection(
            field,
            rows=rows,
            order="{t}." + child.key,
            total=total,
            first=first,
            cursor=cursor,
            node=lambda fields, row: self.node(child.node_type, fields, row),
        )

    def _connection(
        self,
        field: PlannedField,
        *,
        rows: str,
        order: str,
        total: str,
        first: str,
        cursor: Callable[[str], str],
        node: Callable[[Sequence[PlannedField], str], str],
    ) -> str:
        """`rows` fetches one row past the page (for hasNextPage); `c.rn` numbers them."""
        c = self._alias("c")
        in_page = f"filter (where {c}.rn <= {first})"
        reads_rows = False

        def edge_field(f: PlannedField) -> str:
            if f.name == "cursor":
                return cursor(c)
            if f.name == "node":
                return node(f.children, c)
            raise _Unsupported(f.name)

        def page_info_field(f: PlannedField) -> str:
            if f.name == "hasNextPage":
                return f"(count(*) > {first})"
            if f.name == "endCursor":
                return f"(array_agg({cursor(c)} order by {c}.rn desc) {in_page})[1]"
            raise _Unsupported(f.name)

        def connection_field(f: PlannedField) -> str:
            nonlocal reads_rows
            if f.name == "totalCount":
                return f"({total})"
            reads_rows = True
            if f.name == "edges":
                edge = self.object(f.children, edge_field)
                return f"coalesce(json_agg({edge} order by {c}.rn) {in_page}, '[]'::json)"
            if f.name == "pageInfo":
                return self.object(f.children, page_info_field)
            raise _Unsupported(f.name)

        value = self.object(field.children, connection_field)
        if not reads_rows:
            return value
        numbered = (
            f"select x.*, row_number() over (order by {order.format(t='x')}) as rn from ({rows}) x"
        )
        return f"(select {value} from ({numbered}) {c})"


def _leaf(field: PlannedField, leaves: dict[str, str]) -> str:
    if field.name not in leaves:
        raise _Unsupported(field.name)
    return leaves[field.name]


def _after_at(value: object) -> object:
    after = SessionPageRequest.of(value).after
    return after.updated_at if after else None


def _after_id(value: object) -> object:
    after = SessionPageRequest.of(value).after
    return after.id if after else None
