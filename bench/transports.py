"""Which gql transport the pg_graphql adapter should use, measured.

`python -m bench.transports` serves a fixed pg_graphql-shaped answer from another
process (hypercorn: plain HTTP on loopback, and TLS with HTTP/1.1 or HTTP/2), then sends
it the adapter's kind of request through gql with each transport: one at a time (latency)
and 16 at a time (throughput), counting the client process's CPU per request. The
answer is fixed, so the figures are the client's and the hop's, not pg_graphql's.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import trustme
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import parse, print_ast

REQUESTS = int(os.environ.get("BENCH_TRANSPORT_REQUESTS", "2000"))
CONCURRENCY = 16
DOCUMENT = """query SessionsById($ids: [UUID!]!, $first: Int!) {
  sessionCollection(filter: {id: {in: $ids}}, first: $first) {
    edges { node { id status source title metadata version createdAt updatedAt finalizedAt } }
  }
}"""
ANSWER = json.dumps(
    {
        "data": {
            "sessionCollection": {
                "edges": [
                    {
                        "node": {
                            "id": "8d0c7a5e-4f6b-4a55-9a8e-0c7f1d2b3a4c",
                            "status": "active",
                            "source": "prompt",
                            "title": "a session",
                            "metadata": "{}",
                            "version": 3,
                            "createdAt": "2026-12-01T09:00:00.123456+00:00",
                            "updatedAt": "2026-12-01T09:05:00.654321+00:00",
                            "finalizedAt": None,
                        }
                    }
                ]
            }
        }
    }
).encode()

SERVER = """
import sys
from hypercorn.asyncio import serve
from hypercorn.config import Config
import asyncio

ANSWER = open(sys.argv[1], "rb").read()

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": ANSWER})

config = Config()
config.bind = [f"127.0.0.1:{sys.argv[2]}"]
config.loglevel = "WARNING"
config.keep_alive_max_requests = 10**9
if len(sys.argv) > 3:
    config.certfile, config.keyfile = sys.argv[3], sys.argv[4]
    config.alpn_protocols = sys.argv[5].split(",")
asyncio.run(serve(app, config))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def _measure(session: Any, request: GraphQLRequest) -> dict[str, float]:
    headers = {"Authorization": "Bearer x"}

    async def one() -> None:
        await session.execute(request, extra_args={"headers": headers})

    for _ in range(50):  # warm: connections open, code paths hot
        await one()
    latencies = []
    cpu = time.process_time()
    for _ in range(REQUESTS // 4):
        started = time.perf_counter()
        await one()
        latencies.append(time.perf_counter() - started)
    serial_cpu = (time.process_time() - cpu) / (REQUESTS // 4)

    remaining = REQUESTS

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    wall = time.perf_counter() - started
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "serial_cpu_us": serial_cpu * 1e6,
        "throughput": REQUESTS / wall,
        "concurrent_cpu_us": (time.process_time() - cpu) / REQUESTS * 1e6,
    }


Transport = Callable[[str, ssl.SSLContext | None], Any]


def _aiohttp(url: str, context: ssl.SSLContext | None) -> Any:
    return AIOHTTPTransport(url=url, ssl=context if context is not None else True)


def _httpx(http2: bool) -> Transport:
    def make(url: str, context: ssl.SSLContext | None) -> Any:
        return HTTPXAsyncTransport(
            url=url,
            http2=http2,
            verify=context if context is not None else True,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=50),
        )

    return make


class _RawAiohttp:
    """No gql: one aiohttp session posting the request's JSON, as a lower bound."""

    def __init__(self, url: str, context: ssl.SSLContext | None) -> None:
        self.url, self.context = url, context
        self.http: aiohttp.ClientSession | None = None
        self.text = print_ast(parse(DOCUMENT))

    async def execute(self, request: GraphQLRequest, extra_args: dict[str, Any]) -> Any:
        if self.http is None:
            self.http = aiohttp.ClientSession()
        body = orjson.dumps({"query": self.text, "variables": request.variable_values})
        async with self.http.post(
            self.url,
            data=body,
            headers={**extra_args["headers"], "Content-Type": "application/json"},
            ssl=self.context if self.context is not None else True,
        ) as response:
            return orjson.loads(await response.read())["data"]


async def _run_raw(url: str, context: ssl.SSLContext | None) -> dict[str, float]:
    raw = _RawAiohttp(url, context)
    request = GraphQLRequest(DOCUMENT, variable_values={"ids": ["x"], "first": 1})
    try:
        return await _measure(raw, request)
    finally:
        if raw.http is not None:
            await raw.http.close()


async def _run(make: Transport, url: str, context: ssl.SSLContext | None) -> dict[str, float]:
    client = Client(transport=make(url, context))
    request = GraphQLRequest(DOCUMENT, variable_values={"ids": ["x"], "first": 1})
    session = await client.connect_async()
    try:
        return await _measure(session, request)
    finally:
        await client.close_async()


def main() -> int:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        answer, script = Path(tmp) / "answer.json", Path(tmp) / "server.py"
        answer.write_bytes(ANSWER)
        script.write_text(SERVER)
        certfile, keyfile = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert.cert_chain_pems[0].write_to_path(str(certfile))
        cert.private_key_pem.write_to_path(str(keyfile))
        context = ssl.create_default_context()
        ca.configure_trust(context)
        hops = [
            ("loopback, HTTP/1.1", None, []),
            ("TLS, HTTP/1.1", "http/1.1", [str(certfile), str(keyfile), "http/1.1"]),
            ("TLS, HTTP/2", "h2", [str(certfile), str(keyfile), "h2,http/1.1"]),
        ]
        transports: list[tuple[str, Transport | None, str | None]] = [
            ("gql + aiohttp", _aiohttp, "http/1.1"),
            ("gql + httpx", _httpx(http2=False), "http/1.1"),
            ("gql + httpx (http2)", _httpx(http2=True), "h2"),
        ]
        for hop, protocol, tls_args in hops:
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, str(script), str(answer), str(port), *tls_args]
            )
            try:
                _wait_for(port)
                scheme = "https" if tls_args else "http"
                url = f"{scheme}://127.0.0.1:{port}/graphql/v1"
                tls = context if tls_args else None
                for name, make, needs in [*transports, ("aiohttp, no gql", None, "http/1.1")]:
                    if protocol is not None and needs != protocol:
                        continue
                    if protocol is None and needs == "h2":
                        continue
                    figures = asyncio.run(
                        _run(make, url, tls) if make is not None else _run_raw(url, tls)
                    )
                    rows.append((hop, name, figures))
                    print(
                        f"{hop:20} {name:22} p50 {figures['p50_ms']:5.2f} ms  "
                        f"CPU {figures['serial_cpu_us']:5.0f} us/request  "
                        f"x{CONCURRENCY}: {figures['throughput']:6.0f} req/s, "
                        f"CPU {figures['concurrent_cpu_us']:5.0f} us/request",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
