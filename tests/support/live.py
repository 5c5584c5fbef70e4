"""Live subscriptions as frontends make them: the npm graphql-ws and graphql-sse clients
(tests/js/live_client.mjs) against a gateway served over a real socket, whose lifespan runs
the store's change source (the LISTEN connection)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from graph.app import create_app
from graph.backends.base import Backend
from graph.backends.postgres import PostgresBackend
from tests.support import GraphClient
from tests.support.faults import loopback_socket, serve, stop_serving
from tests.support.stores import Database, settings_for_tests

CLIENTS = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")
INSTALLED = NODE is not None and (CLIENTS / "node_modules" / "graphql-ws").is_dir()
WAIT_S = 30.0  # for what must happen; only a broken gateway makes a test wait this long

Line = dict[str, Any]


class LiveClient:
    """One subscription in a Node process; each line it prints is one happening."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.seen: list[Line] = []

    async def line(self) -> Line:
        stdout = self._process.stdout
        if stdout is None:
            raise RuntimeError("the client has no stdout")
        raw = await asyncio.wait_for(stdout.readline(), WAIT_S)
        if not raw:
            stderr = self._process.stderr
            err = (await stderr.read()).decode() if stderr is not None else ""
            raise AssertionError(f"the client ended after {self.seen}: {err}")
        found: Line = json.loads(raw)
        self.seen.append(found)
        return found

    async def until(self, done: Callable[[Line], bool]) -> list[Line]:
        """Lines up to and including the first for which `done` holds."""
        lines = []
        while True:
            found = await self.line()
            lines.append(found)
            if done(found):
                return lines

    async def close(self) -> None:
        if self._process.returncode is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()


def events(lines: list[Line]) -> list[dict[str, Any]]:
    """The `next` payloads' SessionEvent of each line that has one."""
    found = []
    for line in lines:
        data = line.get("next", {}).get("data") or {}
        found.extend(value for value in data.values() if value is not None)
    return found


async def _nothing() -> None:
    return None


@dataclass
class LiveGateway:
    http_url: str
    ws_url: str
    client: GraphClient
    backend: Backend
    # Cuts the store's change source (the LISTEN connection, Realtime's sockets)
    drop_changes: Callable[[], Awaitable[None]] | None = _nothing

    @asynccontextmanager
    async def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None,
        transport: str = "ws",
        wait: bool = True,
    ) -> AsyncIterator[LiveClient]:
        """A subscription; with `wait`, returns once the gateway holds it (its metric
        counted it), so a write made next is one it must see."""
        before = await self.subscriptions()
        url = self.ws_url if transport == "ws" else self.http_url
        if NODE is None:
            raise RuntimeError("Node.js is not installed")
        process = await asyncio.create_subprocess_exec(
            NODE,
            str(CLIENTS / "live_client.mjs"),
            transport,
            url,
            token or "-",
            query,
            json.dumps(variables or {}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        client = LiveClient(process)
        try:
            if wait:
                await self.until_subscriptions(lambda n: n > before)
            yield client
        finally:
            await client.close()

    async def subscriptions(self) -> int:
        return int(await self.metric("graph_live_subscriptions"))

    async def metric(self, name: str) -> float:
        """One sample of the gateway's /metrics, 0 when it has none yet."""
        async with httpx.AsyncClient() as http:
            text = (await http.get(self.http_url.removesuffix("/graphql") + "/metrics")).text
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    async def until_subscriptions(self, holds: Callable[[int], bool]) -> None:
        """Polls the gateway's own metric: the server side of a subscription is out of
        this process's sight."""
        async with asyncio.timeout(WAIT_S):
            while not holds(await self.subscriptions()):  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.02)


@asynccontextmanager
async def live_gateway(
    database: Database, backend: Backend | None = None, **settings: object
) -> AsyncIterator[LiveGateway]:
    """The gateway on a loopback socket (a Postgres backend of its own unless given)."""
    opened = backend or await PostgresBackend.connect(database.app_dsn, pool_size=4)
    sock = loopback_socket()
    server = await serve(create_app(settings_for_tests(**settings), backend=opened), sock)
    port = sock.getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield LiveGateway(
                http_url=f"http://127.0.0.1:{port}/graphql",
                ws_url=f"ws://127.0.0.1:{port}/graphql",
                client=GraphClient(http),
                backend=opened,
            )
    finally:
        await stop_serving(*server)
        sock.close()
        if backend is None:
            await opened.close()
