"""What only the pg_graphql path has: upstream request counts, no database connection,
no key that bypasses RLS, and failures of the upstream mapped to our error codes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from graphql import parse, print_ast
from starlette.applications import Starlette

from graph.app import create_app
from graph.backends.pg_graphql import PgGraphqlBackend, store
from graph.backends.pg_graphql.compiled import UpstreamRead, compile_read
from graph.backends.pg_graphql.documents import load_documents
from graph.config import Settings
from graph.reads.plan import ReadPlan
from graph.schema.model import graph_schema
from tests.support import GET_SESSION, GraphClient, User, asgi_http, create_session, new_user
from tests.support.stores import TEST_ANON_KEY, Standin, settings_for_tests

NESTED = """query($first: Int) { sessions(first: $first) { totalCount edges { node {
  id currentDraft { version } unresolvedHoles
  revisions(first: 5) { totalCount edges { node { number } } }
  drafts { edges { node { version } } }
  resolutions(applied: false) { totalCount }
} } } }"""


async def _client_for(backend: Any, settings: Settings | None = None) -> AsyncIterator[GraphClient]:
    app = create_app(settings or settings_for_tests(), backend=backend)
    async with asgi_http(app) as http:
        yield GraphClient(http)


@pytest.fixture
async def via_standin(standin: Standin) -> AsyncIterator[GraphClient]:
    backend = await PgGraphqlBackend.connect(standin.url, TEST_ANON_KEY)
    async for client in _client_for(backend):
        yield client
    await backend.close()


async def test_upstream_requests_are_bounded_by_the_query_shape(
    via_standin: GraphClient, standin: Standin
) -> None:
    backend = await PgGraphqlBackend.connect(standin.url, TEST_ANON_KEY)
    field_by_field = settings_for_tests(graph_compiled_reads=False)
    try:
        async for executed in _client_for(backend, field_by_field):
            counts: dict[str, dict[int, int]] = {"compiled": {}, "executed": {}}
            for sessions in (2, 12):
                user = new_user()
                for _ in range(sessions):
                    await create_session(via_standin, user)
                for path, client in (("compiled", via_standin), ("executed", executed)):
                    before = standin.state.requests
                    reply = await client.execute(NESTED, {"first": 50}, user=user)
                    assert len(reply.ok()["sessions"]["edges"]) == sessions
                    counts[path][sessions] = standin.state.requests - before
    finally:
        await backend.close()
    # Compiled: the whole query is one upstream document. Field by field: one request for
    # the list, one per nested field (currentDraft and unresolvedHoles share a loader;
    # revisions, drafts, resolutions one each), however many sessions.
    assert counts == {"compiled": {2: 1, 12: 1}, "executed": {2: 5, 12: 5}}


async def test_the_gateway_opens_no_database_connection(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pg_graphql gateway tried to open a database connection")

    monkeypatch.setattr(asyncpg, "connect", refuse)
    monkeypatch.setattr(asyncpg, "create_pool", refuse)
    settings = Settings(
        supabase_url=standin.url,
        supabase_anon_key=TEST_ANON_KEY,  # type: ignore[arg-type]
        supabase_jwt_secret=settings_for_tests().supabase_jwt_secret,
    )
    assert settings.backend == "pg_graphql"
    app: Starlette = create_app(settings)
    user = new_user()
    async with app.router.lifespan_context(app), asgi_http(app) as http:
        client = GraphClient(http)
        session = await create_session(client, user)
        read = await client.execute(GET_SESSION, {"id": session["id"]}, user=user)
        assert read.ok()["session"]["id"] == session["id"]


def test_no_setting_holds_a_key_that_bypasses_rls() -> None:
    names = set(Settings.model_fields)
    assert not {n for n in names if "service" in n or "secret_key" in n}
    assert "supabase_anon_key" in names


async def test_a_refused_connection_is_upstream_unavailable(alice: User) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    backend = await PgGraphqlBackend.connect(
        f"http://127.0.0.1:{closed_port}", TEST_ANON_KEY, timeout_s=1
    )
    try:
        async for client in _client_for(backend):
            reply = await client.execute("{ sessions { totalCount } }", user=alice)
            assert reply.codes == ["UPSTREAM_UNAVAILABLE"]
            assert reply.errors[0]["extensions"]["retryable"] is True
            assert str(closed_port) not in json.dumps(reply.body)
    finally:
        await backend.close()


async def test_a_slow_upstream_times_out_and_recovers(standin: Standin, alice: User) -> None:
    """The upstream does not answer until the test has the gateway's reply, so the reply
    can only come from the gateway's own timeout."""
    backend = await PgGraphqlBackend.connect(standin.url, TEST_ANON_KEY, timeout_s=0.3)
    try:
        async for client in _client_for(backend):
            standin.state.hold = held = asyncio.Event()
            before = standin.state.requests
            try:
                async with asyncio.timeout(30):  # a safety net for a hang, not a window
                    reply = await client.execute("{ sessions { totalCount } }", user=alice)
            finally:
                standin.state.hold = None
                held.set()
            assert reply.codes == ["UPSTREAM_UNAVAILABLE"]
            assert reply.errors[0]["extensions"]["retryable"] is True
            assert standin.state.requests - before == 1  # timed out once, not asked again
            recovered = await client.execute("{ sessions { totalCount } }", user=alice)
            assert recovered.ok() == {"sessions": {"totalCount": 0}}
    finally:
        await backend.close()


async def test_a_401_from_the_platform_is_unauthenticated(standin: Standin, alice: User) -> None:
    backend = await PgGraphqlBackend.connect(standin.url, "not-the-anon-key")
    try:
        async for client in _client_for(backend):
            reply = await client.execute("{ sessions { totalCount } }", user=alice)
            assert reply.codes == ["UNAUTHENTICATED"]
    finally:
        await backend.close()


async def test_an_upstream_rejection_is_masked_and_logged(
    standin: Standin, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    backend = await PgGraphqlBackend.connect(standin.url, TEST_ANON_KEY)
    backend._documents["SessionsById"] = parse(
        "query SessionsById($ids: [UUID!]!, $first: Int!) "
        "{ sessionCollection(filter: {id: {in: $ids}}, first: $first) "
        "{ edges { node { dneField } } } }"
    )
    try:
        async for client in _client_for(backend, settings_for_tests(graph_compiled_reads=False)):
            reply = await client.execute(GET_SESSION, {"id": str(alice.id)}, user=alice)
            assert reply.codes == ["INTERNAL_SERVER_ERROR"]
            assert "dneField" not in json.dumps(reply.body)
    finally:
        await backend.close()
    assert any("dneField" in record.getMessage() for record in caplog.records)


async def test_a_rejected_compiled_read_is_logged_and_executed_instead(
    via_standin: GraphClient,
    alice: User,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(plan: ReadPlan) -> UpstreamRead | None:
        read = compile_read(plan)
        if plan.write is not None:
            assert read is None  # a mutation through pg_graphql is executed field by field
            return None
        assert read is not None
        assert read.document is not None
        text = print_ast(read.document).replace("node {", "node { dneField", 1)
        return dataclasses.replace(read, document=parse(text))

    monkeypatch.setattr(store, "compile_read", broken)
    session = await create_session(via_standin, alice, title="still answered")
    reply = await via_standin.execute(GET_SESSION, {"id": session["id"]}, user=alice)
    assert reply.ok()["session"]["title"] == "still answered"
    assert "dneField" not in json.dumps(reply.body)
    assert any("dneField" in record.getMessage() for record in caplog.records)


def test_documents_are_sent_as_written_with_the_fragments_they_spread() -> None:
    documents = load_documents(graph_schema())
    text = print_ast(documents["ResolveHole"])
    assert text.startswith("mutation ResolveHole(")
    for fragment in ("ResolutionFields", "RevisionFields", "SessionFields"):
        assert f"fragment {fragment} on" in text
    assert "fragment DraftFields" not in text  # only the fragments a document spreads
    # The fragments ask for every column the graph describes, and the keys the adapter reads.
    session = print_ast(documents["SessionsById"])
    for field in ("title", "metadata", "finalizedAt", "updatedAt"):
        assert f"  {field}\n" in session
    assert "revisionId" in text
