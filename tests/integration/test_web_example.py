"""The frontend's flow with real clients (examples/web): graphql-codegen's client preset
types the frontend's documents and writes the manifest from schema.graphql (and from a
running gateway's introspection), `tsc` checks the client, and the gateway serves that
manifest in trusted-only mode while the client runs every document by `documentId`, over
HTTP (fetch), WebSocket (graphql-ws) and, in APQ mode, Apollo Client's persisted queries."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from graph.backends.base import Backend
from graph.cli import main
from graph.documents.ids import sha256_hex
from tests.support import User, discount_ir
from tests.support.live import WAIT_S, LiveClient, LiveGateway, live_gateway
from tests.support.stores import Database

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "examples" / "web"
NODE, NPX = shutil.which("node"), shutil.which("npx")
INSTALLED = NODE is not None and NPX is not None and (WEB / "node_modules" / ".bin").is_dir()
pytestmark = pytest.mark.skipif(
    not INSTALLED,
    reason="Node.js and examples/web are needed: `npm ci --prefix examples/web` (make test does)",
)
GENERATED = WEB / "src" / "gql"
MANIFEST = GENERATED / "persisted-documents.json"


async def run(*command: str, cwd: Path = WEB, **env: str) -> str:
    """A command's stdout; the test fails with its output if it fails."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, f"{' '.join(command)}:\n{out.decode()}"
    return out.decode()


async def codegen(schema: str, out: str) -> None:
    await run("npx", "graphql-codegen", "--config", "codegen.ts", SCHEMA=schema, OUT=out)


@pytest.fixture(scope="module")
async def built() -> Path:
    """The example generated from schema.graphql, type-checked, and compiled to dist/."""
    await codegen(str(ROOT / "schema.graphql"), "src/gql/")
    await run("npx", "tsc", "--noEmit")
    await run("npx", "tsc")
    return MANIFEST


async def scenario(*arguments: str) -> list[dict[str, Any]]:
    assert NODE is not None
    out = await run(NODE, "dist/main.js", *arguments)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def by_step(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    assert not [line for line in lines if "failed" in line], lines
    return {line["step"]: line for line in lines}


async def walk(gateway: LiveGateway, user: User) -> dict[str, dict[str, Any]]:
    """The example's walk through every query and mutation, as `user`."""
    irs = json.dumps(discount_ir()), json.dumps(discount_ir([]))
    return by_step(await scenario("walk", gateway.http_url, user.token, *irs))


@pytest.fixture
async def trusted(built: Path, database: Database, backend: Backend) -> AsyncIterator[LiveGateway]:
    async with live_gateway(
        database,
        backend,
        graph_trusted_documents=built,
        graph_trusted_documents_only=True,
    ) as gateway:
        yield gateway


def test_the_manifest_holds_every_operation_under_its_sha256(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest: dict[str, str] = json.loads(built.read_text())
    names = set()
    for key, text in manifest.items():
        assert key == "sha256:" + sha256_hex(text)
        [operation] = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
        assert operation.name is not None
        names.add(operation.name.value)
    operations = ROOT / "examples" / "operations.graphql"
    expected = {
        d.name.value
        for d in parse(operations.read_text()).definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    }
    assert names == expected
    assert main(["documents", "check", str(built)]) == 0
    assert f"{len(expected)} documents, all valid" in capsys.readouterr().out


async def test_every_document_runs_by_id_in_trusted_only_mode(
    trusted: LiveGateway, alice: User
) -> None:
    steps = await walk(trusted, alice)
    assert steps["viewer"]["id"] == str(alice.id)
    session_id = steps["create"]["id"]
    assert steps["list"]["ids"] == [session_id]
    assert steps["get"] == {"step": "get", "version": 1, "status": "ACTIVE"}
    holes = steps["screen"]["holes"]
    assert sorted(holes) == ["input_constraints", "return_type"]
    assert steps["resolve"]["version"] == 2
    assert steps["screen again"]["holes"] == holes[1:]
    assert steps["add draft"]["draft"] == 2
    assert steps["history"]["drafts"] == 2
    assert steps["compare"]["similarity"] == 1.0
    assert steps["revert"]["draft"] == 3
    assert steps["answer the rest"]["unresolved"] == []
    assert steps["finalize"]["status"] == "FINALIZED"
    dashboard = steps["dashboard"]
    assert dashboard["stats"]["total"] == 1
    assert dashboard["stats"]["finalized"] == 1
    assert dashboard["latest"][0] == "SESSION_FINALIZED"
    [[open_holes, revisions, drafts]] = dashboard["counts"]
    assert (open_holes, drafts) == (0, 4)  # the walk's drafts: 1, added, reverted, answered
    assert revisions >= 4
    assert dashboard["events"] > revisions + drafts
    assert steps["abandon"]["status"] == "ABANDONED"
    assert steps["delete"]["deleted"] is True
    assert steps["free text"] == {
        "step": "free text",
        "status": 400,
        "codes": ["TRUSTED_DOCUMENTS_ONLY"],
    }


@pytest.fixture(scope="module")
def documents(built: Path) -> dict[str, str]:
    manifest: dict[str, str] = json.loads(built.read_text())
    return manifest


async def by_id(
    gateway: LiveGateway, documents: dict[str, str], name: str, variables: Any, user: User
) -> Any:
    """One of the manifest's operations, named by its id, as the example's client sends it."""
    [document_id] = [key for key, text in documents.items() if f" {name}(" in text]
    response = await gateway.client.http.post(
        "/graphql",
        json={"documentId": document_id, "variables": variables},
        headers={"Authorization": f"Bearer {user.token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def subscribe(gateway: LiveGateway, *arguments: str) -> LiveClient:
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        "dist/main.js",
        *arguments,
        cwd=WEB,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return LiveClient(process)


async def test_live_events_by_id_and_text_refused(
    built: Path, documents: dict[str, str], database: Database, alice: User
) -> None:
    async with live_gateway(
        database, graph_trusted_documents=built, graph_trusted_documents_only=True
    ) as gateway:
        steps = await walk(gateway, alice)
        before = await gateway.subscriptions()
        mine = await subscribe(gateway, "live", gateway.ws_url, alice.token)
        try:
            await gateway.until_subscriptions(lambda n: n > before)
            again = await walk(gateway, alice)
            line = await mine.line()
            event = line["next"]["mySessionEvents"]
            assert (event["kind"], event["sessionId"]) == ("CREATED", again["create"]["id"])
            assert event["sessionId"] != steps["create"]["id"]
        finally:
            await mine.close()
        new = {"prompt": "p", "initialDraft": {"ir": discount_ir(), "validationStatus": "PENDING"}}
        created = await by_id(gateway, documents, "CreateSession", {"input": new}, alice)
        session_id = created["createSession"]["session"]["id"]
        before = await gateway.subscriptions()
        one = await subscribe(gateway, "live", gateway.ws_url, alice.token, session_id)
        try:
            await gateway.until_subscriptions(lambda n: n > before)
            answer = {"sessionId": session_id, "holeId": "return_type", "text": "float"}
            await by_id(gateway, documents, "ResolveHole", {"input": answer}, alice)
            event = (await one.line())["next"]["sessionEvents"]
            assert (event["kind"], event["sessionId"], event["version"]) == (
                "CHANGED",
                session_id,
                2,
            )
        finally:
            await one.close()
        refused = await subscribe(gateway, "live-text", gateway.ws_url, alice.token)
        try:
            line = await asyncio.wait_for(refused.line(), WAIT_S)
            assert [e["extensions"]["code"] for e in line["error"]] == ["TRUSTED_DOCUMENTS_ONLY"]
        finally:
            await refused.close()


async def test_apollo_client_registers_on_not_found_then_sends_the_hash_alone(
    built: Path, database: Database, backend: Backend, alice: User
) -> None:
    async with live_gateway(database, backend, graph_trusted_documents=built) as gateway:
        steps = by_step(await scenario("apollo", gateway.http_url, alice.token))
    first, second = steps["query 1"], steps["query 2"]
    assert first["viewer"] == second["viewer"] == str(alice.id)
    not_found, with_text = first["requests"]
    assert not_found["text"] is False
    assert not_found["persistedQuery"] is True
    assert not_found["codes"] == ["PERSISTED_QUERY_NOT_FOUND"]
    assert with_text["text"] is True
    assert (with_text["status"], with_text["codes"]) == (200, [])
    [hash_only] = second["requests"]
    assert hash_only == {"text": False, "persistedQuery": True, "status": 200, "codes": []}


async def test_codegen_from_a_running_gateways_introspection_matches_schema_graphql(
    trusted: LiveGateway, built: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gql"
    await codegen(trusted.http_url, f"{out}/")
    for name in ("graphql.ts", "persisted-documents.json"):
        assert (out / name).read_text() == (GENERATED / name).read_text(), name
