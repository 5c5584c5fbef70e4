"""The composition root: settings in, an ASGI app out. Nothing here runs at import.

The store opens in the app's lifespan; the GraphQL view and the read planner are built
then, around the store that opened (`Gateway.serving`), so nothing holds a store that is
not there yet. Until then /graphql answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from graph.auth import TokenVerifier
from graph.backends.base import Backend
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.backends.postgres import PostgresBackend
from graph.backends.timed import TimedBackend
from graph.config import ConfigurationError, Settings
from graph.documents.manifest import (
    DocumentCheck,
    ManifestError,
    check_manifest,
    first_problem,
    read_manifest,
)
from graph.documents.registry import Documents
from graph.graphiql import ASSET_ROUTE, GraphiQLAssets, graphiql_page
from graph.http import GraphQLView, OperationName, ReadTransaction, StreamedErrors
from graph.limits import BodyLimitMiddleware, Limits, validation_rules
from graph.live.changes import ChangeSource
from graph.live.hub import Hub
from graph.migrate import migrate
from graph.observability import Metrics, RequestContextMiddleware, health_routes
from graph.reads.planner import ReadPlanner
from graph.schema import build_schema

logger = logging.getLogger(__name__)


def build_verifier(settings: Settings) -> TokenVerifier:
    keys = settings.token_keys()
    return TokenVerifier(secret=keys.secret, jwks_url=keys.jwks_url, issuer=keys.issuer)


@asynccontextmanager
async def open_backend(settings: Settings) -> AsyncIterator[Backend]:
    """The store the settings name: pg_graphql, `DATABASE_URL`, or the embedded Postgres."""
    if settings.backend == "pg_graphql":
        if settings.supabase_url is None or settings.supabase_anon_key is None:
            raise RuntimeError("the pg_graphql backend needs SUPABASE_URL and SUPABASE_ANON_KEY")
        upstream = await PgGraphqlBackend.connect(
            settings.supabase_url,
            settings.supabase_anon_key.get_secret_value(),
            timeout_s=settings.graph_upstream_timeout_s,
        )
        async with _closing(upstream):
            yield upstream
        return

    if settings.database_url is not None:
        async with _postgres(settings.database_url, settings) as backend:
            yield backend
        return

    from graph.embedded import EmbeddedPostgres  # noqa: PLC0415 - the [embedded] extra

    embedded = EmbeddedPostgres(settings.graph_data_dir)
    started_here = await asyncio.to_thread(embedded.start)
    try:
        applied = await migrate(embedded.admin_dsn)
        if applied:
            logger.info("embedded Postgres migrated: %s", ", ".join(applied))
        async with _postgres(embedded.app_dsn, settings) as backend:
            yield backend
    finally:
        if started_here:
            await asyncio.to_thread(embedded.stop)


@asynccontextmanager
async def _postgres(dsn: str, settings: Settings) -> AsyncIterator[Backend]:
    backend = await PostgresBackend.connect(
        dsn,
        pool_size=settings.graph_db_pool_size,
        statement_timeout_ms=settings.graph_statement_timeout_ms,
    )
    async with _closing(backend):
        yield backend


@asynccontextmanager
async def _closing(backend: Backend) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await backend.close()


@dataclass(frozen=True, slots=True)
class Serving:
    """What the app serves with once its store is open."""

    store: Backend
    view: GraphQLView
    live: Hub | None  # where the store announces changes: subscriptions' fan-out
    changes: ChangeSource | None  # the store's process-wide feed of them, if it has one


def trusted_documents(
    settings: Settings, schema: strawberry.Schema, limits: Limits
) -> list[DocumentCheck]:
    """GRAPH_TRUSTED_DOCUMENTS, every document checked against the schema; ManifestError
    names the first that would fail, so a bad manifest never starts serving."""
    path = settings.graph_trusted_documents
    if path is None:
        if settings.graph_trusted_documents_only:
            raise ConfigurationError(
                "GRAPH_TRUSTED_DOCUMENTS_ONLY needs GRAPH_TRUSTED_DOCUMENTS, the manifest to run"
            )
        return []
    checks = check_manifest(
        schema._schema,
        read_manifest(path),
        rules=validation_rules(limits, introspection=settings.graph_introspection),
        max_tokens=limits.max_tokens,
    )
    problem = first_problem(checks)
    if problem is not None:
        raise ManifestError(f"{path}: {problem}")
    logger.info("trusted documents: %d from %s", len(checks), path)
    return checks


class Gateway:
    """The parts made at startup, and the ones made once the store is open."""

    def __init__(self, settings: Settings, schema: strawberry.Schema, limits: Limits) -> None:
        self.settings = settings
        self.schema = schema
        self.limits = limits
        self.metrics = Metrics()
        self.verifier = build_verifier(settings)
        self.assets = (
            GraphiQLAssets(settings.graph_graphiql_assets)
            if settings.graph_graphiql_assets
            else None
        )
        if self.assets is not None and not self.assets.available():
            raise RuntimeError(
                f"GRAPH_GRAPHIQL_ASSETS has no GraphiQL build: {self.assets.node_modules}"
            )
        self.trusted = trusted_documents(settings, schema, limits)
        self.documents = Documents(
            [check.document for check in self.trusted],
            trusted_only=settings.graph_trusted_documents_only,
            introspection=settings.graph_introspection,
            max_tokens=limits.max_tokens,
        )
        self.serving: Serving | None = None

    def serve_with(self, backend: Backend) -> Serving:
        store = TimedBackend(backend, self.metrics.observe_store_call)
        source = store.change_source()
        live = (
            Hub(on_delivery=self.metrics.observe_delivery, follow=source.follow)
            if source is not None
            else None
        )
        changes = source.run if source is not None else None
        if live is not None:
            self.metrics.live_subscriptions.set_function(live.subscriptions)
        reads = (
            ReadPlanner(
                self.schema._schema,
                rules=validation_rules(self.limits),
                max_tokens=self.limits.max_tokens,
                compile_read=store.compile_read,
            )
            if self.settings.graph_compiled_reads
            else None
        )
        if reads is not None:
            for check in self.trusted:  # planned now, so their first request is as fast
                reads.pin(check.document.text, check.operation_name)
        view = GraphQLView(
            self.schema,
            reads=reads,
            backend=store,
            verifier=self.verifier,
            metrics=self.metrics,
            request_timeout_s=self.limits.request_timeout_s,
            ide_html=graphiql_page(local_assets=self.assets is not None),
            live=live,
            documents=self.documents,
            allowed_origins=self.settings.cors_origins,
        )
        self.serving = Serving(store, view, live, changes)
        return self.serving

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """The store's change source feeds the hub while the app serves."""
        serving = self.serving
        if serving is None or serving.live is None or serving.changes is None:
            yield
            return
        task = asyncio.create_task(serving.changes(serving.live), name="session changes")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def store(self) -> Backend | None:
        return self.serving.store if self.serving is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """/graphql, as an ASGI app: the view, once the store is open."""
        if self.serving is None and scope["type"] == "websocket":
            await WebSocket(scope, receive, send).close(1013, "starting")  # try again later
            return
        if self.serving is None:
            response = JSONResponse(
                {"errors": [{"message": "starting", "extensions": {"code": "UNAVAILABLE"}}]},
                status_code=503,
            )
            await response(scope, receive, send)
            return
        await self.serving.view(scope, receive, send)


def create_app(settings: Settings, backend: Backend | None = None) -> Starlette:
    """The gateway. Pass `backend` to use a store the caller manages (tests do)."""
    limits = Limits(request_timeout_s=settings.graph_request_timeout_s)
    schema = build_schema(
        introspection=settings.graph_introspection,
        limits=limits,
        extra_extensions=[OperationName, ReadTransaction, StreamedErrors],
    )
    gateway = Gateway(settings, schema, limits)
    if backend is not None:
        gateway.serve_with(backend)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if backend is not None:
            async with gateway.listening():
                yield
            return
        async with open_backend(settings) as opened:
            gateway.serve_with(opened)
            async with gateway.listening():
                yield
            gateway.serving = None

    async def root(_: Request) -> Response:
        return RedirectResponse("/graphql")

    health = health_routes(gateway.store, gateway.metrics)
    assets = gateway.assets
    return Starlette(
        routes=[
            Route("/", root),
            Route("/graphql", gateway, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gateway),
            *(Route(path, endpoint, methods=["GET"]) for path, endpoint in health.items()),
            *([Route(ASSET_ROUTE, assets.serve, methods=["GET"])] if assets is not None else []),
        ],
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(BodyLimitMiddleware, max_body_bytes=limits.max_body_bytes),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
