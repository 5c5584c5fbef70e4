"""The live check: with SUPABASE_URL, SUPABASE_ANON_KEY and SUPABASE_JWT_SECRET set, every
gateway test also runs against that project (the `supabase` backend in conftest). This
file says plainly whether that happened."""

from __future__ import annotations

import os

import pytest

from graph.backends.pg_graphql import PgGraphqlBackend
from tests.support.stores import LIVE, LIVE_VARIABLES


@pytest.mark.skipif(not LIVE, reason=f"live check not configured: set {', '.join(LIVE_VARIABLES)}")
async def test_the_live_project_answers_graphql() -> None:
    backend = await PgGraphqlBackend.connect(
        os.environ["SUPABASE_URL"], os.environ["SUPABASE_ANON_KEY"]
    )
    try:
        await backend.ping()
    finally:
        await backend.close()
