"""The record rules of migrations/0007, called in SQL: the IR's shape, its holes in IR
order, blank text. The IR rule is checked against an implementation of its own (the
pydantic models of lift-sys's ir/models.py in tests/rules.py) on generated IRs: both
must agree on which are IRs, and on their holes."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support import DISCOUNT_IR, discount_ir
from tests.support.rules import hole_identifiers, ir_is_valid, is_blank
from tests.support.stores import Database


@pytest.fixture(scope="module")
async def conn(database: Database) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database.admin_dsn)
    yield connection
    await connection.close()


async def problem(conn: asyncpg.Connection, ir: Any) -> str | None:
    found: str | None = await conn.fetchval(
        "select session_graph.ir_problem($1::jsonb)", json.dumps(ir)
    )
    return found


async def holes(conn: asyncpg.Connection, ir: Any) -> list[str]:
    found: list[str] = await conn.fetchval(
        "select session_graph.ir_hole_identifiers($1::jsonb)", json.dumps(ir)
    )
    return found


def hole(identifier: str, kind: str = "effect") -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type_hint": "t",
        "description": "",
        "constraints": {},
        "kind": kind,
    }


async def test_the_domain_examples_holes_are_its_ambiguities(conn: asyncpg.Connection) -> None:
    assert await problem(conn, DISCOUNT_IR) is None
    assert await holes(conn, DISCOUNT_IR) == ["return_type", "input_constraints"]


async def test_holes_come_in_ir_order_once_each(conn: asyncpg.Connection) -> None:
    ir = discount_ir(["a", "b"])
    ir["effects"][0]["holes"] = [hole("a"), hole("c")]
    ir["intent"]["holes"] = [hole("d", "intent")]
    ir["relationships"] = [{"from_entity": "x", "holes": [hole("e")]}]
    rows = await conn.fetch(
        "select ordinal, path, hole ->> 'identifier' as id from session_graph.ir_holes($1::jsonb)",
        json.dumps(ir),
    )
    assert [(r["path"], r["id"]) for r in rows] == [
        ("intent", "d"),
        ("effects[0]", "a"),
        ("effects[0]", "c"),
        ("assertions[0]", "a"),
        ("assertions[0]", "b"),
        ("relationships[0]", "e"),
    ]
    assert [r["ordinal"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert await holes(conn, ir) == ["d", "a", "c", "b", "e"] == hole_identifiers(ir)


async def test_extra_clauses_and_keys_are_allowed(conn: asyncpg.Connection) -> None:
    ir = discount_ir()
    ir["constraints"] = [{"kind": "return", "value": "float"}]
    ir["intent"]["provenance"] = {"source": "human"}
    assert await problem(conn, ir) is None


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda ir: ir.pop("intent"), "intent: is required"),
        (lambda ir: ir["signature"].update(name=3), "signature.name: must be a string"),
        (
            lambda ir: ir["signature"]["holes"][0].update(kind="wish"),
            "signature.holes[0].kind: must be one of",
        ),
        (lambda ir: ir["metadata"].pop("language"), "metadata.language: is required"),
        (lambda ir: ir.update(effects="none"), "effects: must be an array"),
        (lambda ir: ir["assertions"][0].update(rationale=1), "assertions[0].rationale: must be"),
        (
            lambda ir: ir["signature"]["parameters"][1].pop("type_hint"),
            "signature.parameters[1].type_hint: is required",
        ),
        (
            lambda ir: ir["assertions"][0]["holes"][0].update(constraints={"x": 1}),
            "assertions[0].holes[0].constraints: every value must be a string",
        ),
        (
            lambda ir: ir["assertions"][0]["holes"][0].update(identifier=" "),
            "assertions[0].holes[0].identifier: must be 1 to 200 characters",
        ),
    ],
)
async def test_malformed_irs_say_where(conn: asyncpg.Connection, mutate: Any, where: str) -> None:
    ir = discount_ir()
    mutate(ir)
    found = await problem(conn, ir)
    assert found is not None
    assert found.startswith(where), found


async def test_an_ir_must_be_an_object(conn: asyncpg.Connection) -> None:
    for value in (["not", "an", "ir"], "ir", 1, None):
        assert await problem(conn, value) == "(root): must be a JSON object"


async def test_oversized_json_is_refused(conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.RaiseError, match="BAD_USER_INPUT: metadata is larger than 512"):
        await conn.execute(
            "select session_graph.check_json($1::jsonb, 'metadata', 'object')",
            json.dumps({"blob": "x" * 600_000}),
        )


# Generated IRs: the domain example with one part replaced by something else.
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["", " ", "x", "intent"])
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["identifier", "kind", "holes", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(DISCOUNT_IR)[1:]


def _replaced(path: tuple[Any, ...], value: Any, drop: bool) -> dict[str, Any]:
    ir = copy.deepcopy(DISCOUNT_IR)
    parent: Any = ir
    for part in path[:-1]:
        parent = parent[part]
    if drop and isinstance(parent, dict):
        parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    return ir


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), value=JSON_VALUES, drop=st.booleans())
@example(path=("signature", "holes", 0, "identifier"), value=" ", drop=False)
@example(path=("signature", "holes", 0, "description"), value=None, drop=False)
@example(path=("intent", "rationale"), value=None, drop=True)
@example(path=("intent", "rationale"), value=[], drop=False)
@example(path=("signature", "holes"), value={"identifier": "x"}, drop=False)
@example(path=("assertions", 0, "holes", 0, "kind"), value=["assertion"], drop=False)
@example(path=("signature", "parameters", 0), value=[], drop=False)
@example(path=("signature", "holes", 0), value=[{"identifier": "x"}], drop=False)
@example(path=("signature", "holes", 0, "constraints"), value={"x": []}, drop=False)
@example(path=("effects", 0), value=[], drop=False)
async def test_sql_and_the_models_agree_on_what_is_an_ir(
    conn: asyncpg.Connection, path: tuple[Any, ...], value: Any, drop: bool
) -> None:
    ir = _replaced(path, value, drop)
    sql_problem = await problem(conn, ir)
    assert (sql_problem is None) == ir_is_valid(ir), (ir, sql_problem)
    # The quick check the insert trigger runs first says the same.
    quick = await conn.fetchval("select session_graph.ir_is_valid($1::jsonb)", json.dumps(ir))
    assert quick == (sql_problem is None), (ir, sql_problem)
    if sql_problem is None:
        assert await holes(conn, ir) == hole_identifiers(ir)


WHITESPACE_AND_NOT = st.text(
    alphabet=st.sampled_from(
        [
            " ",
            "\t",
            "\n",
            "\x0b",
            "\x0c",
            "\r",
            "\x1c",
            "\x1f",
            "\x85",
            "\xa0",
            "\u1680",
            "\u2000",
            "\u200a",
            "\u200b",
            "\u2028",
            "\u202f",
            "\u205f",
            "\u3000",
            "\ufeff",
            "a",
        ]
    ),
    max_size=4,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=WHITESPACE_AND_NOT | st.text(max_size=4).filter(lambda t: "\x00" not in t))
async def test_blank_means_what_pythons_isspace_means(conn: asyncpg.Connection, text: str) -> None:
    assert await conn.fetchval("select session_graph.is_blank($1)", text) == is_blank(text)
