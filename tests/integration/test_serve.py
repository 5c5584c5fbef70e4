"""`session-graph serve` as a newcomer runs it: the embedded default, a token from the
CLI, a gql client, and data that survives stopping the service and its Postgres."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

from graph.embedded import EmbeddedPostgres
from tests.support import CREATE_SESSION, GET_SESSION, RESOLVE_HOLE, discount_ir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "SUPABASE_", "GRAPH_"))
    }
    env.update(GRAPH_DATA_DIR=str(data_dir), GRAPH_PORT=str(port), GRAPH_LOG_LEVEL="WARNING")
    return env


@contextmanager
def running_service(data_dir: Path, port: int) -> Iterator[str]:
    log_path = data_dir.parent / f"serve-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "graph", "serve"],
            env=_environment(data_dir, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{log_path.read_text()}")
            try:
                if httpx.post(url, json={"query": "{ __typename }"}, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not come up in 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _token(data_dir: Path, user: uuid.UUID) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "graph", "token", "--user", str(user), "--ttl", "600"],
        env=_environment(data_dir, 8000),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


async def _gql(url: str, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    transport = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport) as session:
        result: dict[str, Any] = await session.execute(
            GraphQLRequest(document, variable_values=variables)
        )
        return result


async def test_data_survives_a_restart_of_the_service_and_its_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = _free_port()
    user = uuid.uuid4()

    with running_service(data_dir, port) as url:
        token = _token(data_dir, user)
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
