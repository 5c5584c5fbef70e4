"""Hostile tokens at the HTTP door: every one is 401 UNAUTHENTICATED and the store is
never called."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from graph.app import create_app
from graph.backends.base import Backend
from tests.support import TEST_JWT_SECRET, GraphClient, claims_for
from tests.support.stores import settings_for_tests

ISSUER = "https://project.supabase.co/auth/v1"
USER = uuid.uuid4()


class CountingBackend:
    """The real backend, counting every call made to it."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        self.calls += 1
        return getattr(self.backend, name)


def _claims(**overrides: Any) -> dict[str, Any]:
    return claims_for(USER, **{"iss": ISSUER, **overrides})


def _signed(**overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), TEST_JWT_SECRET, algorithm="HS256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned() -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(_claims()).encode())}."


ATTACKS = {
    "alg none": _unsigned(),
    "expired": _signed(exp=int(time.time()) - 30),
    "not yet valid": _signed(nbf=int(time.time()) + 600),
    "wrong audience": _signed(aud="anon"),
    "no audience": _signed(aud=None),
    "wrong issuer": _signed(iss="https://evil.example/auth/v1"),
    "no sub": _signed(sub=None),
    "sub not a uuid": _signed(sub="github:123"),
    "role anon": _signed(role="anon"),
    "role service_role": _signed(role="service_role"),
    "no role": _signed(role=None),
    "signed with another secret": jwt.encode(_claims(), "x" * 48, algorithm="HS256"),
    "RS256 without a JWKS": "eyJhbGciOiJSUzI1NiJ9."
    + _b64(json.dumps(_claims()).encode())
    + ".c2ln",
    "garbage": "not.a.jwt",
    "oversized": "a" * 9000,
}


@pytest.fixture
async def guarded(backend: Backend) -> AsyncIterator[tuple[GraphClient, CountingBackend]]:
    counting = CountingBackend(backend)
    app = create_app(settings_for_tests(supabase_jwt_issuer=ISSUER), backend=counting)  # type: ignore[arg-type]
    counting.calls = 0  # the wiring asks the store for its change source: no store work
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        yield GraphClient(http), counting


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
async def test_hostile_tokens_are_401_with_no_store_work(
    guarded: tuple[GraphClient, CountingBackend], attack: str
) -> None:
    client, counting = guarded
    for query in (
        "{ viewer { id } sessions { totalCount } }",
        'mutation { createSession(input: {prompt: "x"}) { session { id } } }',
    ):
        reply = await client.execute(query, token=ATTACKS[attack])
        assert reply.status == 401, (attack, reply.body)
        assert reply.codes == ["UNAUTHENTICATED"]
        assert reply.data is None
    assert counting.calls == 0


async def test_the_issuer_pinned_token_passes(guarded: tuple[GraphClient, CountingBackend]) -> None:
    client, counting = guarded
    reply = await client.execute("{ viewer { id } sessions { totalCount } }", token=_signed())
    assert reply.ok() == {"viewer": {"id": str(USER)}, "sessions": {"totalCount": 0}}
    assert counting.calls > 0
