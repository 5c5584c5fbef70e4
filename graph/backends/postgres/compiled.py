"""A planned read as one SQL statement whose result is the response's `data`, as JSON.

Postgres builds the nested JSON itself (`json_build_object`, `json_agg`, correlated
subqueries per nested field), so a `session` with its draft and revisions is one
statement and one row. The statement runs as the caller (role + claims), so row-level
security filters every table it touches. Its text depends only on the document: every
argument is a bind parameter, numbered as the statement comes to need it.

What each field reads comes from its description (graph/schema/model.py): a column, a
page of child rows, the newest child row, an IR's clauses (keys of the JSON). Values are
written as Strawberry writes them: enums upper-cased from their stored values, DateTime
as Python's `datetime.isoformat()` in UTC, cursors as `graph.cursors` encodes them. Two
things are Python's, computed by graph/reads/finish.py from inputs the statement writes
in their place: a hole's suggestions (graph/spec/suggestions.py) and the lists of an IR's
holes (`Draft.holes`, `Session.openHoles`: the IR and the session's answers).
tests/integration/test_compiled_reads.py checks both paths agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graph.auth import Claims
from graph.cursors import CursorKind
from graph.reads.finish import hole_list_of, ir_beside
from graph.reads.ir_shapes import Unshapeable
from graph.reads.plan import TYPENAME, Bound, PlannedField, ReadPlan
from graph.reads.suggested import is_suggestions
from graph.schema.model import (
    WHOLE,
    Arguments,
    Caller,
    Children,
    Column,
    Current,
    DraftByVersion,
    HoleKey,
    Holes,
    JsonKey,
    Kind,
    Linked,
    SessionById,
    SessionList,
    SpecOf,
    Stats,
    Structure,
    Summary,
    Timeline,
    Written,
)

# Python's isoformat() of an aware UTC datetime: microseconds only when not zero.
_ISO = (
    "(to_char({c} at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || case when extract(microseconds from {c} at time zone 'UTC') % 1000000 = 0 then ''"
    " else to_char({c} at time zone 'UTC', '.US') end || '+00:00')"
)
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_MAX_JSON_ARGS = 100  # Postgres's limit on a function's arguments
_ANSWERS = "public.resolutions"  # a session's answers to its holes: hole_id, applied, number
# `Viewer.stats`: the caller's row of session_stats, zeros before its first session (the
# Postgres store's field-by-field read is the same statement).
VIEWER_STATS = (
    "select coalesce(st.total, 0) as total, coalesce(st.active, 0) as active,"
    " coalesce(st.finalized, 0) as finalized, coalesce(st.abandoned, 0) as abandoned,"
    " st.average_seconds_to_finalize, coalesce(st.open_holes, 0) as open_holes"
    " from (select 1) one left join public.session_stats st on true"
)

T = TypeVar("T")
ParameterSource = Callable[[Bound, Claims], object]


@dataclass(frozen=True, slots=True)
class CompiledRead:
    sql: str
    _sources: tuple[ParameterSource, ...]

    def parameters(self, bound: Bound, viewer: Claims) -> list[object]:
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
    return CompiledRead(f"select {data}::text", tuple(compiler.sources))


def compile_payload(plan: ReadPlan) -> CompiledRead | None:
    """A planned mutation's payload as one statement returning the `data` object as JSON
    text, run after the write in its transaction (a statement sees its own transaction's
    earlier writes, not those of a function it calls itself). Its parameters are the
    request's arguments and the keys of the row the write returned (`Bound.written`)."""
    write = plan.write
    if write is None:
        return None
    compiler = _Compiler()
    try:
        data = compiler.object(
            plan.fields, lambda f: compiler.object(f.children, compiler.written_field)
        )
    except _Unsupported:
        return None
    return CompiledRead(f"select {data}::text", tuple(compiler.sources))


def leaf_sql(kind: Kind, column: str) -> str:
    """A stored column as the response writes it."""
    if kind is Kind.ENUM:
        return f"upper({column})"
    if kind is Kind.DATETIME:
        return _ISO.replace("{c}", column)
    return column


def _identifier(name: str) -> str:
    if not _NAME.match(name):
        raise _Unsupported(name)
    return name


def _literal(text: str) -> str:
    return f"'{_identifier(text)}'"


def _base64url(text_sql: str) -> str:
    """graph.cursors' encoding: base64url without padding (Postgres wraps at 76 chars)."""
    return (
        f"rtrim(translate(encode(convert_to({text_sql}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )


def _timed_cursor(kind: CursorKind, time: str, row_id: str) -> Callable[[str], str]:
    """graph.cursors' cursor of a list ordered by a time, then a row's uuid, in SQL: a
    row alias -> the cursor's text."""

    def cursor(row: str) -> str:
        iso = leaf_sql(Kind.DATETIME, f"{row}.{time}")
        return _base64url(f"""'["{kind.value}","' || {iso} || '","' || {row}.{row_id} || '"]'""")

    return cursor


class _Compiler:
    def __init__(self) -> None:
        self.sources: list[ParameterSource] = []
        self._numbers: dict[tuple[int, str], str] = {}
        self._aliases = 0

    def _parameter(self, key: tuple[int, str], sql_type: str, source: ParameterSource) -> str:
        """`$n::type` for one value, numbered when the statement first uses it."""
        if key not in self._numbers:
            self.sources.append(source)
            self._numbers[key] = f"${len(self.sources)}::{sql_type}"
        return self._numbers[key]

    def _argument(
        self,
        field: PlannedField,
        arguments: Arguments[T],
        name: str,
        sql_type: str,
        get: Callable[[T], object],
    ) -> str:
        """A parameter holding part of `field`'s arguments for this request."""
        return self._parameter(
            (id(field), name), sql_type, lambda bound, _: get(bound.get(field, arguments))
        )

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
        read = field.read
        if isinstance(read, SessionById):
            s = self._alias("s")
            session_id = self._parameter(
                (id(field), "id"), "uuid", lambda bound, _: bound.get(field, read.arguments)
            )
            node = self.node(field.children, s)
            table = _identifier(read.table)
            return f"(select {node} from public.{table} {s} where {s}.id = {session_id})"
        if isinstance(read, SessionList):
            return self._sessions(field, read)
        if isinstance(read, Caller):
            return self.object(field.children, self._caller_field)
        raise _Unsupported(field.name)

    def _caller_field(self, field: PlannedField) -> str:
        read = field.read
        if isinstance(read, Column) and read.name == "id":
            return self._parameter((0, "viewer"), "text", lambda _, viewer: str(viewer.user_id))
        if isinstance(read, Stats):
            st = self._alias("st")
            stats = self.object(field.children, lambda f: self._stats_field(f, st))
            return f"(select {stats} from ({VIEWER_STATS}) {st})"
        if isinstance(read, Timeline) and not read.per_session:
            return self._timeline(field, read, None)
        raise _Unsupported(field.name)

    def _stats_field(self, field: PlannedField, st: str) -> str:
        if isinstance(field.read, Column) and field.kind is not None:
            return leaf_sql(field.kind, f"{st}.{_identifier(field.read.name)}")
        raise _Unsupported(field.name)

    def written_field(self, field: PlannedField) -> str:
        """A payload's row, found by the key of the row the write returned."""
        read = field.read
        if not isinstance(read, Written):
            raise _Unsupported(field.name)
        key = read.key
        written = self._parameter(
            (0, "written:" + key), "uuid", lambda bound, _: bound.written[key]
        )
        r, table = self._alias("r"), _identifier(read.table)
        if read.newest is None:
            return (
                f"(select {self.node(field.children, r)} from public.{table} {r}"
                f" where {r}.id = {written})"
            )
        x = self._alias("x")
        return (
            f"(select {self.node(field.children, r)} from (select {x}.* from public.{table} {x}"
            f" where {x}.session_id = {written} order by {x}.{_identifier(read.newest)} desc"
            f" limit 1) {r})"
        )

    def node(self, fields: Sequence[PlannedField], row: str) -> str:
        return self.object(fields, lambda f: self._node_field(f, row, fields))

    def _node_field(self, field: PlannedField, row: str, siblings: Sequence[PlannedField]) -> str:
        read = field.read
        if isinstance(read, Column) and field.kind is not None:
            return leaf_sql(field.kind, f"{row}.{_identifier(read.name)}")
        if isinstance(read, Current):
            return self._current(field, read, row)
        if isinstance(read, Children):
            return self._children(field, read, row)
        if isinstance(read, Holes):
            return self._holes(field, read, row, ir_beside(field, siblings) is not None)
        if isinstance(read, DraftByVersion | SpecOf):
            return self._draft_part(field, read, row)
        return self._dashboard_field(field, row)

    def _draft_part(self, field: PlannedField, read: DraftByVersion | SpecOf, row: str) -> str:
        if isinstance(read, DraftByVersion):
            return self._draft_by_version(field, read, row)
        ir = _IR(f"{row}.{_identifier(read.column)}", f"{row}.session_id")
        return self._json_object(field.children, ir.value, None, ir)

    def _dashboard_field(self, field: PlannedField, row: str) -> str:
        """A session's counts and timeline, and an activity's rows (migrations/0013)."""
        read = field.read
        if isinstance(read, Summary):
            v = self._alias("v")
            return (
                f"(select {v}.{_identifier(read.column)} from public.{_identifier(read.view)} {v}"
                f" where {v}.id = {row}.id)"
            )
        if isinstance(read, Timeline) and read.per_session:
            return self._timeline(field, read, row)
        if isinstance(read, Linked):
            r = self._alias("r")
            return (
                f"(select {self.node(field.children, r)} from public.{_identifier(read.table)} {r}"
                f" where {r}.id = {row}.{_identifier(read.key)})"
            )
        raise _Unsupported(field.name)

    def _draft_by_version(self, field: PlannedField, read: DraftByVersion, row: str) -> str:
        d = self._alias("d")
        version = self._parameter(
            (id(field), "version"), "int", lambda bound, _: bound.get(field, read.arguments)
        )
        return (
            f"(select {self.node(field.children, d)} from public.{_identifier(read.table)} {d}"
            f" where {d}.{_identifier(read.foreign_key)} = {row}.id and {d}.version = {version})"
        )

    # Holes and the IR's clauses

    def _holes(self, field: PlannedField, read: Holes, row: str, ir_beside: bool) -> str:
        """The IR and the session's answers; graph/reads/finish.py walks and shapes them
        (cheaper than `session_graph.ir_holes` here: see graph/reads/ir_shapes.py). With
        `ir_beside`, the response holds the IR already: it is not sent twice."""
        try:
            hole_list_of(field)
        except Unshapeable as exc:
            raise _Unsupported(str(exc)) from exc
        column = _identifier(read.column)
        if read.current is None:
            return self._ir_and_answers(field, f"{row}.{column}", f"{row}.session_id")
        current, d, x = read.current, self._alias("d"), self._alias("x")
        inputs = self._ir_and_answers(
            field,
            None if ir_beside else f"{d}.{column}",
            f"{d}.{_identifier(current.foreign_key)}",
            draft=f"{d}.id::text || ':' || {d}.row_version",
        )
        return (
            f"coalesce((select {inputs} from (select {x}.*, {x}.xmin::text as row_version"
            f" from public.{_identifier(current.table)}"
            f" {x} where {x}.{_identifier(current.foreign_key)} = {row}.id"
            f" order by {x}.{_identifier(current.order)} desc limit 1) {d}), '[]'::json)"
        )

    def _ir_and_answers(
        self, field: PlannedField, ir: str | None, session: str, *, draft: str | None = None
    ) -> str:
        """`{"ir", "answers"}` for finish.py; each answer's `node` holds, per `resolutions`
        field of the holes (by response key), the answer as that field selects it. `draft`,
        the draft's id and row version (xmin: any change of the row changes it), lets
        finish.py reuse a list it shaped for the same draft and answers."""
        r = self._alias("r")
        nodes = [
            (f.key, self.node(f.children, r))
            for f in field.children
            if isinstance(f.read, HoleKey) and f.read.key == "resolutions"
        ]
        if 2 * len(nodes) > _MAX_JSON_ARGS:
            raise _Unsupported("too many keys for one json_build_object")
        keyed = ", ".join(f"{_literal(key)}, {value}" for key, value in nodes)
        node = f"json_build_object({keyed})" if nodes else "null"
        answer = (
            f"json_build_object('hole_id', {r}.hole_id, 'applied', {r}.applied, 'node', {node})"
        )
        answers = (
            f"(select coalesce(json_agg({answer} order by {r}.number), '[]'::json)"
            f" from {_ANSWERS} {r} where {r}.session_id = {session})"
        )
        parts = [] if ir is None else [f"'ir', {ir}"]
        parts.append(f"'answers', {answers}")
        if draft is not None:
            parts.append(f"'draft', {draft}")
        return f"json_build_object({', '.join(parts)})"

    def _hole_list(
        self, field: PlannedField, source: str, h: str, ir: _IR, *, open_only: bool = False
    ) -> str:
        """`source` has rows `h` of (hole jsonb, path text, ordinal), in IR order. The
        session's answers are summed up per hole once (`n`, `applied`): one index scan
        for the list, not one per hole."""
        a, x = self._alias("a"), self._alias("x")
        answers = (
            f" left join (select {x}.hole_id, count(*) as n, bool_or({x}.applied) as applied"
            f" from {_ANSWERS} {x} where {x}.session_id = {ir.session} group by {x}.hole_id)"
            f" {a} on {a}.hole_id = {h}.hole ->> 'identifier'"
        )
        where = f" where {a}.n is null" if open_only else ""
        hole = self.object(field.children, lambda f: self._hole_field(f, h, a, ir))
        holes = (
            f"(select coalesce(json_agg({hole} order by {h}.ordinal), '[]'::json)"
            f" from {source}{answers}{where})"
        )
        if any(is_suggestions(f) for f in field.children):  # graph/reads/finish.py
            return f"json_build_object('ir', {ir.value}, 'holes', {holes})"
        return holes

    def _hole_field(self, field: PlannedField, h: str, a: str, ir: _IR) -> str:
        read = field.read
        if is_suggestions(field):
            inputs = f"json_build_object('hole', {h}.hole, 'path', {h}.path)"
            return f"(case when {a}.n is null then {inputs} else '[]'::json end)"
        if not isinstance(read, HoleKey):
            raise _Unsupported(field.name)
        key = read.key
        if key == "path":
            return f"{h}.path"
        if key == "status":
            return (
                f"(case when {a}.applied then 'APPLIED' when {a}.n is null then 'OPEN'"
                " else 'RESOLVED' end)"
            )
        if key == "resolutions":
            r = self._alias("r")
            node = self.node(field.children, r)
            return (
                f"(select coalesce(json_agg({node} order by {r}.number), '[]'::json)"
                f" from {_ANSWERS} {r} where {r}.session_id = {ir.session}"
                f" and {r}.hole_id = {h}.hole ->> 'identifier')"
            )
        return _hole_key(field, h, key)

    def _json_object(
        self, fields: Sequence[PlannedField], value: str, path: str | None, ir: _IR
    ) -> str:
        """An object of the keys of `value` (jsonb) as JsonKey describes them; `path` is
        where in the IR it sits (text), for the holes of a clause."""
        return self.object(fields, lambda f: self._json_field(f, value, path, ir))

    def _json_field(self, field: PlannedField, value: str, path: str | None, ir: _IR) -> str:
        read = field.read
        if not isinstance(read, JsonKey):
            raise _Unsupported(field.name)
        if read.key == WHOLE:
            return value
        key = _literal(read.key)
        at = f"{value} -> {key}"
        here = key if path is None else f"{path} || '.' || {key}"
        if read.key == "holes" and path is not None:
            h, e = self._alias("h"), self._alias("e")
            source = (
                f"(select {e}.value as hole, {path} as path, {e}.ordinality as ordinal"
                f" from jsonb_array_elements({_array(at)}) with ordinality {e}) {h}"
            )
            return self._hole_list(field, source, h, ir)
        if field.children and field.many:
            e = self._alias("e")
            item_path = f"{here} || '[' || ({e}.ordinality - 1) || ']'"
            item = self._json_object(field.children, f"{e}.value", item_path, ir)
            return (
                f"(select coalesce(json_agg({item} order by {e}.ordinality), '[]'::json)"
                f" from jsonb_array_elements({_array(at)}) with ordinality {e})"
            )
        if field.children:
            inner = self._json_object(field.children, f"({at})", here, ir)
            return f"(case when jsonb_typeof({at}) = 'object' then {inner} end)"
        if field.kind is Kind.TEXT:
            return f"(case when jsonb_typeof({at}) = 'string' then {value} ->> {key} end)"
        if field.kind is Kind.JSON:
            return at if read.empty is None else f"coalesce({at}, '[]'::jsonb)"
        raise _Unsupported(field.name)

    def _current(self, field: PlannedField, read: Current, row: str) -> str:
        d, x = self._alias("d"), self._alias("x")
        if read.column is None:
            value = self.node(field.children, d)
        else:
            value = f"to_json({d}.{_identifier(read.column)})"
        # The row first, then its JSON: a value beside `order by ... limit 1` is computed
        # for every candidate row (every draft's IR) before the sort keeps one.
        newest = (
            f"(select {value} from (select {x}.* from public.{_identifier(read.table)} {x}"
            f" where {x}.{_identifier(read.foreign_key)} = {row}.id"
            f" order by {x}.{_identifier(read.order)} desc limit 1) {d})"
        )
        return f"coalesce({newest}, '[]'::json)" if read.empty is not None else newest

    # Connections

    def _sessions(self, field: PlannedField, read: SessionList) -> str:
        page = functools.partial(self._argument, field, read.arguments)
        s, table = self._alias("s"), _identifier(read.table)

        def where() -> str:
            status = page("status", "text", lambda p: p.status)
            return f"({status} is null or {s}.status = {status})"

        def first() -> str:
            return page("first", "int", lambda p: p.first)

        def rows() -> str:
            after_at = page("at", "timestamptz", lambda p: p.after.updated_at if p.after else None)
            after_id = page("after_id", "uuid", lambda p: p.after.id if p.after else None)
            return (
                f"select {s}.* from public.{table} {s} where {where()}"
                f" and ({after_at} is null or {s}.updated_at < {after_at}"
                f" or ({s}.updated_at = {after_at} and {s}.id > {after_id}))"
                f" order by {s}.updated_at desc, {s}.id limit {first()} + 1"
            )

        return self._connection(
            field,
            rows=rows,
            order="{t}.updated_at desc, {t}.id",
            total=lambda: f"select count(*) from public.{table} {s} where {where()}",
            first=first,
            cursor=_timed_cursor(CursorKind.SESSION, "updated_at", "id"),
        )

    def _timeline(self, field: PlannedField, read: Timeline, session: str | None) -> str:
        """session_activity newest first by (at, row_id): the session's, or (None) all the
        caller's: row-level security keeps them the caller's, and naming the caller lets
        each table's (user_id, ...) index find them. Under row-level security Postgres
        reads the caller's rows of every branch and sorts them (a merge of the branches'
        ordered indexes is what it plans for a role without RLS); a page per kind, merged,
        was measured at the same CPU per request on the bench's data: its execution is
        shorter and its planning longer (bench/analysis.md)."""
        page = functools.partial(self._argument, field, read.arguments)
        a, view = self._alias("a"), _identifier(read.view)
        if session is not None:
            where = f"{a}.session_id = {session}.id"
        else:
            viewer = self._parameter((0, "viewer_uuid"), "uuid", lambda _, v: v.user_id)
            where = f"{a}.user_id = {viewer}"

        def first() -> str:
            return page("first", "int", lambda p: p.first)

        def rows() -> str:
            at = page("at", "timestamptz", lambda p: p.after.at if p.after else None)
            after_id = page("after_id", "uuid", lambda p: p.after.id if p.after else None)
            return (
                f"select {a}.* from public.{view} {a} where {where}"
                f" and ({at} is null"
                f" or ({a}.at, {a}.row_id) < ({at}, {after_id}))"
                f" order by {a}.at desc, {a}.row_id desc limit {first()} + 1"
            )

        return self._connection(
            field,
            rows=rows,
            order="{t}.at desc, {t}.row_id desc",
            total=lambda: f"select count(*) from public.{view} {a} where {where}",
            first=first,
            cursor=_timed_cursor(CursorKind.ACTIVITY, "at", "row_id"),
        )

    def _children(self, field: PlannedField, read: Children, parent: str) -> str:
        page = functools.partial(self._argument, field, read.arguments)
        r, table = self._alias("r"), _identifier(read.table)
        order, foreign_key = _identifier(read.order), _identifier(read.foreign_key)

        def where() -> str:
            filters = "".join(
                f" and ({flag} is null or {r}.{_identifier(name)} = {flag})"
                for name in read.filters
                for flag in [page(name, "boolean", _attribute(name))]
            )
            return f"{r}.{foreign_key} = {parent}.id{filters}"

        def first() -> str:
            return page("first", "int", lambda p: p.first)

        def rows() -> str:
            after = page("after", "int", lambda p: p.after or 0)
            return (
                f"select {r}.* from public.{table} {r} where {where()} and {r}.{order} > {after}"
                f" order by {r}.{order} limit {first()} + 1"
            )

        kind = read.cursor.value

        def cursor(row: str) -> str:
            return _base64url(f"""'["{kind}",' || {row}.{order} || ']'""")

        return self._connection(
            field,
            rows=rows,
            order="{t}." + order,
            total=lambda: f"select count(*) from public.{table} {r} where {where()}",
            first=first,
            cursor=cursor,
        )

    def _connection(
        self,
        field: PlannedField,
        *,
        rows: Callable[[], str],
        order: str,
        total: Callable[[], str],
        first: Callable[[], str],
        cursor: Callable[[str], str],
    ) -> str:
        """`rows` fetches one row past the page (for hasNextPage); `c.rn` numbers them.
        Only the parts a selection asks for are built, with their parameters."""
        c = self._alias("c")
        reads_rows = False

        def in_page() -> str:
            return f"filter (where {c}.rn <= {first()})"

        def edge_field(f: PlannedField) -> str:
            part = _part(f)
            if part == "cursor":
                return cursor(c)
            if part == "node":
                return self.node(f.children, c)
            raise _Unsupported(f.name)

        def page_info_field(f: PlannedField) -> str:
            part = _part(f)
            if part == "hasNextPage":
                return f"(count(*) > {first()})"
            if part == "endCursor":
                return f"(array_agg({cursor(c)} order by {c}.rn desc) {in_page()})[1]"
            raise _Unsupported(f.name)

        def connection_field(f: PlannedField) -> str:
            nonlocal reads_rows
            part = _part(f)
            if part == "totalCount":
                return f"({total()})"
            reads_rows = True
            if part == "edges":
                edge = self.object(f.children, edge_field)
                return f"coalesce(json_agg({edge} order by {c}.rn) {in_page()}, '[]'::json)"
            if part == "pageInfo":
                return self.object(f.children, page_info_field)
            raise _Unsupported(f.name)

        value = self.object(field.children, connection_field)
        if not reads_rows:
            return value
        numbered = (
            f"select x.*, row_number() over (order by {order.format(t='x')}) as rn"
            f" from ({rows()}) x"
        )
        return f"(select {value} from ({numbered}) {c})"


@dataclass(frozen=True, slots=True)
class _IR:
    """Where a draft's IR is in a statement (jsonb), and its session's id."""

    value: str
    session: str


def _hole_key(field: PlannedField, h: str, key: str) -> str:
    """A key of the hole's own JSON (the IR's rules make `identifier` a string and the
    others strings or absent)."""
    value = f"{h}.hole ->> {_literal(key)}"
    if key == "constraints":
        return f"coalesce({h}.hole -> 'constraints', '{{}}'::jsonb)"
    if field.kind is Kind.ENUM:
        return f"upper({value})"
    if field.kind is Kind.TEXT:
        return value if key == "identifier" else f"coalesce({value}, '')"
    raise _Unsupported(field.name)


def _array(value: str) -> str:
    """`value` (jsonb) when it is an array, else an empty one."""
    return f"(case when jsonb_typeof({value}) = 'array' then {value} else '[]'::jsonb end)"


def _attribute(name: str) -> Callable[[Any], object]:
    """A page request's filter by name (`applied`)."""
    return lambda request: getattr(request, name)


def _part(field: PlannedField) -> str:
    if not isinstance(field.read, Structure):
        raise _Unsupported(field.name)
    return field.read.part
