from __future__ import annotations

import json
import re
from pathlib import Path

from graph.backends.base import MAX_PAGE_SIZE
from graph.migrate import migrations_dir
from graph.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_the_exported_sdl() -> None:
    """Fails when the schema drifts from the committed file: run `make export-schema`."""
    assert SCHEMA_FILE.read_text() == build_schema().as_str() + "\n"


def test_the_contracts_names_are_in_the_schema() -> None:
    sdl = build_schema().as_str()
    for name in (
        "viewer: Viewer!",
        "session(id: ID!): Session",
        "createSession(input: CreateSessionInput!): CreateSessionPayload!",
        "resolveHole(input: ResolveHoleInput!): ResolveHolePayload!",
        "finalizeSession(input: SessionVersionInput!): SessionPayload!",
        "deleteSession(input: DeleteSessionInput!): DeleteSessionPayload!",
        "unresolvedHoles: [String!]!",
    ):
        assert name in sdl


def test_pg_graphqls_max_rows_is_the_page_size() -> None:
    """The two places the page size lives: the port's constant, pg_graphql's directive."""
    directives = (migrations_dir() / "0006_pg_graphql_directives.sql").read_text()
    schema = re.search(r"comment on schema public is e'@graphql\((.+)\)'", directives)
    assert schema is not None
    assert json.loads(schema.group(1))["max_rows"] == MAX_PAGE_SIZE
