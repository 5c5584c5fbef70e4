"""`session-graph serve` as a newcomer runs it: the embedded default, a token from the
CLI, a gql client, and data that survives stopping the service and its Postgres."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

from graph.embedded import EmbeddedPostgres
from tests.support import CREATE_SESSION, GET_SESSION, RESOLVE_HOLE, discount_ir
from tests.support.serving import cli_token, environment, free_port, running_service


async def _gql(url: str, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    transport = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport) as session:
        result: dict[str, Any] = await session.execute(
            GraphQLRequest(document, variable_values=variables)
        )
        return result


async def test_data_survives_a_restart_of_the_service_and_its_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    user = uuid.uuid4()

    with running_service(data_dir, port) as url:
        token = cli_token(data_dir, user)
        created = await _gql(
            url,
            token,
            CREATE_SESSION,
            {"input": {"prompt": "discounts", "initialDraft": {"ir": discount_ir()}}},
        )
        session_id = created["createSession"]["session"]["id"]
        await _gql(
            url,
            token,
            RESOLVE_HOLE,
            {"input": {"sessionId": session_id, "holeId": "return_type", "text": "float"}},
        )
        # The same request as plain HTTP, as curl sends it.
        async with httpx.AsyncClient() as http:
            plain = await http.post(
                url,
                json={"query": "{ viewer { id } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert plain.json() == {"data": {"viewer": {"id": str(user)}}}

    assert not EmbeddedPostgres(data_dir).is_running(), "stopping the service stops its Postgres"

    with running_service(data_dir, port) as url:
        # The generated secret is kept too: the old token still works.
        read = await _gql(url, token, GET_SESSION, {"id": session_id})
    session = read["session"]
    assert session["version"] == 2
    assert [e["node"]["type"] for e in session["revisions"]["edges"]] == ["INITIAL", "HOLE_FILL"]
    assert session["resolutions"]["edges"][0]["node"]["text"] == "float"
    assert session["currentDraft"]["ir"] == discount_ir()


async def test_serve_with_two_workers_shares_one_embedded_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    user = uuid.uuid4()
    with running_service(data_dir, free_port(), "--workers", "2") as url:
        token = cli_token(data_dir, user)
        created = await _gql(url, token, CREATE_SESSION, {"input": {"title": "from worker"}})
        session_id = created["createSession"]["session"]["id"]
        for _ in range(4):  # requests land on either worker; all see the same data
            read = await _gql(url, token, GET_SESSION, {"id": session_id})
            assert read["session"]["title"] == "from worker"
    assert not EmbeddedPostgres(data_dir).is_running()


def test_migrate_command_on_the_embedded_default(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    def migrate_command() -> str:
        result = subprocess.run(
            [sys.executable, "-m", "graph", "migrate"],
            env=environment(data_dir, 8000),
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    assert migrate_command().startswith("applied: 0001_supabase_compat.sql")
    assert migrate_command().strip() == "up to date: nothing to apply"
    assert not EmbeddedPostgres(data_dir).is_running()  # stopped again: it was not running
