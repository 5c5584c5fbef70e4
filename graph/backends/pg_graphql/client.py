"""The one way to Supabase's pg_graphql: gql over aiohttp, with the caller's JWT.

Every request is `POST {SUPABASE_URL}/graphql/v1` with the project's anon key as
`apikey` and the caller's `Authorization: Bearer <JWT>` unchanged, so PostgREST runs it
as the caller and row-level security decides what it sees. gql's aiohttp transport, not
its httpx one: per request it costs a third of the CPU, and under 16 concurrent requests
it answers five times as many (docs/PERFORMANCE.md, `python -m bench.transports`).
Every failure leaves through `_failure`, as the errors a client sees.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import orjson
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportQueryError,
    TransportServerError,
)

from graph.auth import Claims
from graph.errors import (
    BadUserInput,
    Conflict,
    NotFound,
    Unauthenticated,
    UpstreamUnavailable,
    from_rule_message,
)

logger = logging.getLogger("graph.backends.pg_graphql")

_NOT_FOUND = ("violates row-level security policy", "violates foreign key constraint")
_BAD_INPUT = (
    "violates check constraint",
    "violates not-null constraint",
    "invalid input syntax",
    "value too long",
    "out of range",
    "invalid input value",
    "unsupported Unicode escape sequence",  # \u0000 in JSON: jsonb cannot hold it
    "invalid byte sequence",  # a NUL in text
)


class UpstreamProtocolError(Exception):
    """pg_graphql refused what the gateway sent: a bug here, never the caller's fault."""


class Upstream:
    def __init__(
        self, supabase_url: str, anon_key: str, *, timeout_s: float, max_connections: int
    ) -> None:
        self.endpoint = f"{supabase_url.rstrip('/')}/graphql/v1"
        self._client = Client(
            transport=AIOHTTPTransport(
                url=self.endpoint,
                headers={"apikey": anon_key},
                json_serialize=lambda value: orjson.dumps(value).decode(),
                json_deserialize=orjson.loads,
                client_session_args={
                    "timeout": aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 3.0)),
                    "connector": aiohttp.TCPConnector(limit=max_connections),
                },
            ),
            execute_timeout=timeout_s + 1,
        )
        self._session: AsyncClientSession | None = None

    async def open(self) -> None:
        self._session = await self._client.connect_async()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._session is not None:
            await self._client.close_async()  # type: ignore[no-untyped-call]
            self._session = None

    async def execute(
        self, viewer: Claims | None, operation: str, request: GraphQLRequest
    ) -> dict[str, Any]:
        """`request` as the caller; its `data`, or the error a client sees."""
        if self._session is None:
            raise UpstreamUnavailable("the upstream connection is closed")
        headers = {"Authorization": f"Bearer {viewer.token}"} if viewer is not None else {}
        try:
            data: dict[str, Any] = await self._session.execute(
                request, extra_args={"headers": headers}
            )
        except (TransportError, TimeoutError) as exc:
            raise _failure(operation, exc) from exc
        return data


def _failure(operation: str, exc: Exception) -> Exception:
    if isinstance(exc, TransportQueryError):
        return _query_error(operation, exc.errors or [])
    if isinstance(exc, TransportServerError):
        if exc.code == 401:
            return Unauthenticated("the token was refused")
        logger.warning("pg_graphql answered HTTP %s to %s", exc.code, operation)
        return UpstreamUnavailable("the database API is unavailable; retry")
    if isinstance(exc, TransportConnectionFailed | TimeoutError):
        logger.warning("pg_graphql unreachable for %s: %s", operation, exc)
        return UpstreamUnavailable("the database API is unavailable; retry")
    logger.error("pg_graphql protocol failure on %s: %s", operation, exc)
    return UpstreamProtocolError(str(exc))


def _query_error(operation: str, errors: list[Any]) -> Exception:
    messages = [str(e.get("message", "")) if isinstance(e, dict) else str(e) for e in errors]
    for message in messages:
        rule = from_rule_message(message)
        if rule is not None:
            return rule
    message = messages[0] if messages else ""
    if any(marker in message for marker in _NOT_FOUND):
        logger.info("pg_graphql refused as not found on %s: %s", operation, message)
        return NotFound("session not found")
    if "duplicate key value violates unique constraint" in message:
        return Conflict("a concurrent write got there first; read again and retry")
    if any(marker in message for marker in _BAD_INPUT):
        logger.info("pg_graphql refused input on %s: %s", operation, message)
        return BadUserInput("the input breaks a rule of the session record")
    if "statement timeout" in message:
        return UpstreamUnavailable("the database did not answer in time; retry")
    logger.error("pg_graphql rejected %s: %s", operation, json.dumps(messages))
    return UpstreamProtocolError(f"{operation}: {message}")
