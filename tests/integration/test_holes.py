"""One walk of an IR's holes, written twice: in SQL (`session_graph.ir_holes`, which the
database uses for a draft's default `ambiguities` and the compiled reads use for `holes`)
and in Python (graph/spec/holes.py, behind the executor's `holes`). On generated IRs
both give the same holes, at the same paths, in the same order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.spec.holes import holes
from tests.support import DISCOUNT_IR
from tests.support.stores import Database

KINDS = ("intent", "signature", "effect", "assertion", "implementation")


@pytest.fixture(scope="module")
async def conn(database: Database) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database.admin_dsn)
    yield connection
    await connection.close()


@st.composite
def _hole(draw: st.DrawFn) -> dict[str, Any]:
    hole: dict[str, Any] = {
        "identifier": draw(st.sampled_from(["a", "b", "c", "return_type", "x y"])),
        "type_hint": draw(st.sampled_from(["", "int", "type", "list[str]"])),
        "kind": draw(st.sampled_from(KINDS)),
    }
    if draw(st.booleans()):
        hole["description"] = draw(st.sampled_from(["", "Specify it"]))
    if draw(st.booleans()):
        hole["constraints"] = draw(
            st.dictionaries(st.sampled_from(["min", "max"]), st.just("0"), max_size=2)
        )
    return hole


HOLE_LISTS = st.lists(_hole(), max_size=3)


def _clauses(base: dict[str, Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.builds(lambda found: {**base, "holes": found}, HOLE_LISTS), max_size=3)


@st.composite
def irs(draw: st.DrawFn) -> dict[str, Any]:
    """Valid IRs with holes anywhere a clause holds them, identifiers repeating."""
    ir: dict[str, Any] = {
        "intent": {**DISCOUNT_IR["intent"], "holes": draw(HOLE_LISTS)},
        "signature": {**DISCOUNT_IR["signature"], "holes": draw(HOLE_LISTS)},
        "metadata": DISCOUNT_IR["metadata"],
    }
    optional = {
        "effects": _clauses({"description": "Logs"}),
        "assertions": _clauses({"predicate": "p"}),
        "relationships": _clauses({"from_entity": "a"}),
        "constraints": _clauses({"name": "c"}),
    }
    for key, clauses in optional.items():
        if draw(st.booleans()):
            ir[key] = draw(clauses)
    return ir


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ir=irs())
async def test_sql_and_python_find_the_same_holes(
    conn: asyncpg.Connection, ir: dict[str, Any]
) -> None:
    text = json.dumps(ir)
    assert await conn.fetchval("select session_graph.ir_problem($1::jsonb)", text) is None
    rows = await conn.fetch(
        "select path, hole from session_graph.ir_holes($1::jsonb) order by ordinal", text
    )
    in_sql = [(row["path"], json.loads(row["hole"])) for row in rows]
    assert in_sql == [(at.path, dict(at.hole)) for at in holes(ir)]
    ambiguities = await conn.fetchval("select session_graph.ir_hole_identifiers($1::jsonb)", text)
    assert ambiguities == list(dict.fromkeys(at.identifier for at in holes(ir)))
