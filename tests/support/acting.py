"""Acting as a user in SQL, as PostgREST and pg_graphql do for a JWT: role and claims,
set for the current transaction only."""

from __future__ import annotations

import json
import uuid

import asyncpg


def user_claims(user: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user), "role": "authenticated", "aud": "authenticated"}


async def as_user(conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Role `authenticated` and the user's claims for this transaction (call inside one)."""
    await conn.execute(
        "select set_config('role', 'authenticated', true), "
        "set_config('request.jwt.claims', $1, true)",
        json.dumps(user_claims(user)),
    )


async def create_session_as(dsn: str, user: uuid.UUID) -> uuid.UUID:
    """A session of `user`'s, made through `public.create_session` as that user."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await as_user(conn, user)
            session_id: uuid.UUID = await conn.fetchval("select id from public.create_session('p')")
        return session_id
    finally:
        await conn.close()
