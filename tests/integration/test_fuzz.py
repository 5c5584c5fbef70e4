"""Fuzzing from schema.graphql (hypothesis-graphql), as two users: the service never
answers 5xx or INTERNAL_SERVER_ERROR, never shows internals, and user B never sees
anything of user A's, even when the generated ids are aimed at A's objects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from graphql import StringValueNode, parse
from graphql.language import Visitor, visit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from tests.support import GraphClient, User, aim_ids, create_session, discount_ir

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
EXAMPLES = int(os.environ.get("GRAPH_FUZZ_EXAMPLES", "40"))
ALICE_TITLE = "alice-fuzz-secret-title"
INTERNALS = (
    "Traceback",
    "asyncpg",
    "psycopg",
    "SQLSTATE",
    "pg_catalog",
    "PL/pgSQL",
    "violates",
    'constraint "',
    "CONTEXT:",
    "session_graph.",
    'File "',
    "public.",
)


def _literal(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


JSON_VALUES = st.one_of(
    st.text(max_size=10).map(nodes.String),
    st.integers(-5, 5).map(nodes.Int),
    st.just(
        parse(f"{{ f(x: {_literal(discount_ir())}) }}")
        .definitions[0]  # type: ignore[attr-defined]
        .selection_set.selections[0]
        .arguments[0]
        .value
    ),
    st.just(
        parse('{ f(x: {note: "fuzz", n: 1}) }')
        .definitions[0]  # type: ignore[attr-defined]
        .selection_set.selections[0]
        .arguments[0]
        .value
    ),
)
DOCUMENTS = st.one_of(
    queries(SCHEMA, custom_scalars={"JSON": JSON_VALUES}),
    mutations(SCHEMA, custom_scalars={"JSON": JSON_VALUES}),
)


def _string_literals(document: str) -> list[str]:
    found: list[str] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.append(node.value)

    visit(parse(document), Collect())
    return sorted(found, key=len, reverse=True)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=DOCUMENTS, as_alice=st.booleans(), aim=st.booleans())
async def test_fuzzed_documents_from_two_users(  # noqa: PLR0917 - fixtures and drawn values
    client: GraphClient, alice: User, bob: User, document: str, as_alice: bool, aim: bool
) -> None:
    if not hasattr(client, "alices_session"):
        session = await create_session(client, alice, title=ALICE_TITLE)
        client.alices_session = session["id"]  # type: ignore[attr-defined]
    alices_session: str = client.alices_session  # type: ignore[attr-defined]
    if aim:
        document = aim_ids(document, alices_session)
    user = alice if as_alice else bob
    response = await client.http.post(
        "/graphql", json={"query": document}, headers={"Authorization": f"Bearer {user.token}"}
    )
    assert response.status_code < 500, (document, response.text)
    body = response.json()
    text = json.dumps(body)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, (document, text)
    assert all(code for code in codes), text
    # Internals must not show; what the client itself sent may be echoed back.
    echoed = text
    for literal in _string_literals(document):
        echoed = echoed.replace(json.dumps(literal)[1:-1], "")
    for marker in INTERNALS:
        assert marker not in echoed, (marker, document, text)
    if not as_alice:
        assert ALICE_TITLE not in text, document
        assert (
            alices_session not in text.replace(f'"{alices_session}"', "", 0)
            or '"deletedId"' not in text
        )
        if body.get("data"):
            assert alices_session not in json.dumps(body["data"]), document
