"""The composition root: settings in, an ASGI app out. Nothing here runs at import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from graph.auth import TokenVerifier
from graph.backends.base import Backend
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.backends.postgres import PostgresBackend
from graph.config import Settings
from graph.embedded import EmbeddedPostgres, load_or_create_dev_secret
from graph.graphiql import ASSET_ROUTE, GraphiQLAssets, graphiql_page
from graph.http import GraphQLView, OperationName, ReadTransaction
from graph.limits import BodyLimitMiddleware, Limits, validation_rules
from graph.migrate import migrate
from graph.observability import (
    InstrumentedBackend,
    Metrics,
    RequestContextMiddleware,
    health_routes,
)
from graph.reads.plan import ReadPlan
from graph.reads.planner import CompiledReader, ReadPlanner
from graph.schema import build_schema
from graph.schema.arguments import ARGUMENT_READERS

logger = logging.getLogger(__name__)


def build_verifier(settings: Settings) -> TokenVerifier:
    secret = (
        settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
    )
    if secret is None and settings.supabase_jwks_url is None:
        if not settings.uses_embedded_postgres:
            raise RuntimeError(
                "set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL to verify callers' tokens"
            )
        secret = load_or_create_dev_secret(settings.graph_data_dir)
    return TokenVerifier(
        secret=secret, jwks_url=settings.supabase_jwks_url, issuer=settings.supabase_jwt_issuer
    )


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


class _LateBackend:
    """Lets the view be built before the lifespan has opened the store."""

    def __init__(self) -> None:
        self.backend: Backend | None = None

    def __getattr__(self, name: str) -> object:
        if self.backend is None:
            raise RuntimeError("the backend is not open yet")
        return getattr(self.backend, name)

    def compile_read(self, plan: ReadPlan) -> CompiledReader | None:
        if self.backend is None:
            raise RuntimeError("the backend is not open yet")
        return self.backend.compile_read(plan)


def create_app(settings: Settings, backend: Backend | None = None) -> Starlette:
    """The gateway. Pass `backend` to use a store the caller manages (tests do)."""
    metrics = Metrics()
    limits = Limits(request_timeout_s=settings.graph_request_timeout_s)
    late = _LateBackend()
    if backend is not None:
        late.backend = InstrumentedBackend(backend, metrics)
    assets = (
        GraphiQLAssets(settings.graph_graphiql_assets) if settings.graph_graphiql_assets else None
    )
    if assets is not None and not assets.available():
        raise RuntimeError(f"GRAPH_GRAPHIQL_ASSETS has no GraphiQL build: {assets.node_modules}")
    schema = build_schema(
        introspection=settings.graph_introspection,
        limits=limits,
        extra_extensions=[OperationName, ReadTransaction],
    )
    reads = (
        ReadPlanner(
            schema._schema,
            rules=validation_rules(limits),
            max_tokens=limits.max_tokens,
            readers=ARGUMENT_READERS,
            compile_read=late.compile_read,
        )
        if settings.graph_compiled_reads
        else None
    )
    view = GraphQLView(
        schema,
        reads=reads,
        backend=late,  # type: ignore[arg-type]
        verifier=build_verifier(settings),
        metrics=metrics,
        request_timeout_s=limits.request_timeout_s,
        ide_html=graphiql_page(local_assets=assets is not None),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if backend is not None:
            yield
            return
        async with open_backend(settings) as opened:
            late.backend = InstrumentedBackend(opened, metrics)
            yield
            late.backend = None

    async def root(_: Request) -> Response:
        return RedirectResponse("/graphql")

    health = health_routes(lambda: late.backend, metrics)
    return Starlette(
        routes=[
            Route("/", root),
            Route("/graphql", view, methods=["GET", "POST"]),
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
