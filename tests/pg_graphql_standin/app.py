"""The stand-in's HTTP face: Supabase's /graphql/v1 as Kong and PostgREST present it.

- `apikey` must be the project's anon key (Kong's key-auth), else 401.
- `Authorization: Bearer <jwt>` is verified as PostgREST does (signature, exp); a bad
  token is 401 with PostgREST's error body. No Authorization: the request runs as anon.
- Each request runs in one transaction under the token's role and claims, with
  search_path = public, and graphql.resolve's semantics: HTTP 200 for every GraphQL
  outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.pg_graphql_standin.engine import resolve
from tests.pg_graphql_standin.reflect import Schema, reflect

_KNOWN_ROLES = ("anon", "authenticated", "service_role")


@dataclass
class StandinState:
    """What a test can see and steer: the request count, an injected delay, and a gate:
    while `hold` is an Event not yet set, every request waits for it (an upstream that
    does not answer until the test says so)."""

    requests: int = 0
    delay_s: float = 0.0
    hold: asyncio.Event | None = None
    schemas: dict[str, Schema] = field(default_factory=dict)


def _postgrest_error(code: str, message: str, status: int = 401) -> Response:
    return JSONResponse(
        {"code": code, "details": None, "hint": None, "message": message}, status_code=status
    )


def create_standin(
    database_url: str, *, anon_key: str, jwt_secret: str
) -> tuple[Starlette, StandinState]:
    state = StandinState()
    pool_holder: dict[str, asyncpg.Pool] = {}

    async def graphql(request: Request) -> Response:
        if request.headers.get("apikey") != anon_key:
            return JSONResponse({"message": "Invalid API key"}, status_code=401)
        state.requests += 1
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if state.hold is not None:
            await state.hold.wait()
        claims: dict[str, Any] = {"role": "anon"}
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer":
                return _postgrest_error("PGRST301", "Expected Bearer token")
            try:
                claims = jwt.decode(
                    token, jwt_secret, algorithms=["HS256"], options={"verify_aud": False}
                )
            except jwt.ExpiredSignatureError:
                return _postgrest_error("PGRST303", "JWT expired")
            except jwt.PyJWTError:
                return _postgrest_error("PGRST301", "JWSError JWSInvalidSignature")
        role = claims.get("role", "anon")
        if role not in _KNOWN_ROLES:
            return _postgrest_error("PGRST301", f'role "{role}" does not exist', status=401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _postgrest_error("PGRST102", "Empty or invalid json", status=400)
        if not isinstance(body, dict):
            return _postgrest_error("PGRST102", "Empty or invalid json", status=400)

        pool = pool_holder["pool"]
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), "
                "set_config('search_path', 'public', true)",
                role,
                json.dumps(claims),
            )
            schema = state.schemas.get(role)
            if schema is None:
                schema = state.schemas[role] = await reflect(conn)
            result = await resolve(
                schema, conn, body.get("query"), body.get("variables"), body.get("operationName")
            )
        return JSONResponse(result)

    async def not_rpc(_: Request) -> Response:
        return _postgrest_error(
            "PGRST202", "Could not find the function graphql_public.graphql without parameters", 404
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pool_holder["pool"] = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
        try:
            yield
        finally:
            await pool_holder.pop("pool").close()

    app = Starlette(
        routes=[
            Route("/graphql/v1", graphql, methods=["POST"]),
            Route("/graphql/v1", not_rpc, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    return app, state
