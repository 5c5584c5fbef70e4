"""What pg_graphql reflects for the current role: tables, columns, keys and functions in
schema `public`, with comment directives and the privileges that decide visibility."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import asyncpg

_DIRECTIVE = re.compile(r"@graphql\((.+)\)", re.DOTALL)
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
DEFAULT_MAX_ROWS = 30

SCALARS = {
    "uuid": "UUID",
    "text": "String",
    "citext": "String",
    "character varying": "String",
    "character": "String",
    "integer": "Int",
    "smallint": "Int",
    "bigint": "BigInt",
    "boolean": "Boolean",
    "json": "JSON",
    "jsonb": "JSON",
    "timestamp with time zone": "Datetime",
    "timestamp without time zone": "Datetime",
    "date": "Date",
    "time without time zone": "Time",
    "numeric": "BigFloat",
    "real": "Float",
    "double precision": "Float",
}


def directive(comment: str | None) -> dict[str, Any]:
    if not comment:
        return {}
    match = _DIRECTIVE.search(comment)
    if match is None:
        return {}
    value = json.loads(match.group(1))
    return value if isinstance(value, dict) else {}


def to_type_name(sql_name: str, inflect: bool) -> str:
    if not inflect:
        return sql_name
    out = []
    upper_next = True
    for char in sql_name:
        if not char.isalnum():
            upper_next = True
            out.append(char)
            continue
        out.append(char.upper() if upper_next else char)
        upper_next = False
    return "".join(out).replace("_", "")


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def to_field_name(sql_name: str, inflect: bool) -> str:
    return lower_first(to_type_name(sql_name, inflect)) if inflect else sql_name


@dataclass
class ScalarType:
    """A column's or argument's type: the SQL type and its GraphQL scalar."""

    sql: str  # format_type, e.g. "uuid", "text[]", "character varying(8)"
    scalar: str  # UUID, String, Int, ... or Opaque
    is_list: bool = False
    max_length: int | None = None

    @classmethod
    def of(cls, sql: str) -> ScalarType:
        is_list = sql.endswith("[]")
        base = sql[:-2] if is_list else sql
        max_length = None
        match = re.match(r"^(character varying|character)\((\d+)\)$", base)
        if match:
            base, max_length = match.group(1), int(match.group(2))
        return cls(
            sql=sql, scalar=SCALARS.get(base, "Opaque"), is_list=is_list, max_length=max_length
        )

    @property
    def filterable(self) -> bool:
        return self.scalar not in ("JSON",) and (
            not self.is_list
            or self.scalar
            in (
                "Int",
                "Float",
                "String",
                "Boolean",
                "UUID",
                "BigInt",
                "BigFloat",
                "Time",
                "Date",
                "Datetime",
            )
        )

    @property
    def orderable(self) -> bool:
        return not self.is_list and self.scalar != "JSON"


@dataclass
class Column:
    name: str
    field: str
    type: ScalarType
    not_null: bool
    can_insert: bool
    can_update: bool
    generated: bool


@dataclass
class ForeignKey:
    name: str
    local_table: str
    local_columns: list[str]
    foreign_table: str
    foreign_columns: list[str]
    local_name: str | None
    foreign_name: str | None


@dataclass
class Table:
    name: str
    type_name: str
    columns: list[Column]
    primary_key: list[str]
    can_insert: bool
    can_update: bool
    can_delete: bool
    total_count: bool
    max_rows: int
    to_one: dict[str, ForeignKey] = field(default_factory=dict)  # field -> fk (this table local)
    to_many: dict[str, ForeignKey] = field(default_factory=dict)  # field -> fk (this table foreign)

    def column(self, field_name: str) -> Column | None:
        return next((c for c in self.columns if c.field == field_name), None)

    def column_named(self, sql_name: str) -> Column:
        return next(c for c in self.columns if c.name == sql_name)

    @property
    def collection_field(self) -> str:
        return lower_first(self.type_name) + "Collection"


@dataclass
class Argument:
    name: str
    field: str
    type: ScalarType
    has_default: bool


@dataclass
class Function:
    name: str
    field: str
    arguments: list[Argument]
    volatile: bool
    returns_table: str | None
    returns: ScalarType | None


@dataclass
class Schema:
    tables: dict[str, Table]
    functions: dict[str, Function]
    inflect: bool

    def table_by_type(self, type_name: str) -> Table | None:
        return next((t for t in self.tables.values() if t.type_name == type_name), None)


_TABLES = """
select c.oid, c.relname, c.relkind::text as relkind, obj_description(c.oid, 'pg_class') as comment,
       has_any_column_privilege(c.oid, 'INSERT') as can_insert,
       has_any_column_privilege(c.oid, 'UPDATE') as can_update,
       has_table_privilege(c.oid, 'DELETE') as can_delete,
       (select conkey from pg_constraint k where k.conrelid = c.oid and k.contype = 'p') as pkey
  from pg_class c
 where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v')
   and has_schema_privilege('public', 'USAGE')
"""
_COLUMNS = """
select a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) as sql_type,
       a.attnotnull, a.attgenerated <> '' or a.attidentity <> ''
         or pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) is not null as generated,
       has_column_privilege(a.attrelid, a.attnum, 'SELECT') as can_select,
       has_column_privilege(a.attrelid, a.attnum, 'INSERT') as can_insert,
       has_column_privilege(a.attrelid, a.attnum, 'UPDATE') as can_update,
       t.typtype::text as typtype, t.typrelid
  from pg_attribute a join pg_type t on t.oid = a.atttypid
 where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
 order by a.attrelid, a.attnum
"""
_FOREIGN_KEYS = """
select k.conname, k.conrelid, k.confrelid, k.conkey, k.confkey,
       obj_description(k.oid, 'pg_constraint') as comment
  from pg_constraint k
 where k.contype = 'f' and k.conrelid = any($1::oid[]) and k.confrelid = any($1::oid[])
"""
_FUNCTIONS = """
select p.proname, p.provolatile::text as provolatile, p.proretset, p.prokind::text as prokind,
       p.proargnames, p.proargmodes,
       p.pronargs, p.pronargdefaults, p.provariadic <> 0 as variadic,
       array(select format_type(t, null) from unnest(p.proargtypes) t) as arg_types,
       format_type(p.prorettype, null) as return_type, rt.typtype::text as return_typtype,
       rt.typrelid as return_relid, obj_description(p.oid, 'pg_proc') as comment
  from pg_proc p join pg_type rt on rt.oid = p.prorettype
 where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
   and has_function_privilege(p.oid, 'EXECUTE')
"""


def _view_key(meta: dict[str, Any], columns: set[str]) -> list[str]:
    """A view's key comes from its directive; one naming a missing column drops the view."""
    named = meta.get("primary_key_columns")
    if not isinstance(named, list) or not named or not set(named) <= columns:
        return []
    return [str(name) for name in named]


async def reflect(conn: asyncpg.Connection) -> Schema:
    schema_directive = directive(
        await conn.fetchval("select obj_description('public'::regnamespace, 'pg_namespace')")
    )
    inflect = bool(schema_directive.get("inflect_names", False))
    schema_max_rows = int(schema_directive.get("max_rows", DEFAULT_MAX_ROWS))

    table_rows = await conn.fetch(_TABLES)
    oids = [r["oid"] for r in table_rows]
    columns_by_table: dict[int, list[asyncpg.Record]] = {}
    for row in await conn.fetch(_COLUMNS, oids):
        columns_by_table.setdefault(row["attrelid"], []).append(row)

    tables: dict[str, Table] = {}
    names_by_oid: dict[int, str] = {}
    attnames: dict[tuple[int, int], str] = {}
    view_keys: list[tuple[str, dict[str, Any]]] = []  # a view's foreign_keys directive
    for row in table_rows:
        columns_raw = columns_by_table.get(row["oid"], [])
        for c in columns_raw:
            attnames[(row["oid"], c["attnum"])] = c["attname"]
        meta = directive(row["comment"])
        pkey = (
            [attnames[(row["oid"], n)] for n in row["pkey"] or []]
            if row["relkind"] != "v"
            else _view_key(meta, {c["attname"] for c in columns_raw})
        )
        if not pkey or not _NAME.match(row["relname"]):
            continue
        visible = [
            c
            for c in columns_raw
            if c["can_select"] and c["typtype"] != "c" and _NAME.match(c["attname"])
        ]
        if not visible:
            continue
        type_name = meta.get("name") or to_type_name(row["relname"], inflect)
        if row["relkind"] == "v":
            view_keys.extend((row["relname"], fk) for fk in meta.get("foreign_keys") or [])
        tables[row["relname"]] = Table(
            name=row["relname"],
            type_name=type_name,
            columns=[
                Column(
                    name=c["attname"],
                    field=to_field_name(c["attname"], inflect),
                    type=ScalarType.of(c["sql_type"]),
                    not_null=c["attnotnull"],
                    can_insert=c["can_insert"] and not c["generated"],
                    can_update=c["can_update"] and not c["generated"],
                    generated=c["generated"],
                )
                for c in visible
            ],
            primary_key=pkey,
            can_insert=row["can_insert"],
            can_update=row["can_update"],
            can_delete=row["can_delete"],
            total_count=bool((meta.get("totalCount") or {}).get("enabled")),
            max_rows=int(meta.get("max_rows", schema_max_rows)),
        )
        names_by_oid[row["oid"]] = row["relname"]

    keys: list[ForeignKey] = []
    for row in await conn.fetch(_FOREIGN_KEYS, oids):
        local = names_by_oid.get(row["conrelid"])
        foreign = names_by_oid.get(row["confrelid"])
        if local is None or foreign is None:
            continue
        meta = directive(row["comment"])
        keys.append(
            ForeignKey(
                name=row["conname"],
                local_table=local,
                local_columns=[attnames[(row["conrelid"], n)] for n in row["conkey"]],
                foreign_table=foreign,
                foreign_columns=[attnames[(row["confrelid"], n)] for n in row["confkey"]],
                local_name=meta.get("local_name"),
                foreign_name=meta.get("foreign_name"),
            )
        )
    for view, spec in view_keys:  # pg_graphql's synthetic keys: public tables only here
        if spec.get("foreign_schema", "public") != "public":
            continue
        if spec.get("foreign_table") not in tables:
            continue
        keys.append(
            ForeignKey(
                name=f"{view}_{spec['foreign_table']}_fkey",
                local_table=view,
                local_columns=list(spec["local_columns"]),
                foreign_table=spec["foreign_table"],
                foreign_columns=list(spec["foreign_columns"]),
                local_name=spec.get("local_name"),
                foreign_name=spec.get("foreign_name"),
            )
        )
    for fk in keys:
        local_table, foreign_table = tables[fk.local_table], tables[fk.foreign_table]
        visible = {c.name for c in local_table.columns}
        if not set(fk.local_columns) <= visible:
            continue
        suffix = "_id" if inflect else "Id"
        if fk.foreign_name:
            to_one = fk.foreign_name
        elif len(fk.local_columns) == 1 and fk.local_columns[0].endswith(suffix):
            to_one = to_field_name(fk.local_columns[0][: -len(suffix)], inflect)
        else:
            to_one = lower_first(foreign_table.type_name)
        local_table.to_one[to_one] = fk
        to_many = fk.local_name or lower_first(local_table.type_name) + "Collection"
        foreign_table.to_many[to_many] = fk

    functions: dict[str, Function] = {}
    function_rows = await conn.fetch(_FUNCTIONS)
    counts: dict[str, int] = {}
    for row in function_rows:
        counts[row["proname"]] = counts.get(row["proname"], 0) + 1
    for row in function_rows:
        name = row["proname"]
        arg_names = list(row["proargnames"] or [])
        if (
            counts[name] > 1
            or row["variadic"]
            or row["proargmodes"] is not None
            or len(arg_names) != row["pronargs"]
            or any(not n for n in arg_names)
            or row["return_type"] in ("void", "trigger", "event_trigger", "record")
            or row["proretset"]
        ):
            continue
        returns_table = (
            names_by_oid.get(row["return_relid"]) if row["return_typtype"] == "c" else None
        )
        if row["return_typtype"] == "c" and returns_table is None:
            continue
        first_default = row["pronargs"] - row["pronargdefaults"]
        meta = directive(row["comment"])
        field_name = meta.get("name") or to_field_name(name.lstrip("_"), inflect)
        functions[field_name] = Function(
            name=name,
            field=field_name,
            arguments=[
                Argument(
                    name=arg,
                    field=to_field_name(arg, inflect),
                    type=ScalarType.of(arg_type),
                    has_default=index >= first_default,
                )
                for index, (arg, arg_type) in enumerate(
                    zip(arg_names, row["arg_types"], strict=True)
                )
            ],
            volatile=row["provolatile"] == "v",
            returns_table=returns_table,
            returns=None if returns_table else ScalarType.of(row["return_type"]),
        )
    return Schema(tables=tables, functions=functions, inflect=inflect)
