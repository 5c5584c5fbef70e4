"""What one request may ask for: each limit refused with a code, before any work."""

from __future__ import annotations

import asyncio

import httpx
from strawberry.extensions.validation_cache import _get_validate_cache

from graph.app import create_app
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.limits import Limits
from graph.schema import build_schema
from tests.support import GraphClient, User, create_session
from tests.support.stores import TEST_ANON_KEY, Standin, settings_for_tests

LIMITS = Limits()


async def test_queries_deeper_than_the_limit_are_refused() -> None:
    """Our schema has no cycles, so its deepest query is 7 levels: the limit is checked on a
    schema built with a lower one."""
    schema = build_schema(limits=Limits(max_depth=4))
    shallow = await schema.execute("{ sessions { edges { node { id } } } }")
    assert not any("exceeds maximum" in e.message for e in shallow.errors or [])
    deep = await schema.execute(
        "{ sessions { edges { node { revisions { edges { node { id } } } } } } }"
    )
    assert deep.errors
    assert "exceeds maximum operation depth of 4" in deep.errors[0].message
    assert deep.data is None


async def test_too_many_aliases_are_refused(client: GraphClient, alice: User) -> None:
    fields = " ".join(f"a{i}: viewer {{ id }}" for i in range(LIMITS.max_aliases + 1))
    reply = await client.execute(f"{{ {fields} }}", user=alice)
    assert "BAD_USER_INPUT" in reply.codes
    assert reply.data is None


async def test_too_many_root_fields_are_refused(client: GraphClient, alice: User) -> None:
    fields = " ".join(f"a{i}: viewer {{ id }}" for i in range(LIMITS.max_root_fields + 1))
    reply = await client.execute(f"query Wide {{ {fields} }}", user=alice)
    assert any("root fields" in e["message"] for e in reply.errors)
    assert set(reply.codes) == {"BAD_USER_INPUT"}


async def test_too_many_tokens_are_refused(client: GraphClient, alice: User) -> None:
    query = "{ viewer { id " + "__typename " * LIMITS.max_tokens + "} }"
    reply = await client.execute(query, user=alice)
    assert reply.codes == ["BAD_USER_INPUT"]
    assert "token" in reply.errors[0]["message"].lower()


async def test_bodies_over_one_mebibyte_get_413(client: GraphClient, alice: User) -> None:
    padding = "#" + "x" * (LIMITS.max_body_bytes + 10)
    response = await client.http.post(
        "/graphql",
        json={"query": "{ viewer { id } }\n" + padding},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_batches_and_malformed_bodies_are_bad_input(client: GraphClient, alice: User) -> None:
    headers = {"Authorization": f"Bearer {alice.token}"}
    batch = await client.http.post(
        "/graphql", json=[{"query": "{ viewer { id } }"}] * 2, headers=headers
    )
    not_json = await client.http.post(
        "/graphql", content=b"{nope", headers={**headers, "Content-Type": "application/json"}
    )
    for response in (batch, not_json):
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_validation_cache_keeps_hitting(client: GraphClient, alice: User) -> None:
    """Strawberry #4635: per-request rule classes would make every request a miss."""
    cache = _get_validate_cache(512)
    query = "query CacheCheck { viewer @include(if: true) { id } }"  # executed, not compiled
    await client.execute(query, user=alice)
    before = cache.cache_info()
    for _ in range(5):
        await client.execute(query, user=alice)
    after = cache.cache_info()
    assert after.hits - before.hits == 5
    assert after.currsize == before.currsize
    assert after.maxsize == 512


async def test_a_request_over_its_time_limit_is_retryable(standin: Standin, alice: User) -> None:
    backend = await PgGraphqlBackend.connect(standin.url, TEST_ANON_KEY, timeout_s=10)
    app = create_app(settings_for_tests(graph_request_timeout_s=0.3), backend=backend)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://g"
        ) as http:
            standin.state.hold = held = asyncio.Event()  # answers only after the reply
            try:
                async with asyncio.timeout(30):  # a safety net for a hang, not a window
                    reply = await GraphClient(http).execute(
                        "{ sessions { totalCount } }", user=alice
                    )
            finally:
                standin.state.hold = None
                held.set()
        assert reply.status == 503
        assert reply.codes == ["UPSTREAM_UNAVAILABLE"]
        assert reply.errors[0]["extensions"]["retryable"] is True
    finally:
        await backend.close()


async def test_page_size_is_at_most_100(client: GraphClient, alice: User) -> None:
    reply = await client.execute("{ sessions(first: 101) { totalCount } }", user=alice)
    assert reply.codes == ["BAD_USER_INPUT"]
    session = await create_session(client, alice)
    nested = await client.execute(
        "query($id: ID!) { session(id: $id) { revisions(first: 1000) { totalCount } } }",
        {"id": session["id"]},
        user=alice,
    )
    assert nested.codes == ["BAD_USER_INPUT"]
