"""Every query and mutation, every argument that takes an id or a cursor: user B aimed at
user A's objects, on each backend. Nothing of A's may show, and nothing of A's may change.

The root fields are read from the schema itself, so a new field without an attack in
tests/isolation.py fails the coverage check below."""

from __future__ import annotations

from graph.schema import build_schema
from tests.support import GraphClient, User
from tests.support.isolation import ATTACKS, attack


def test_every_root_field_has_an_attack() -> None:
    schema = build_schema()._schema
    roots = set(schema.query_type.fields) | set(schema.mutation_type.fields)  # type: ignore[union-attr]
    assert roots == set(ATTACKS)


async def test_user_b_never_reaches_user_a(client: GraphClient, alice: User, bob: User) -> None:
    outcome = await attack(client, alice, bob)
    assert outcome.problems == []
    print(f"isolation: {outcome.attempts} cross-user attempts, 0 leaks, 0 changes")
    assert outcome.attempts >= 60
