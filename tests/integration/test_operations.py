"""Running it: the Modal app offline, health, readiness, metrics, request logs, CORS."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

import modal_app
from graph.app import create_app
from graph.backends.base import Backend
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.observability import user_hash
from tests.support import GET_SESSION, TEST_JWT_SECRET, GraphClient, User, create_session
from tests.support.stores import TEST_ANON_KEY, Standin, settings_for_tests


async def _http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        yield http


@pytest.fixture
async def gateway(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _http(create_app(settings_for_tests(), backend=backend)):
        yield http


async def test_the_modal_app_serves_the_gateway_offline(
    standin: Standin, monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    for name, value in {
        "SUPABASE_URL": standin.url,
        "SUPABASE_ANON_KEY": TEST_ANON_KEY,
        "SUPABASE_JWT_SECRET": TEST_JWT_SECRET,
        "GRAPH_BACKEND": "pg_graphql",
        "DATABASE_URL": "",
    }.items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        app = modal_app.web.local()  # configures JSON logging on the root logger
        assert isinstance(app, Starlette)
        async with app.router.lifespan_context(app):
            async for http in _http(app):
                assert (await http.get("/healthz")).status_code == 200
                assert (await http.get("/readyz")).json() == {"status": "ready"}
                client = GraphClient(http)
                session = await create_session(client, alice)
                read = await client.execute(GET_SESSION, {"id": session["id"]}, user=alice)
                assert read.ok()["session"]["currentDraft"]["version"] == 1
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


async def test_health_and_readiness_when_up(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/healthz")).json() == {"status": "ok"}
    ready = await gateway.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_readiness_is_503_when_the_backend_does_not_answer() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = await PgGraphqlBackend.connect(f"http://127.0.0.1:{port}", TEST_ANON_KEY, timeout_s=1)
    try:
        async for http in _http(create_app(settings_for_tests(), backend=backend)):
            assert (await http.get("/healthz")).status_code == 200
            not_ready = await http.get("/readyz")
            assert (not_ready.status_code, not_ready.json()) == (503, {"status": "unavailable"})
    finally:
        await backend.close()


async def test_metrics_count_operations_errors_and_backend_calls(
    gateway: httpx.AsyncClient, alice: User
) -> None:
    client = GraphClient(gateway)
    await create_session(client, alice)
    await client.execute("query Listing { sessions { totalCount } }", user=alice)
    await client.execute('query Broken { session(id: "nope") { id } }', user=alice)
    await client.execute("{ viewer { id } }", token="garbage")
    text = (await gateway.get("/metrics")).text
    assert 'graph_requests_total{operation="Create",outcome="ok"} 1.0' in text
    assert 'graph_requests_total{operation="Listing",outcome="ok"} 1.0' in text
    assert 'graph_requests_total{operation="Broken",outcome="error"} 1.0' in text
    assert 'graph_errors_total{code="BAD_USER_INPUT"} 1.0' in text
    assert 'graph_errors_total{code="UNAUTHENTICATED"} 1.0' in text
    assert 'graph_request_duration_seconds_count{operation="Listing"} 1.0' in text
    # The listing is a compiled read: one store call, whatever the backend.
    assert 'graph_backend_call_duration_seconds_count{call="compiled_read"} 1.0' in text
    assert 'call="list_sessions"' not in text
    assert "graph_db_pool_in_use" in text


async def test_operation_labels_stay_bounded(gateway: httpx.AsyncClient, alice: User) -> None:
    client = GraphClient(gateway)
    await client.execute("query Odd_1 { viewer { id } }", user=alice)
    for i in range(210):
        await client.execute(f"query Op{i} {{ viewer {{ id }} }}", user=alice)
    text = (await gateway.get("/metrics")).text
    assert text.count("graph_requests_total{") <= 201
    assert 'operation="other"' in text


async def test_every_request_has_an_id_in_header_errors_and_log(
    gateway: httpx.AsyncClient, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="graph.requests")
    client = GraphClient(gateway)
    reply = await client.execute('query Missing { session(id: "x") { id } }', user=alice)
    request_id = reply.headers["x-request-id"]
    assert reply.errors[0]["extensions"]["requestId"] == request_id
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "graph.requests"]
    line = next(entry for entry in lines if entry["request_id"] == request_id)
    assert line["operation"] == "Missing"
    assert line["outcome"] == "error"
    assert line["user"] == user_hash(alice.id)
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert alice.token not in logged
    assert str(alice.id) not in logged

    given = await client.execute(
        "{ viewer { id } }", user=alice, headers={"X-Request-ID": "client-chosen-123"}
    )
    assert given.headers["x-request-id"] == "client-chosen-123"
    unsafe = await client.execute(
        "{ viewer { id } }", user=alice, headers={"X-Request-ID": "<script>"}
    )
    assert unsafe.headers["x-request-id"] != "<script>"


async def test_cors_preflight_from_an_allowed_origin_only(backend: Backend) -> None:
    app = create_app(
        settings_for_tests(graph_cors_origins="https://app.lift-sys.dev"), backend=backend
    )
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async for http in _http(app):
        allowed = await http.options(
            "/graphql", headers={"Origin": "https://app.lift-sys.dev", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.lift-sys.dev"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = await http.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
    async for http in _http(create_app(settings_for_tests(), backend=backend)):
        default = await http.options(
            "/graphql", headers={"Origin": "https://app.lift-sys.dev", **preflight}
        )
        assert "access-control-allow-origin" not in default.headers
