"""Resolves one GraphQL request the way pg_graphql's graphql.resolve does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from graphql import GraphQLSyntaxError, parse
from graphql.language import ast

from tests.pg_graphql_standin import inputs as inp
from tests.pg_graphql_standin import sql
from tests.pg_graphql_standin.inputs import ABSENT, GraphQLFailure, rust_list
from tests.pg_graphql_standin.reflect import Column, ForeignKey, Function, Schema, Table

MAX_FRAGMENT_DEPTH = 50


class DatabaseFailure(Exception):
    """Postgres refused: pg_graphql answers {"data": null, "errors": [{"message": SQLERRM}]}."""


@dataclass
class Request:
    variables: dict[str, Any]
    defaults: dict[str, ast.ValueNode]
    fragments: dict[str, ast.FragmentDefinitionNode]

    def args(self, node: ast.FieldNode) -> dict[str, Any]:
        return {
            a.name.value: inp.value_of(a.value, self.variables, self.defaults)
            for a in node.arguments or ()
        }


def _alias(node: ast.FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _restrict(args: dict[str, Any], allowed: list[str]) -> None:
    extra = [k for k in args if k not in allowed]
    if extra:
        raise GraphQLFailure(f"Input contains extra keys {rust_list(extra)}")


def _skipped(node: ast.SelectionNode, request: Request) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            raise GraphQLFailure(f"Unknown directive {name}")
        if len(directive.arguments) != 1:
            raise GraphQLFailure(f"Incorrect arguments to directive @{name}")
        argument = directive.arguments[0]
        if argument.name.value != "if":
            raise GraphQLFailure(f"Unknown argument to @{name}: {argument.name.value}")
        value = inp.value_of(argument.value, request.variables, request.defaults)
        if not isinstance(value, bool):
            raise GraphQLFailure(f'Value for "if" in @{name} directive is required')
        if (name == "skip") == value:
            return True
    return False


def normalize(
    selection_set: ast.SelectionSetNode | None, type_name: str, request: Request
) -> list[ast.FieldNode]:
    """Fields of a selection set with fragments expanded and @skip/@include applied."""
    fields: list[ast.FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if _skipped(selection, request):
            continue
        if isinstance(selection, ast.FieldNode):
            fields.append(selection)
        elif isinstance(selection, ast.FragmentSpreadNode):
            fragment = request.fragments.get(selection.name.value)
            if fragment is None or fragment.type_condition.name.value != type_name:
                raise GraphQLFailure(
                    f"no fragment named {selection.name.value} on type {type_name}"
                )
            fields.extend(normalize(fragment.selection_set, type_name, request))
        elif isinstance(selection, ast.InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or condition.name.value == type_name:
                fields.extend(normalize(selection.selection_set, type_name, request))
    by_alias: dict[str, ast.FieldNode] = {}
    for node in fields:
        other = by_alias.setdefault(_alias(node), node)
        if other.name.value != node.name.value:
            raise GraphQLFailure(
                f"Fields `{other.name.value}` and `{node.name.value}` are different"
            )
    return fields


# Plans: a request checked in full before any row is read, as pg_graphql builds first.


@dataclass
class NodePlan:
    table: Table
    fields: list[tuple[str, str, Any]]  # (alias, kind, payload)


@dataclass
class ConnectionPlan:
    table: Table
    first: int | None
    last: int | None
    before: list[Any] | None
    after: list[Any] | None
    offset: int
    filter: Any
    order: list[sql.OrderItem]
    fields: list[tuple[str, str, Any]]
    join: ForeignKey | None = None


@dataclass
class Planner:
    schema: Schema
    request: Request

    def node(self, table: Table, node: ast.FieldNode, quote_style: str = "single") -> NodePlan:
        fields: list[tuple[str, str, Any]] = []
        for child in normalize(node.selection_set, table.type_name, self.request):
            name = child.name.value
            alias = _alias(child)
            column = table.column(name)
            if name == "__typename":
                fields.append((alias, "typename", table.type_name))
            elif name == "nodeId":
                fields.append((alias, "nodeId", None))
            elif column is not None:
                fields.append((alias, "column", column))
            elif name in table.to_one:
                fk = table.to_one[name]
                fields.append(
                    (alias, "to_one", (fk, self.node(self.schema.tables[fk.foreign_table], child)))
                )
            elif name in table.to_many:
                fk = table.to_many[name]
                plan = self.connection(self.schema.tables[fk.local_table], child)
                plan.join = fk
                fields.append((alias, "to_many", plan))
            elif quote_style == "double":
                raise GraphQLFailure(f'Unknown field "{name}" on type {table.type_name}')
            else:
                raise GraphQLFailure(f"Unknown field '{name}' on type '{table.type_name}'")
        return NodePlan(table, fields)

    def connection(self, table: Table, node: ast.FieldNode) -> ConnectionPlan:
        args = self.request.args(node)
        _restrict(args, ["first", "last", "before", "after", "offset", "filter", "orderBy"])
        first = self._unsigned(args, "first")
        last = self._unsigned(args, "last")
        offset = self._unsigned(args, "offset")
        before = inp.check(inp.Scalar("Cursor"), args.get("before", ABSENT))
        after = inp.check(inp.Scalar("Cursor"), args.get("after", ABSENT))
        before = None if before in (ABSENT, None) else before
        after = None if after in (ABSENT, None) else after
        if first is not None and last is not None:
            raise GraphQLFailure('only one of "first" and "last" may be provided')
        if before is not None and after is not None:
            raise GraphQLFailure('only one of "before" and "after" may be provided')
        if first is not None and before is not None:
            raise GraphQLFailure('"first" may only be used with "after"')
        if last is not None and after is not None:
            raise GraphQLFailure('"last" may only be used with "before"')
        if offset is not None and (last is not None or before is not None):
            raise GraphQLFailure('"offset" may only be used with "first" and "after"')
        filter_value = inp.check(inp.entity_filter(table), args.get("filter", ABSENT))
        order_value = inp.check(
            inp.ListOf(inp.NonNull(inp.entity_order_by(table))), args.get("orderBy", ABSENT)
        )
        order = sql.order_items(table, None if order_value is ABSENT else order_value)
        cursor = before or after
        decoded = sql.decode_cursor(cursor, order) if cursor is not None else None

        fields: list[tuple[str, str, Any]] = []
        for child in normalize(node.selection_set, f"{table.type_name}Connection", self.request):
            name, alias = child.name.value, _alias(child)
            if name == "__typename":
                fields.append((alias, "typename", f"{table.type_name}Connection"))
            elif name == "totalCount" and table.total_count:
                fields.append((alias, "totalCount", None))
            elif name == "pageInfo":
                fields.append((alias, "pageInfo", self._page_info(child)))
            elif name == "edges":
                fields.append((alias, "edges", self._edges(table, child)))
            elif name == "aggregate":
                raise GraphQLFailure("enable the aggregate directive to use aggregates")
            else:
                raise GraphQLFailure("unknown field in connection")
        return ConnectionPlan(
            table=table,
            first=first,
            last=last,
            before=decoded if before is not None else None,
            after=decoded if after is not None else None,
            offset=offset or 0,
            filter=filter_value,
            order=order,
            fields=fields,
        )

    def _unsigned(self, args: dict[str, Any], name: str) -> int | None:
        value = inp.check(inp.Scalar("Int"), args.get(name, ABSENT))
        if value is ABSENT or value is None:
            return None
        if value < 0:
            raise GraphQLFailure(f"`{name}` must be an unsigned integer")
        return int(value)

    def _page_info(self, node: ast.FieldNode) -> list[tuple[str, str]]:
        out = []
        for child in normalize(node.selection_set, "PageInfo", self.request):
            name = child.name.value
            if name not in (
                "hasNextPage",
                "hasPreviousPage",
                "startCursor",
                "endCursor",
                "__typename",
            ):
                raise GraphQLFailure("unknown field in pageInfo")
            out.append((_alias(child), name))
        return out

    def _edges(self, table: Table, node: ast.FieldNode) -> list[tuple[str, str, Any]]:
        out: list[tuple[str, str, Any]] = []
        for child in normalize(node.selection_set, f"{table.type_name}Edge", self.request):
            name = child.name.value
            if name == "cursor":
                out.append((_alias(child), "cursor", None))
            elif name == "node":
                out.append((_alias(child), "node", self.node(table, child)))
            elif name == "__typename":
                out.append((_alias(child), "typename", f"{table.type_name}Edge"))
            else:
                raise GraphQLFailure("unknown field in edge")
        return out


@dataclass
class Executor:
    schema: Schema
    conn: asyncpg.Connection
    statements: int = field(default=0)

    async def fetch(self, query: str, params: sql.Params) -> list[asyncpg.Record]:
        self.statements += 1
        try:
            return await self.conn.fetch(query, *params.values)
        except asyncpg.PostgresError as exc:
            raise DatabaseFailure(_sqlerrm(exc)) from exc

    async def render_node(self, plan: NodePlan, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for alias, kind, payload in plan.fields:
            if kind == "typename":
                out[alias] = payload
            elif kind == "nodeId":
                out[alias] = row["__node_id"]
            elif kind == "column":
                out[alias] = row[payload.name]
            elif kind == "to_one":
                fk, child_plan = payload
                out[alias] = await self._to_one(fk, child_plan, row)
            elif kind == "to_many":
                out[alias] = await self.connection(payload, parent=row)
        return out

    async def _to_one(
        self, fk: ForeignKey, plan: NodePlan, row: dict[str, Any]
    ) -> dict[str, Any] | None:
        values = [row[c] for c in fk.local_columns]
        if any(v is None for v in values):
            return None
        params = sql.Params()
        target = plan.table
        where = " and ".join(
            f"t.{sql.quote(fc)} = {params.bind(v, target.column_named(fc).type.sql)}"
            for fc, v in zip(fk.foreign_columns, values, strict=True)
        )
        rows = await self.fetch(
            f"select {sql.row_expr(target)} as row "
            f"from public.{sql.quote(target.name)} t where {where}",
            params,
        )
        if not rows:
            return None
        return await self.render_node(plan, json.loads(rows[0]["row"]))

    async def connection(
        self, plan: ConnectionPlan, parent: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        table = plan.table
        source = f"public.{sql.quote(table.name)} t"
        params = sql.Params()
        where = [sql.filter_sql(table, plan.filter, params)]
        if plan.join is not None and parent is not None:
            for local, foreign in zip(
                plan.join.local_columns, plan.join.foreign_columns, strict=True
            ):
                bound = params.bind(parent[foreign], table.column_named(local).type.sql)
                where.append(f"t.{sql.quote(local)} = {bound}")
        base_where = " and ".join(where)
        base_params = list(params.values)
        reverse = plan.last is not None or plan.before is not None
        limit = min(
            plan.first
            if plan.first is not None
            else plan.last
            if plan.last is not None
            else table.max_rows,
            table.max_rows,
        )
        page_where = base_where
        position = plan.after if plan.after is not None else plan.before
        if position is not None:
            page_where += " and " + sql.after_sql(plan.order, position, params, reverse)
        order = ", ".join(item.sql(reverse=reverse) for item in plan.order)
        query = (
            f"select {sql.row_expr(table)} as row, {sql.cursor_expr(plan.order)} as cursor "
            f"from {source} where {page_where} order by {order} "
            f"limit {limit + 1} offset {plan.offset}"
        )
        rows = await self.fetch(query, params)
        more = len(rows) > limit
        rows = rows[:limit]
        if reverse:
            rows.reverse()
        records = [(json.loads(r["row"]), r["cursor"]) for r in rows]

        out: dict[str, Any] = {}
        for alias, kind, payload in plan.fields:
            if kind == "typename":
                out[alias] = payload
            elif kind == "totalCount":
                count_rows = await self.fetch(
                    f"select count(*) as n from {source} where {base_where}",
                    sql.Params(list(base_params)),
                )
                out[alias] = count_rows[0]["n"]
            elif kind == "pageInfo":
                before_first = await self._has_rows_before(
                    plan, base_where, base_params, records, reverse
                )
                info: dict[str, Any] = {}
                for info_alias, name in payload:
                    if name == "hasNextPage":
                        info[info_alias] = before_first if reverse else more
                    elif name == "hasPreviousPage":
                        info[info_alias] = more if reverse else before_first
                    elif name == "startCursor":
                        info[info_alias] = records[0][1] if records else None
                    elif name == "endCursor":
                        info[info_alias] = records[-1][1] if records else None
                    else:
                        info[info_alias] = "PageInfo"
                out[alias] = info
            elif kind == "edges":
                edges = []
                for row, cursor in records:
                    edge: dict[str, Any] = {}
                    for edge_alias, edge_kind, edge_payload in payload:
                        if edge_kind == "cursor":
                            edge[edge_alias] = cursor
                        elif edge_kind == "node":
                            edge[edge_alias] = await self.render_node(edge_payload, row)
                        else:
                            edge[edge_alias] = edge_payload
                    edges.append(edge)
                out[alias] = edges
        return out

    async def _has_rows_before(
        self,
        plan: ConnectionPlan,
        base_where: str,
        params: list[Any],
        records: list[tuple[dict[str, Any], str]],
        reverse: bool,
    ) -> bool:
        """pg_graphql's test: is the first row of the whole (filtered) order not on this page?"""
        order = ", ".join(item.sql(reverse=reverse) for item in plan.order)
        first_rows = await self.fetch(
            f"select {sql.cursor_expr(plan.order)} as cursor "
            f"from public.{sql.quote(plan.table.name)} t "
            f"where {base_where} order by {order} limit 1",
            sql.Params(list(params)),
        )
        if not first_rows:
            return False
        return first_rows[0]["cursor"] not in {cursor for _, cursor in records}


def _sqlerrm(exc: asyncpg.PostgresError) -> str:
    return str(getattr(exc, "message", None) or exc)


# The entry point


async def resolve(
    schema: Schema, conn: asyncpg.Connection, query: Any, variables: Any, operation_name: Any
) -> dict[str, Any]:
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        return {"errors": [{"message": "variables must be an object"}]}
    if not isinstance(query, str):
        return {"errors": [{"message": "query parse error: no query"}]}
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        return {"errors": [{"message": f"query parse error: {exc.message}"}]}

    operations = [d for d in document.definitions if isinstance(d, ast.OperationDefinitionNode)]
    fragments_list = [d for d in document.definitions if isinstance(d, ast.FragmentDefinitionNode)]
    names = [op.name.value if op.name else None for op in operations]
    if any(n is None for n in names) and len(names) > 1:
        return {"errors": [{"message": "Anonymous operations must be the only defined operation"}]}
    if len(set(names)) != len(names):
        return {"errors": [{"message": "Operation names must be unique"}]}
    fragments = {f.name.value: f for f in fragments_list}
    for fragment in fragments_list:
        if _has_cycle(fragment, fragments, set(), 1):
            return {"errors": [{"message": "Found a cycle between fragments"}]}
    chosen = next(
        (
            op
            for op, name in zip(operations, names, strict=True)
            if name == operation_name or (len(operations) == 1 and operation_name is None)
        ),
        None,
    )
    if chosen is None:
        return {"errors": [{"message": "Operation not found"}]}
    if chosen.operation == ast.OperationType.SUBSCRIPTION:
        return {"errors": [{"message": "Subscriptions are not supported"}]}
    request = Request(
        variables=variables,
        defaults={
            v.variable.name.value: v.default_value
            for v in chosen.variable_definitions or ()
            if v.default_value
        },
        fragments=fragments,
    )
    executor = Executor(schema, conn)
    if chosen.operation == ast.OperationType.MUTATION:
        return await _mutation(schema, executor, request, chosen.selection_set)
    return await _query(schema, executor, request, chosen.selection_set)


def _has_cycle(
    fragment: ast.FragmentDefinitionNode,
    fragments: dict[str, ast.FragmentDefinitionNode],
    visited: set[str],
    depth: int,
) -> bool:
    if depth > MAX_FRAGMENT_DEPTH or fragment.name.value in visited:
        return True
    visited = visited | {fragment.name.value}

    def spreads(selection_set: ast.SelectionSetNode | None) -> list[str]:
        found: list[str] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, ast.FragmentSpreadNode):
                found.append(selection.name.value)
            else:
                found.extend(spreads(getattr(selection, "selection_set", None)))
        return found

    return any(
        name in fragments and _has_cycle(fragments[name], fragments, visited, depth + 1)
        for name in spreads(fragment.selection_set)
    )


async def _query(
    schema: Schema, executor: Executor, request: Request, selection_set: ast.SelectionSetNode
) -> dict[str, Any]:
    try:
        fields = normalize(selection_set, "Query", request)
    except GraphQLFailure as exc:
        return {"errors": [{"message": exc.message}]}
    if not fields:
        return {"errors": [{"message": "Selection set must not be empty"}]}
    planner = Planner(schema, request)
    collections = {t.collection_field: t for t in schema.tables.values()}
    by_pk = {sql_by_pk(t): t for t in schema.tables.values()}
    functions = {f.field: f for f in schema.functions.values() if not f.volatile}
    data: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    try:
        for node in fields:
            name, alias = node.name.value, _alias(node)
            try:
                if name == "__typename":
                    data[alias] = "Query"
                elif name in collections:
                    data[alias] = await executor.connection(
                        planner.connection(collections[name], node)
                    )
                elif name in by_pk:
                    data[alias] = await _by_pk(planner, executor, by_pk[name], node)
                elif name in functions:
                    data[alias] = await _call(planner, executor, functions[name], node)
                else:
                    raise GraphQLFailure(f'Unknown field "{name}" on type Query')
            except GraphQLFailure as exc:
                errors.append({"message": exc.message})
    except DatabaseFailure as exc:
        return {"data": None, "errors": [{"message": str(exc)}]}
    response: dict[str, Any] = {"data": data if not errors or data else None}
    if errors:
        response["errors"] = errors
    return response


def sql_by_pk(table: Table) -> str:
    return table.collection_field[: -len("Collection")] + "ByPk"


async def _by_pk(planner: Planner, executor: Executor, table: Table, node: ast.FieldNode) -> Any:
    args = planner.request.args(node)
    pk_columns = [table.column_named(c) for c in table.primary_key]
    _restrict(args, [c.field for c in pk_columns])
    missing = [c.name for c in pk_columns if args.get(c.field, ABSENT) in (ABSENT, None)]
    if missing:
        raise GraphQLFailure(f"Missing primary key column(s): {', '.join(missing)}")
    plan = planner.node(table, node, quote_style="double")
    params = sql.Params()
    where = " and ".join(
        f"t.{sql.quote(c.name)} = "
        + params.bind(inp.check(inp.Scalar(c.type.scalar), args[c.field]), c.type.sql)
        for c in pk_columns
    )
    rows = await executor.fetch(
        f"select {sql.row_expr(table)} as row from public.{sql.quote(table.name)} t where {where}",
        params,
    )
    return await executor.render_node(plan, json.loads(rows[0]["row"])) if rows else None


async def _call(
    planner: Planner, executor: Executor, function: Function, node: ast.FieldNode
) -> Any:
    args = planner.request.args(node)
    _restrict(args, [a.field for a in function.arguments])
    params = sql.Params()
    bound = []
    for argument in function.arguments:
        spec: Any = inp.scalar_input(argument.type)
        if not argument.has_default:
            spec = inp.NonNull(spec)
        value = inp.check(spec, args.get(argument.field, ABSENT))
        if value is ABSENT:
            continue
        placeholder = (
            "null::" + argument.type.sql if value is None else params.bind(value, argument.type.sql)
        )
        bound.append(f"{sql.quote(argument.name)} => {placeholder}")
    call = f"public.{sql.quote(function.name)}({', '.join(bound)})"
    if function.returns_table is not None:
        table = planner.schema.tables[function.returns_table]
        plan = planner.node(table, node)
        rows = await executor.fetch(
            f"select case when t is null then null else {sql.row_expr(table)} end as row "
            f"from {call} t",
            params,
        )
        row = rows[0]["row"] if rows else None
        return None if row is None else await executor.render_node(plan, json.loads(row))
    if function.returns is None:
        raise GraphQLFailure("unsupported return type")
    if node.selection_set is not None and node.selection_set.selections:
        first = node.selection_set.selections[0]
        name = first.name.value if isinstance(first, ast.FieldNode) else "..."
        raise GraphQLFailure(f"Unknown field '{name}' on type '{function.returns.scalar}'")
    column = Column("value", "value", function.returns, False, False, False, False)
    rows = await executor.fetch(
        f"select {sql.json_expr(column, 'r')} as v from (select {call} as value) r", params
    )
    value = rows[0]["v"]
    return json.loads(value) if value is not None else None


async def _mutation(
    schema: Schema, executor: Executor, request: Request, selection_set: ast.SelectionSetNode
) -> dict[str, Any]:
    functions = {f.field: f for f in schema.functions.values() if f.volatile}
    inserts = {
        f"insertInto{t.type_name}Collection": t for t in schema.tables.values() if t.can_insert
    }
    updates = {f"update{t.type_name}Collection": t for t in schema.tables.values() if t.can_update}
    deletes = {
        f"deleteFrom{t.type_name}Collection": t for t in schema.tables.values() if t.can_delete
    }
    if not (functions or inserts or updates or deletes):
        return {"data": None, "errors": [{"message": "Unknown type Mutation"}]}
    try:
        fields = normalize(selection_set, "Mutation", request)
    except GraphQLFailure as exc:
        return {"errors": [{"message": exc.message}]}
    planner = Planner(schema, request)
    data: dict[str, Any] = {}
    try:
        async with executor.conn.transaction():  # a savepoint: any error undoes every field
            if not fields:
                raise GraphQLFailure("Selection set must not be empty")
            for node in fields:
                name, alias = node.name.value, _alias(node)
                if name == "__typename":
                    data[alias] = "Mutation"
                elif name in inserts:
                    data[alias] = await _insert(planner, executor, inserts[name], node)
                elif name in updates:
                    data[alias] = await _update_or_delete(
                        planner, executor, updates[name], node, "update"
                    )
                elif name in deletes:
                    data[alias] = await _update_or_delete(
                        planner, executor, deletes[name], node, "delete"
                    )
                elif name in functions:
                    data[alias] = await _call(planner, executor, functions[name], node)
                else:
                    raise GraphQLFailure(f'Unknown field "{name}" on type Mutation')
    except (GraphQLFailure, DatabaseFailure) as exc:
        message = exc.message if isinstance(exc, GraphQLFailure) else str(exc)
        return {"data": None, "errors": [{"message": message}]}
    return {"data": data}


def _response_plan(
    planner: Planner, table: Table, node: ast.FieldNode, kind: str
) -> list[tuple[str, str, Any]]:
    response_type = f"{table.type_name}{kind.capitalize()}Response"
    fields: list[tuple[str, str, Any]] = []
    for child in normalize(node.selection_set, response_type, planner.request):
        name, alias = child.name.value, _alias(child)
        if name == "affectedCount":
            fields.append((alias, "count", None))
        elif name == "records":
            fields.append((alias, "records", planner.node(table, child)))
        elif name == "__typename":
            fields.append((alias, "typename", response_type))
        else:
            raise GraphQLFailure(f"unknown field in {kind}")
    return fields


async def _render_response(
    executor: Executor, fields: list[tuple[str, str, Any]], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alias, kind, payload in fields:
        if kind == "count":
            out[alias] = len(rows)
        elif kind == "records":
            out[alias] = [await executor.render_node(payload, row) for row in rows]
        else:
            out[alias] = payload
    return out


async def _insert(
    planner: Planner, executor: Executor, table: Table, node: ast.FieldNode
) -> dict[str, Any]:
    args = planner.request.args(node)
    _restrict(args, ["objects"])
    spec = inp.NonNull(inp.ListOf(inp.NonNull(inp.insert_input(table))))
    objects = inp.check(spec, args.get("objects", ABSENT))
    if not objects:
        raise GraphQLFailure("At least one record must be provided to objects")
    fields = _response_plan(planner, table, node, "insert")
    columns = [c for c in table.columns if c.can_insert]
    params = sql.Params()
    rows_sql = []
    for obj in objects:
        cells = []
        for column in columns:
            value = obj.get(column.field, ABSENT)
            if value is ABSENT:
                cells.append("default")
            elif value is None:
                cells.append("null")
            else:
                cells.append(params.bind(value, column.type.sql))
        rows_sql.append("(" + ", ".join(cells) + ")")
    names = ", ".join(sql.quote(c.name) for c in columns)
    query = (
        f"insert into public.{sql.quote(table.name)} as t ({names}) values {', '.join(rows_sql)} "
        f"returning {sql.row_expr(table)} as row"
    )
    rows = [json.loads(r["row"]) for r in await executor.fetch(query, params)]
    return await _render_response(executor, fields, rows)


async def _update_or_delete(
    planner: Planner, executor: Executor, table: Table, node: ast.FieldNode, kind: str
) -> dict[str, Any]:
    args = planner.request.args(node)
    allowed = ["set", "filter", "atMost"] if kind == "update" else ["filter", "atMost"]
    _restrict(args, allowed)
    at_most = inp.check(inp.NonNull(inp.Scalar("Int")), args.get("atMost", 1))
    filter_value = inp.check(inp.entity_filter(table), args.get("filter", ABSENT))
    params = sql.Params()
    if kind == "update":
        set_value = inp.check(inp.NonNull(inp.update_input(table)), args.get("set", ABSENT))
        assignments = []
        for c in table.columns:
            value = set_value.get(c.field, ABSENT) if c.can_update else ABSENT
            if value is not ABSENT:
                bound = "null" if value is None else params.bind(value, c.type.sql)
                assignments.append(f"{sql.quote(c.name)} = {bound}")
        if not assignments:
            raise GraphQLFailure("At least one mapping must be provided to set argument")
    fields = _response_plan(planner, table, node, kind)
    where = sql.filter_sql(table, filter_value, params)
    if kind == "update":
        query = (
            f"update public.{sql.quote(table.name)} as t set {', '.join(assignments)} "
            f"where {where} returning {sql.row_expr(table)} as row"
        )
    else:
        query = (
            f"delete from public.{sql.quote(table.name)} as t "
            f"where {where} returning {sql.row_expr(table)} as row"
        )
    rows = [json.loads(r["row"]) for r in await executor.fetch(query, params)]
    if len(rows) > at_most:
        raise DatabaseFailure(f"{kind} impacts too many records")
    return await _render_response(executor, fields, rows)
