"""Settings: the only module that reads the environment.

Field names are the environment variables, lower-cased, so the README's table and this
class say the same thing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """The settings cannot work together; the message says what to set."""


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """What verifies callers' tokens: an HS256 secret, a JWKS URL, or both."""

    secret: str | None
    jwks_url: str | None
    issuer: str | None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str | None = Field(
        default=None,
        description="Postgres the gateway connects to. Unset: the embedded Postgres.",
    )
    graph_data_dir: Path = Field(
        default=Path(".session-graph"),
        description="Where the embedded Postgres and its generated JWT secret live.",
    )
    supabase_jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret that signs callers' JWTs."
    )
    supabase_jwks_url: str | None = Field(
        default=None, description="JWKS URL for ES256/RS256 tokens (cached)."
    )
    supabase_jwt_issuer: str | None = Field(
        default=None, description="When set, tokens must carry this `iss`."
    )
    supabase_url: str | None = Field(
        default=None, description="Supabase project URL; set, it selects the pg_graphql backend."
    )
    supabase_anon_key: SecretStr | None = Field(
        default=None, description="The project's anon (publishable) key, sent as `apikey`."
    )
    graph_backend: Literal["postgres", "pg_graphql"] | None = Field(
        default=None, description="Which store: default pg_graphql when SUPABASE_URL is set."
    )
    graph_upstream_timeout_s: float = Field(default=10.0, gt=0, le=120)
    graph_request_timeout_s: float = Field(default=15.0, gt=0, le=300)
    graph_host: str = "127.0.0.1"
    graph_port: int = Field(default=8000, ge=1, le=65535)
    graph_introspection: bool = True
    graph_compiled_reads: bool = Field(
        default=True,
        description="Answer plannable queries with one store statement (off: field by field).",
    )
    graph_db_pool_size: int = Field(default=10, ge=1, le=200)
    graph_statement_timeout_ms: int = Field(default=5000, ge=100)
    graph_log_level: str = "INFO"
    graph_log_format: Literal["json", "text"] = "json"
    graph_graphiql_assets: Path | None = Field(
        default=None, description="A node_modules folder with GraphiQL and React to serve locally."
    )
    graph_trusted_documents: Path | None = Field(
        default=None,
        description="A manifest {sha256 id: document} (codegen's persisted-documents.json).",
    )
    graph_trusted_documents_only: bool = Field(
        default=False,
        description="Run only the manifest's documents: free text and APQ registration refused.",
    )
    graph_cors_origins: str = Field(
        default="", description="Comma-separated browser origins allowed by CORS; none by default."
    )

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.graph_cors_origins.split(",") if o.strip()]

    @field_validator(
        "database_url",
        "supabase_jwt_secret",
        "supabase_jwks_url",
        "supabase_jwt_issuer",
        "supabase_url",
        "supabase_anon_key",
        "graph_backend",
        "graph_graphiql_assets",
        "graph_trusted_documents",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def backend(self) -> Literal["postgres", "pg_graphql"]:
        if self.graph_backend is not None:
            return self.graph_backend
        return "pg_graphql" if self.supabase_url else "postgres"

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.backend == "postgres" and self.database_url is None

    def token_keys(self) -> TokenKeys:
        """The keys callers' tokens are checked with. The embedded default has a secret of
        its own, made once in its data directory; every other setup names its keys."""
        secret = self.supabase_jwt_secret.get_secret_value() if self.supabase_jwt_secret else None
        if secret is None and self.supabase_jwks_url is None:
            if not self.uses_embedded_postgres:
                raise ConfigurationError(
                    "set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL to verify callers' tokens"
                )
            secret = _dev_secret(self.graph_data_dir)
        return TokenKeys(
            secret=secret, jwks_url=self.supabase_jwks_url, issuer=self.supabase_jwt_issuer
        )


def _dev_secret(data_dir: Path) -> str:
    """The embedded default's HS256 secret, generated once and kept in the data dir."""
    path = data_dir.expanduser() / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (a worker, `token`) wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
