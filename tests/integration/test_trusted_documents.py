"""Trusted documents on each backend: a persisted document by `documentId` (POST and GET),
Apollo's automatic persisted queries, and trusted-only mode, which refuses free text, APQ
registration and unknown ids before any parsing (a counter on graphql-core's parser says
so) and changes nothing."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from graphql.language.parser import Parser
from starlette.applications import Starlette

from graph.app import create_app
from graph.backends.base import Backend
from graph.documents.ids import sha256_hex
from tests.support import GraphClient, User, asgi_http, discount_ir
from tests.support.examples import example_operation
from tests.support.live import INSTALLED, live_gateway
from tests.support.stores import Database, settings_for_tests

NEW_SESSION = {
    "prompt": "Create a calculate_discount function",
    "initialDraft": {"ir": discount_ir(), "validationStatus": "INCOMPLETE"},
}
TRUSTED = ("GetSession", "ListSessions", "CreateSession", "ResolveHole", "SessionScreen")
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def digest(name: str) -> str:
    return sha256_hex(example_operation(name))


def write_manifest(path: Path, names: tuple[str, ...] = TRUSTED) -> Path:
    """`{hex: document}`, as graphql-codegen's client preset writes it."""
    path.write_text(json.dumps({digest(name): example_operation(name) for name in names}))
    return path


class Parses:
    """Counts graphql-core parses in this process (the executor's and the planner's)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Parser.parse_document

        def counted(parser: Parser) -> Any:
            self.count += 1
            return original(parser)

        monkeypatch.setattr(Parser, "parse_document", counted)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Parses:
    return Parses(monkeypatch)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_manifest(tmp_path_factory.mktemp("documents") / "persisted-documents.json")


@pytest.fixture(scope="module")
def trusted_app(backend: Backend, manifest: Path) -> Starlette:
    return create_app(
        settings_for_tests(graph_trusted_documents=manifest, graph_trusted_documents_only=True),
        backend=backend,
    )


@pytest.fixture(scope="module")
def apq_app(backend: Backend, manifest: Path) -> Starlette:
    return create_app(settings_for_tests(graph_trusted_documents=manifest), backend=backend)


async def _client(app: Starlette) -> AsyncIterator[Http]:
    async with asgi_http(app) as http:
        yield Http(http)


@pytest.fixture
async def trusted(trusted_app: Starlette) -> AsyncIterator[Http]:
    async for http in _client(trusted_app):
        yield http


@pytest.fixture
async def apq(apq_app: Starlette) -> AsyncIterator[Http]:
    async for http in _client(apq_app):
        yield http


class Http:
    """Requests as a persisted-documents client sends them."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, body: dict[str, Any], user: User | None = None, accept: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {user.token}"} if user else {}
        if accept:
            headers["Accept"] = accept
        return await self.http.post("/graphql", json=body, headers=headers)

    async def get(self, params: dict[str, str], user: User | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {user.token}"} if user else {}
        return await self.http.get("/graphql", params=params, headers=headers)

    async def by_id(
        self, name: str, variables: dict[str, Any], user: User, *, prefix: str = "sha256:"
    ) -> Any:
        response = await self.post(
            {"documentId": prefix + digest(name), "variables": variables}, user
        )
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        return body["data"]


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


async def create_session(http: Http, user: User) -> str:
    data = await http.by_id(
        "CreateSession",
        {"input": NEW_SESSION},
        user,
    )
    session_id: str = data["createSession"]["session"]["id"]
    return session_id


async def test_a_document_id_runs_the_manifest_document_by_post_and_get(
    trusted: Http, client: GraphClient, alice: User
) -> None:
    session_id = await create_session(trusted, alice)
    as_text = await client.execute(example_operation("GetSession"), {"id": session_id}, user=alice)
    expected = as_text.ok()
    assert expected["session"]["id"] == session_id
    variables = {"id": session_id}
    assert await trusted.by_id("GetSession", variables, alice) == expected
    assert await trusted.by_id("GetSession", variables, alice, prefix="") == expected  # codegen
    response = await trusted.get(
        {"documentId": "sha256:" + digest("GetSession"), "variables": json.dumps(variables)},
        alice,
    )
    assert response.status_code == 200
    assert response.json() == {"data": expected}
    screen = await trusted.by_id("SessionScreen", variables, alice)
    assert screen["session"]["id"] == session_id


async def test_a_mutation_by_get_is_405(trusted: Http, alice: User) -> None:
    response = await trusted.get(
        {
            "documentId": "sha256:" + digest("CreateSession"),
            "variables": json.dumps({"input": NEW_SESSION}),
        },
        alice,
    )
    assert response.status_code == 405, response.text
    listed = await trusted.by_id("ListSessions", {}, alice)
    assert listed["sessions"]["edges"] == []


async def test_another_users_session_by_id_is_not_found(
    trusted: Http, alice: User, bob: User
) -> None:
    session_id = await create_session(trusted, alice)
    response = await trusted.post(
        {"documentId": "sha256:" + digest("GetSession"), "variables": {"id": session_id}}, bob
    )
    assert response.json()["data"] == {"session": None}


async def test_an_unknown_id_is_persisted_query_not_found(
    trusted: Http, alice: User, parses: Parses
) -> None:
    unknown = {"documentId": "sha256:" + sha256_hex("{ viewer { id } }")}
    response = await trusted.post(unknown, alice)
    assert response.status_code == 200
    assert "data" not in response.json()
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]
    strict = await trusted.post(unknown, alice, accept=GRAPHQL_RESPONSE_JSON)
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert parses.count == 0


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": "md5:0123"},
        {"documentId": "sha256:" + "A" * 64},
        {"documentId": 42},
        {"documentId": "sha256:" + "0" * 64, "query": "{ viewer { id } }"},
        {"query": "{ viewer { id } }", "extensions": {"persistedQuery": {"version": 2}}},
    ],
)
async def test_a_malformed_id_is_bad_user_input(
    trusted: Http, alice: User, body: dict[str, Any], parses: Parses
) -> None:
    response = await trusted.post(body, alice)
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert parses.count == 0


async def test_trusted_only_refuses_free_text_before_parsing_and_changes_nothing(
    trusted: Http, alice: User, parses: Parses
) -> None:
    create = example_operation("CreateSession").replace("CreateSession", "Sneaky")
    variables = {"input": NEW_SESSION}
    response = await trusted.post({"query": create, "variables": variables}, alice)
    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) == ["TRUSTED_DOCUMENTS_ONLY"]
    by_get = await trusted.get({"query": "{ viewer { id } }"}, alice)
    assert by_get.status_code == 400
    assert codes(by_get) == ["TRUSTED_DOCUMENTS_ONLY"]
    assert parses.count == 0
    listed = await trusted.by_id("ListSessions", {}, alice)
    assert listed["sessions"]["edges"] == []


async def test_trusted_only_refuses_batches_and_other_bodies_before_parsing(
    trusted: Http, alice: User, parses: Parses
) -> None:
    batch = await trusted.post([{"query": "{ viewer { id } }"}], alice)  # type: ignore[arg-type]
    assert batch.status_code == 400
    form = await trusted.http.post(
        "/graphql",
        content=b"{ viewer { id } }",
        headers={"Authorization": f"Bearer {alice.token}", "Content-Type": "application/graphql"},
    )
    assert form.status_code == 400
    assert parses.count == 0


async def test_trusted_only_refuses_apq_registration(
    trusted: Http, alice: User, parses: Parses
) -> None:
    query = "query Mine { viewer { id } }"
    persisted = {"version": 1, "sha256Hash": sha256_hex(query)}
    response = await trusted.post({"query": query, "extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400
    assert codes(response) == ["TRUSTED_DOCUMENTS_ONLY"]
    again = await trusted.post({"extensions": {"persistedQuery": persisted}}, alice)
    assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert parses.count == 0


async def test_trusted_only_runs_a_trusted_documents_full_text(trusted: Http, alice: User) -> None:
    await create_session(trusted, alice)
    response = await trusted.post({"query": example_operation("ListSessions")}, alice)
    assert response.status_code == 200
    assert response.json() == {"data": await trusted.by_id("ListSessions", {}, alice)}
    assert len(response.json()["data"]["sessions"]["edges"]) == 1


async def test_trusted_only_keeps_introspection_as_configured(
    backend: Backend, manifest: Path, parses: Parses
) -> None:
    query = get_introspection_query()
    for introspection in (True, False):
        settings = settings_for_tests(
            graph_trusted_documents=manifest,
            graph_trusted_documents_only=True,
            graph_introspection=introspection,
        )
        app = create_app(settings, backend=backend)  # checks and plans the manifest
        parses.count = 0
        async for http in _client(app):
            response = await http.post({"query": query})
            if introspection:
                assert response.status_code == 200
                assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
            else:
                assert response.status_code == 400
                assert codes(response) == ["TRUSTED_DOCUMENTS_ONLY"]
                assert parses.count == 0


async def test_apq_registers_after_not_found_and_then_runs_by_hash(apq: Http, alice: User) -> None:
    query = f"query Apq{uuid.uuid4().hex[:8]} {{ viewer {{ id }} }}"
    hash_only = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}}
    first = await apq.post(hash_only, alice)
    assert first.status_code == 200
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
    registered = await apq.post({"query": query, **hash_only}, alice)
    assert registered.json() == {"data": {"viewer": {"id": str(alice.id)}}}
    by_hash = await apq.post(hash_only, alice)
    assert by_hash.json() == {"data": {"viewer": {"id": str(alice.id)}}}
    by_get = await apq.get({"extensions": json.dumps(hash_only["extensions"])}, alice)
    assert by_get.json() == {"data": {"viewer": {"id": str(alice.id)}}}
    by_document_id = await apq.post({"documentId": "sha256:" + sha256_hex(query)}, alice)
    assert by_document_id.json() == {"data": {"viewer": {"id": str(alice.id)}}}


async def test_apq_refuses_a_hash_that_is_not_the_texts(apq: Http, alice: User) -> None:
    query = f"query Apq{uuid.uuid4().hex[:8]} {{ viewer {{ id }} }}"
    wrong = {"version": 1, "sha256Hash": sha256_hex(query + " ")}
    response = await apq.post({"query": query, "extensions": {"persistedQuery": wrong}}, alice)
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    after = await apq.post({"extensions": {"persistedQuery": wrong}}, alice)
    assert codes(after) == ["PERSISTED_QUERY_NOT_FOUND"]  # nothing was registered


async def test_the_log_and_metrics_carry_the_document_id(
    trusted: Http, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="graph.requests"):
        await trusted.by_id("ListSessions", {}, alice)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "graph.requests"]
    document = "sha256:" + digest("ListSessions")
    assert lines[-1]["document"] == document
    assert lines[-1]["operation"] == "ListSessions"
    metrics = (await trusted.http.get("/metrics")).text
    assert f'graph_document_requests_total{{document="{document}",outcome="ok"}}' in metrics


def test_an_invalid_manifest_document_stops_startup(tmp_path: Path, backend: Backend) -> None:
    broken = "query Broken { session(id: 1) { nope } }"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({sha256_hex(broken): broken}))
    with pytest.raises(Exception, match=sha256_hex(broken)) as raised:
        create_app(settings_for_tests(graph_trusted_documents=path), backend=backend)
    assert "nope" in str(raised.value)


def test_trusted_only_needs_a_manifest(backend: Backend) -> None:
    with pytest.raises(Exception, match="GRAPH_TRUSTED_DOCUMENTS"):
        create_app(settings_for_tests(graph_trusted_documents_only=True), backend=backend)


@pytest.mark.skipif(not INSTALLED, reason="Node.js and tests/js: `npm ci --prefix tests/js`")
@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_a_subscription_runs_by_id_and_free_text_is_refused(
    database: Database, alice: User, transport: str, tmp_path: Path
) -> None:
    path = write_manifest(tmp_path / "manifest.json", (*TRUSTED, "SessionLive"))
    async with live_gateway(
        database, graph_trusted_documents=path, graph_trusted_documents_only=True
    ) as gateway:
        http = Http(gateway.client.http)
        session_id = await create_session(http, alice)
        live_id = "sha256:" + digest("SessionLive")
        async with gateway.subscribe(
            live_id, {"id": session_id}, token=alice.token, transport=transport
        ) as live:
            await http.by_id(
                "ResolveHole",
                {"input": {"sessionId": session_id, "holeId": "return_type", "text": "float"}},
                alice,
            )
            line = await live.line()
            while "next" not in line:
                line = await live.line()
            event = line["next"]["data"]["sessionEvents"]
            assert (event["kind"], event["version"]) == ("CHANGED", 2)
        text = example_operation("SessionLive").replace("SessionLive", "Sneaky")
        async with gateway.subscribe(
            text, {"id": session_id}, token=alice.token, transport=transport, wait=False
        ) as refused:
            line = await refused.line()
            while "error" not in line and "next" not in line:
                line = await refused.line()
            errors = line["error"] if "error" in line else line["next"]["errors"]
            assert [e["extensions"]["code"] for e in errors] == ["TRUSTED_DOCUMENTS_ONLY"]
