"""session-graph serve | migrate | token | export-schema | documents check."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graph.config import Settings
from graph.logs import configure_logging

SCHEMA_FILE = Path("schema.graphql")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="session-graph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL service")
    serve.add_argument("--host", help="default: GRAPH_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: GRAPH_PORT or 8000")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    migrate = commands.add_parser("migrate", help="apply pending migrations")
    migrate.add_argument(
        "--database-url", help="a role that may create tables; default: the embedded Postgres"
    )

    token = commands.add_parser("token", help="print a signed token for a user (dev and tests)")
    token.add_argument("--user", required=True, type=uuid.UUID, help="the user's uuid (JWT sub)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")

    export = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export.add_argument("--output", type=Path, default=SCHEMA_FILE)

    documents = commands.add_parser("documents", help="trusted documents")
    documents_commands = documents.add_subparsers(dest="documents_command", required=True)
    check = documents_commands.add_parser(
        "check", help="validate a manifest against the schema (a CI step for frontends)"
    )
    check.add_argument("manifest", type=Path, help="{sha256 id: document}, as codegen writes it")

    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"session-graph: bad configuration: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command == "migrate":
        return _migrate(settings, args.database_url)
    if args.command == "token":
        return _token(settings, args.user, args.ttl)
    if args.command == "documents":
        return _check_documents(settings, args.manifest)
    return _export_schema(args.output)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> int:
    import uvicorn  # noqa: PLC0415 - only the serve command needs it

    from graph.app import create_app  # noqa: PLC0415
    from graph.config import ConfigurationError  # noqa: PLC0415
    from graph.documents.manifest import ManifestError  # noqa: PLC0415

    try:
        app = create_app(settings)  # a bad manifest or setting stops here, before serving
    except (ConfigurationError, ManifestError) as exc:
        print(f"session-graph serve: {exc}", file=sys.stderr)
        return 2

    options: dict[str, Any] = {
        "host": host or settings.graph_host,
        "port": port or settings.graph_port,
        "log_level": settings.graph_log_level.lower(),
        "log_config": None,  # keep the handlers configure_logging set up
        "access_log": False,  # graph.requests logs every request, as JSON, with its id
    }
    if workers <= 1:
        uvicorn.run(app, **options)
        return 0
    return _serve_workers(settings, workers, options)


def _serve_workers(settings: Settings, workers: int, options: dict[str, Any]) -> int:
    """Several worker processes: the embedded Postgres, if used, is started (and migrated)
    once here, and the workers connect to it as any Postgres."""
    import uvicorn  # noqa: PLC0415

    from graph.embedded import EmbeddedPostgres  # noqa: PLC0415
    from graph.migrate import migrate  # noqa: PLC0415

    if not settings.uses_embedded_postgres:
        uvicorn.run("graph.asgi:create", factory=True, workers=workers, **options)
        return 0
    keys = settings.token_keys()  # the embedded default's secret, for every worker
    with EmbeddedPostgres(settings.graph_data_dir).running() as embedded:
        asyncio.run(migrate(embedded.admin_dsn))
        os.environ["DATABASE_URL"] = embedded.app_dsn
        if keys.secret is not None and settings.supabase_jwt_secret is None:
            os.environ["SUPABASE_JWT_SECRET"] = keys.secret
        uvicorn.run("graph.asgi:create", factory=True, workers=workers, **options)
    return 0


def _migrate(settings: Settings, database_url: str | None) -> int:
    from graph.embedded import EmbeddedPostgres  # noqa: PLC0415
    from graph.migrate import MigrationError, migrate  # noqa: PLC0415

    url = database_url or settings.database_url
    try:
        if url is not None:
            applied = asyncio.run(migrate(url))
        else:
            with EmbeddedPostgres(settings.graph_data_dir).running() as embedded:
                applied = asyncio.run(migrate(embedded.admin_dsn))
    except MigrationError as exc:
        print(f"session-graph migrate: {exc}", file=sys.stderr)
        return 1
    print("applied: " + ", ".join(applied) if applied else "up to date: nothing to apply")
    return 0


def _token(settings: Settings, user: uuid.UUID, ttl: int) -> int:
    from graph.auth import mint_token  # noqa: PLC0415
    from graph.config import ConfigurationError  # noqa: PLC0415

    if ttl <= 0:
        print("session-graph token: --ttl must be positive", file=sys.stderr)
        return 2
    try:
        keys = settings.token_keys()
    except ConfigurationError as exc:
        print(f"session-graph token: {exc}", file=sys.stderr)
        return 2
    if keys.secret is None:
        print(
            "session-graph token: tokens are verified against a JWKS; sign in through "
            "Supabase Auth to get one",
            file=sys.stderr,
        )
        return 2
    print(mint_token(keys.secret, user, ttl, issuer=keys.issuer))
    return 0


def _export_schema(output: Path) -> int:
    from graph.schema import build_schema  # noqa: PLC0415

    output.write_text(build_schema().as_str() + "\n")
    print(f"wrote {output}")
    return 0


def _check_documents(settings: Settings, manifest: Path) -> int:
    """Every document checked as the server would at startup; exit 1 on any problem."""
    from graph.documents.manifest import ManifestError  # noqa: PLC0415
    from graph.documents.report import check_report  # noqa: PLC0415

    try:
        lines, ok = check_report(manifest, introspection=settings.graph_introspection)
    except ManifestError as exc:
        print(f"session-graph documents check: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if ok else 1
