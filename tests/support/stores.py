"""The stores the tests run against: the database, the pg_graphql stand-in, and a live
Supabase project when one is configured; and settings for a gateway under test."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from graph.backends.pg_graphql import PgGraphqlBackend
from graph.backends.postgres import PostgresBackend
from graph.config import Settings
from graph.embedded import EmbeddedPostgres
from tests.pg_graphql_standin.app import StandinState
from tests.realtime_standin.app import RealtimeState
from tests.support import TEST_JWT_SECRET

TEST_ANON_KEY = "test-anon-key"

# The port's field-by-field reads: a compiled document makes none of these calls.
FIELD_READS = (
    "sessions_by_id",
    "list_sessions",
    "current_drafts",
    "revisions",
    "drafts",
    "resolutions",
    "session_resolutions",
    "drafts_by_version",
    "session_summaries",
    "viewer_stats",
    "activity",
    "rows_by_id",
)


class SpyBackend:
    """A real backend, counting the calls made to it by the names in `counted`."""

    def __init__(
        self, backend: PostgresBackend | PgGraphqlBackend, counted: Collection[str] = FIELD_READS
    ) -> None:
        self.backend = backend
        self.counted = counted
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        if name in self.counted:
            self.calls += 1
        return getattr(self.backend, name)


@dataclass(frozen=True)
class Database:
    """A migrated database: `admin_dsn` may do anything, `app_dsn` is the gateway's login."""

    admin_dsn: str
    app_dsn: str
    embedded: EmbeddedPostgres | None


@dataclass
class Standin:
    """The pg_graphql stand-in, served over HTTP on loopback for the test run."""

    url: str
    state: StandinState


@dataclass(frozen=True)
class RealtimeStandin:
    """The Realtime stand-in (tests/realtime_standin/), on loopback for the test run."""

    url: str  # Realtime's base, as `<project>/realtime/v1`
    state: RealtimeState


# With a real Supabase project configured, the behavioural suite runs against it as well.
LIVE_VARIABLES = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET")
LIVE = all(os.environ.get(name) for name in LIVE_VARIABLES)
BACKENDS = ["postgres", "pg_graphql", *(["supabase"] if LIVE else [])]


async def connect_backend(
    kind: str, database: Database, standin: Standin, *, pool_size: int = 10
) -> PostgresBackend | PgGraphqlBackend:
    """One of BACKENDS, opened: Postgres directly, pg_graphql through the stand-in, or a
    real Supabase project."""
    if kind == "postgres":
        return await PostgresBackend.connect(database.app_dsn, pool_size=pool_size)
    if kind == "pg_graphql":
        return await PgGraphqlBackend.connect(standin.url, TEST_ANON_KEY)
    return await PgGraphqlBackend.connect(
        os.environ["SUPABASE_URL"], os.environ["SUPABASE_ANON_KEY"]
    )


def settings_for_tests(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "supabase_jwt_secret": TEST_JWT_SECRET,
        "database_url": "postgresql://injected-by-tests",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
