"""A document by id against its text, in one gateway process: `python -m bench.documents`
(and a section of `make bench`).

What naming a document by id changes is the gateway's own work per request, a few
microseconds in a millisecond: under wrk, the machine's drift between runs (±20 % here)
hides it. So this calls the ASGI app in process, one request at a time against the real
Postgres, in pairs of small batches (one of each form, which goes first alternating), and
compares each pair's CPU time: drift hits both halves of a pair alike. The figure is the
median of the pairs' ratios, with its interquartile range.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.measure import post_scope
from bench.workload import SCREEN_QUERIES, SECRET, manifest_file, seed, token
from graph.app import create_app
from graph.backends.postgres import PostgresBackend
from graph.config import Settings
from graph.documents.ids import document_id, sha256_hex
from graph.embedded import EmbeddedPostgres
from graph.migrate import migrate

BATCH = 20
PAIRS = int(os.environ.get("BENCH_DOCUMENT_PAIRS", "200"))

App = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@dataclass(frozen=True, slots=True)
class DocumentFigures:
    """One document, as text and by id: the gateway process's CPU per request (medians
    over the batches) and by id ÷ as text over the pairs (median and quartiles)."""

    text_cpu_us: float
    id_cpu_us: float
    ratio: float
    ratio_low: float
    ratio_high: float


async def _post(app: App, body: bytes, bearer: bytes) -> bytes:
    scope = post_scope(
        [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", bearer),
        ]
    )
    received = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never: the app reads the body once
        return {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


def _bodies(
    query: str, sessions: dict[uuid.UUID, list[str]], *, by_id: bool
) -> list[tuple[bytes, bytes]]:
    """(body, Authorization header) per request: each a random user's own session."""
    import random  # noqa: PLC0415 - a fixed seed, the same requests for both forms

    rng = random.Random(11)
    users = list(sessions)
    named = {"documentId": document_id(sha256_hex(query))} if by_id else {"query": query}
    out = []
    for _ in range(BATCH):
        user = rng.choice(users)
        variables = {"id": rng.choice(sessions[user])}
        out.append(
            (orjson.dumps({**named, "variables": variables}), f"Bearer {token(user)}".encode())
        )
    return out


async def _batch(app: App, requests: list[tuple[bytes, bytes]]) -> float:
    """The process's CPU seconds per request over `requests`."""
    cpu = time.process_time()
    for body, bearer in requests:
        answer = await _post(app, body, bearer)
        if not answer.startswith(b'{"data":') or b'"errors"' in answer[-400:]:
            raise RuntimeError(f"an unexpected answer: {answer[:200]!r}")
    return (time.process_time() - cpu) / len(requests)


async def compare(
    dsn: str, sessions: dict[uuid.UUID, list[str]], manifest: Path
) -> dict[str, DocumentFigures]:
    backend = await PostgresBackend.connect(dsn, pool_size=4)
    try:
        settings = Settings(
            supabase_jwt_secret=SECRET,
            database_url="postgresql://in-process",
            graph_trusted_documents=manifest,
        )
        app: App = create_app(settings, backend=backend)
        figures: dict[str, DocumentFigures] = {}
        for op, query in SCREEN_QUERIES.items():
            text = _bodies(query, sessions, by_id=False)
            named = _bodies(query, sessions, by_id=True)
            for requests in (text, named, text, named):  # warm-up: plans, caches, the pool
                await _batch(app, requests)
            text_cpu, id_cpu, ratios = [], [], []
            for n in range(PAIRS):
                if n % 2 == 0:
                    a, b = await _batch(app, text), await _batch(app, named)
                else:
                    b, a = await _batch(app, named), await _batch(app, text)
                text_cpu.append(a)
                id_cpu.append(b)
                ratios.append(b / a)
            low, mid, high = statistics.quantiles(ratios, n=4)
            figures[op] = DocumentFigures(
                text_cpu_us=statistics.median(text_cpu) * 1e6,
                id_cpu_us=statistics.median(id_cpu) * 1e6,
                ratio=mid,
                ratio_low=low,
                ratio_high=high,
            )
        return figures
    finally:
        await backend.close()


def measure_documents_in_process(
    app_dsn: str, sessions: dict[uuid.UUID, list[str]], tmp_path: Path
) -> dict[str, DocumentFigures]:
    manifest = manifest_file(tmp_path, list(SCREEN_QUERIES.values()))
    figures = asyncio.run(compare(app_dsn, sessions, manifest))
    for op, f in figures.items():
        print(
            f"in process   {op:13} CPU/request as text {f.text_cpu_us:6.0f} µs, by id "
            f"{f.id_cpu_us:6.0f} µs; by id ÷ as text x{f.ratio:.3f} "
            f"(quartiles {f.ratio_low:.3f}-{f.ratio_high:.3f}, {PAIRS} pairs)",
            flush=True,
        )
    return figures


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as tmp:
        tmp_path = Path(tmp)
        embedded = EmbeddedPostgres(tmp_path / "pg")
        embedded.start()
        try:
            asyncio.run(migrate(embedded.admin_dsn))
            sessions = asyncio.run(seed(embedded.admin_dsn))
            measure_documents_in_process(embedded.app_dsn, sessions, tmp_path)
        finally:
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
