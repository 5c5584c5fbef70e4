"""GraphQL over HTTP: methods, media types, tokens, introspection, and error hygiene."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.applications import Starlette

from graph.app import create_app
from graph.backends.base import Backend
from tests.support import GraphClient, User, token_for
from tests.support.stores import settings_for_tests

INTROSPECT = "{ __schema { queryType { name } } }"


async def test_get_runs_queries(client: GraphClient, alice: User) -> None:
    response = await client.http.get(
        "/graphql",
        params={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"id": str(alice.id)}}}


async def test_get_refuses_mutations(client: GraphClient, alice: User) -> None:
    response = await client.http.get(
        "/graphql",
        params={"query": 'mutation { deleteSession(input: {id: "x"}) { deletedId } }'},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 405


async def test_a_browser_gets_graphiql(client: GraphClient) -> None:
    response = await client.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphql_response_json_when_asked(client: GraphClient, alice: User) -> None:
    accept = {"Accept": "application/graphql-response+json"}
    ok = await client.execute("{ viewer { id } }", user=alice, headers=accept)
    assert ok.status == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = await client.execute("{ nope }", user=alice, headers=accept)
    assert invalid.status == 400
    assert invalid.codes == ["BAD_USER_INPUT"]
    plain = await client.execute("{ nope }", user=alice)
    assert plain.status == 200
    assert plain.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("accept", ["application/graphql-response+json", "application/json"])
@pytest.mark.parametrize("query", ["{", "{ nope }", "query Q($id: ID!) { viewer { id } }"])
async def test_a_request_error_has_no_data_entry(
    client: GraphClient, alice: User, accept: str, query: str
) -> None:
    """Parse, validation and variable errors happen before execution: no `data` at all."""
    reply = await client.execute(query, user=alice, headers={"Accept": accept})
    assert "data" not in reply.body
    assert reply.codes == ["BAD_USER_INPUT"]
    assert reply.status == (400 if "graphql-response" in accept else 200)


@pytest.mark.parametrize("extensions", ["x", 1, True, ["a"]])
async def test_extensions_that_are_not_an_object_are_400(
    client: GraphClient, alice: User, extensions: object
) -> None:
    for query in ("{ viewer { id } }", "{ sessions { totalCount } }"):  # compiled reads too
        response = await client.http.post(
            "/graphql",
            json={"query": query, "extensions": extensions},
            headers={"Authorization": f"Bearer {alice.token}"},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_introspection_needs_no_token(client: GraphClient) -> None:
    reply = await client.execute(INTROSPECT)
    assert reply.ok() == {"__schema": {"queryType": {"name": "Query"}}}


async def test_data_needs_a_token(client: GraphClient) -> None:
    for query in (
        "{ viewer { id } }",
        "{ sessions { totalCount } }",
        "mutation { createSession(input: {}) { session { id } } }",
    ):
        reply = await client.execute(query)
        assert reply.status == 401
        assert reply.codes == ["UNAUTHENTICATED"]
        assert reply.data is None


async def test_bad_tokens_get_401_before_any_graphql_work(client: GraphClient, alice: User) -> None:
    bad = [
        "garbage",
        token_for(alice.id, exp=1),
        token_for(alice.id, role="service_role"),
        token_for(alice.id, role="anon"),
        token_for(alice.id, sub="not-a-uuid"),
        "x" * 20_000,
    ]
    for token in bad:
        reply = await client.execute(INTROSPECT, token=token)
        assert reply.status == 401, token[:40]
        assert reply.codes == ["UNAUTHENTICATED"]
        assert reply.headers["www-authenticate"].startswith("Bearer")
    response = await client.http.post(
        "/graphql", json={"query": INTROSPECT}, headers={"Authorization": "Basic YTpi"}
    )
    assert response.status_code == 401


async def test_introspection_can_be_turned_off(backend: Backend, alice: User) -> None:
    app: Starlette = create_app(settings_for_tests(graph_introspection=False), backend=backend)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        client = GraphClient(http)
        reply = await client.execute(INTROSPECT, user=alice)
        assert set(reply.codes) == {"BAD_USER_INPUT"}
        assert reply.data is None
        assert (await client.execute("{ viewer { id } }", user=alice)).ok()


async def test_internal_errors_say_nothing_internal(
    client: GraphClient, alice: User, caplog: object
) -> None:
    """A store failure the gateway does not expect: masked for the client, logged in full."""
    import uuid  # noqa: PLC0415

    from graph.context import RequestContext  # noqa: PLC0415

    original = RequestContext.require_viewer

    def broken(self: RequestContext) -> object:
        raise ZeroDivisionError("select secret from pg_authid -- stack trace here")

    RequestContext.require_viewer = broken  # type: ignore[method-assign]
    try:
        # The directive keeps the query on the executor (compiled reads: test_compiled_reads).
        reply = await client.execute("{ viewer @include(if: true) { id } }", user=alice)
    finally:
        RequestContext.require_viewer = original  # type: ignore[method-assign]
    assert reply.codes == ["INTERNAL_SERVER_ERROR"]
    text = json.dumps(reply.body)
    assert "pg_authid" not in text
    assert "ZeroDivision" not in text
    assert reply.errors[0]["message"] == "Internal server error"
    assert str(uuid.UUID(int=0)) not in text


async def test_database_rule_messages_carry_no_sql(client: GraphClient, alice: User) -> None:
    reply = await client.execute(
        'mutation { finalizeSession(input: {id: "00000000-0000-0000-0000-000000000001"}) '
        "{ session { id } } }",
        user=alice,
    )
    text = json.dumps(reply.body)
    assert reply.codes == ["NOT_FOUND"]
    for leak in ("PL/pgSQL", "lock_session", "public.", "select", "CONTEXT"):
        assert leak not in text


async def test_a_body_is_parsed_once_even_when_the_executor_runs_it(
    client: GraphClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled-read check reads the JSON body first; Strawberry then reuses it."""
    import orjson  # noqa: PLC0415

    from graph import http  # noqa: PLC0415

    parsed: list[bytes | str] = []

    class CountingJson:
        JSONDecodeError = orjson.JSONDecodeError
        dumps = staticmethod(orjson.dumps)

        @staticmethod
        def loads(data: bytes | str) -> object:
            parsed.append(data)
            return orjson.loads(data)

    monkeypatch.setattr(http, "orjson", CountingJson)
    mutation = 'mutation { createSession(input: {title: "once"}) { session { title } } }'
    reply = await client.execute(mutation, user=alice)
    assert reply.ok()["createSession"]["session"]["title"] == "once"
    assert len(parsed) == 1
