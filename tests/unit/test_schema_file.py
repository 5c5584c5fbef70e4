from __future__ import annotations

from pathlib import Path

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
