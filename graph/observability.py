"""Health, readiness, metrics and the structured request log.

Metrics live in a registry per app (not the process-global one), so two apps in one
process never share counters. The request log is one JSON line per request: request id,
operation, the document's id when it was named by one, a hash of the user id (never the
id itself, never a token), duration, outcome.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.backends.base import Backend
from graph.request_facts import start_facts

if TYPE_CHECKING:
    from graph.documents.registry import Resolved

request_log = logging.getLogger("graph.requests")

READINESS_TIMEOUT_S = 2.0
REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


MAX_OPERATION_LABELS = 200
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class Metrics:
    def __init__(self) -> None:
        self._operations: set[str] = set()
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._document_children: dict[tuple[str, str], Any] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "graph_requests",
            "GraphQL operations by name and outcome (ok, error).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "graph_request_duration_seconds",
            "GraphQL operation latency.",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.backend_latency = Histogram(
            "graph_backend_call_duration_seconds",
            "Latency of each store call (a transaction, or a pg_graphql request).",
            ["call"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.compiled_read_latency = self.backend_latency.labels(call="compiled_read")
        self.compiled_write_latency = self.backend_latency.labels(call="compiled_write")
        self._call_children: dict[str, Any] = {}
        self.documents = Counter(
            "graph_document_requests",
            "Requests that ran a document named by id: the manifest's by id, APQ's as "
            "`registered` (the label set is the manifest's).",
            ["document", "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "graph_errors",
            "Errors returned to clients, by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.pool_in_use = Gauge(
            "graph_db_pool_in_use",
            "Database connections checked out of the pool (0 on the pg_graphql backend).",
            registry=self.registry,
        )
        self.pool_size = Gauge(
            "graph_db_pool_size",
            "The most connections the pool opens (0 on the pg_graphql backend).",
            registry=self.registry,
        )
        self.ready = Gauge(
            "graph_ready",
            "1 when the last /readyz check found the store answering, else 0.",
            registry=self.registry,
        )
        self.live_connections = Gauge(
            "graph_live_connections",
            "Open WebSocket connections.",
            registry=self.registry,
        )
        self.live_subscriptions = Gauge(
            "graph_live_subscriptions",
            "Live subscriptions (WebSocket and SSE).",
            registry=self.registry,
        )
        self.events_delivered = Counter(
            "graph_live_events_delivered",
            "Session events handed to subscribers.",
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "graph_live_delivery_seconds",
            "From a session's change in the database to its event's delivery.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def operation_label(self, name: str | None) -> str:
        """Clients name operations; keep the label set bounded all the same."""
        if name is None:
            return "anonymous"
        if not _OPERATION_NAME.match(name):
            return "other"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATION_LABELS:
                return "other"
            self._operations.add(name)
        return name

    def observe(
        self,
        operation: str | None,
        codes: list[str],
        seconds: float,
        document: Resolved | None = None,
    ) -> str:
        """Count one GraphQL request; returns its outcome."""
        label = self.operation_label(operation)
        outcome = "error" if codes else "ok"
        key = (label, outcome)
        children = self._children.get(key)
        if children is None:  # labels() costs microseconds; the set is bounded by the labels
            children = self._children[key] = (
                self.requests.labels(operation=label, outcome=outcome),
                self.latency.labels(operation=label),
            )
        children[0].inc()
        children[1].observe(seconds)
        for code in codes:
            self.errors.labels(code=code).inc()
        if document is not None:
            name = document.id if document.source == "manifest" else document.source
            child = self._document_children.get((name, outcome))
            if child is None:  # bounded: the manifest's ids and "registered"
                child = self._document_children[(name, outcome)] = self.documents.labels(
                    document=name, outcome=outcome
                )
            child.inc()
        return outcome

    def observe_delivery(self, seconds: float) -> None:
        self.events_delivered.inc()
        self.delivery_latency.observe(seconds)

    def observe_store_call(self, call: str, seconds: float) -> None:
        child = self._call_children.get(call)
        if child is None:  # the calls are the port's methods: a bounded set
            child = self._call_children[call] = self.backend_latency.labels(call=call)
        child.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@functools.lru_cache(maxsize=4096)
def user_hash(user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    return hashlib.sha256(user_id.bytes).hexdigest()[:16]


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when it is sane), returns it as a
    header, and writes one JSON log line when the response is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        facts = start_facts(scope, request_id)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if request_log.isEnabledFor(logging.INFO) and scope["path"] not in (
                "/healthz",
                "/readyz",
                "/metrics",
            ):
                request_log.info(
                    "%s",
                    orjson.dumps(
                        {
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "operation": facts.operation,
                            "document": facts.document.id if facts.document else None,
                            "user": user_hash(facts.user_id),
                            "outcome": facts.outcome,
                            "duration_ms": round(facts.elapsed() * 1000, 2),
                        }
                    ).decode(),
                )


def health_routes(
    backend: Callable[[], Backend | None], metrics: Metrics
) -> dict[str, Callable[[Request], Awaitable[Response]]]:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        store = backend()
        if store is None:
            metrics.ready.set(0)
            return JSONResponse({"status": "starting"}, status_code=503)
        try:
            await asyncio.wait_for(store.ping(), READINESS_TIMEOUT_S)
        except Exception:
            metrics.ready.set(0)
            request_log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        metrics.ready.set(1)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(_: Request) -> Response:
        store = backend()
        metrics.pool_in_use.set(store.connections_in_use() if store is not None else 0)
        metrics.pool_size.set(store.connection_limit() if store is not None else 0)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_endpoint}
