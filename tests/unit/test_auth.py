"""Token verification: what passes, and that everything else is UNAUTHENTICATED."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from graph.auth import TokenVerifier, bearer_token
from graph.errors import Unauthenticated
from tests.support import TEST_JWT_SECRET, claims_for, token_for

USER = uuid.uuid4()


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(secret=TEST_JWT_SECRET)


async def test_a_supabase_style_token_gives_its_claims(verifier: TokenVerifier) -> None:
    claims = await verifier.verify(token_for(USER, email="a@example.com"))
    assert claims.user_id == USER
    assert claims.raw["email"] == "a@example.com"
    assert json.loads(claims.as_json)["sub"] == str(USER)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"nbf": int(time.time()) + 600}, "not yet valid"),
        ({"aud": "somebody-else"}, "wrong audience"),
        ({"aud": None}, "no audience"),
        ({"role": "anon"}, "anon role"),
        ({"role": "service_role"}, "service role"),
        ({"role": None}, "no role"),
        ({"sub": "github:123"}, "sub not a uuid"),
        ({"sub": None}, "no sub"),
        ({"exp": None}, "no expiry"),
    ],
)
async def test_tokens_that_do_not_qualify_are_refused(
    verifier: TokenVerifier, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(token_for(USER, **overrides))


async def test_a_token_signed_with_another_secret_is_refused(verifier: TokenVerifier) -> None:
    forged = jwt.encode(
        {
            "sub": str(USER),
            "role": "authenticated",
            "aud": "authenticated",
            "exp": time.time() + 60,
        },
        "another-secret-of-enough-length-0123456789",
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated):
        await verifier.verify(forged)


async def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    unsigned = jwt.encode(
        {
            "sub": str(USER),
            "role": "authenticated",
            "aud": "authenticated",
            "exp": time.time() + 60,
        },
        None,
        algorithm="none",
    )
    with pytest.raises(Unauthenticated):
        await verifier.verify(unsigned)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 10_000])
async def test_garbage_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(garbage)


def test_issuer_is_checked_when_configured() -> None:
    strict = TokenVerifier(secret=TEST_JWT_SECRET, issuer="https://example.supabase.co/auth/v1")

    with pytest.raises(Unauthenticated):
        asyncio.run(strict.verify(token_for(USER, iss="https://evil.example")))
    claims = asyncio.run(strict.verify(token_for(USER, iss="https://example.supabase.co/auth/v1")))
    assert claims.user_id == USER


def test_bearer_header_forms() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    for bad in ("Basic abc", "Bearer", "Bearer   ", "abc"):
        with pytest.raises(Unauthenticated):
            bearer_token(bad)


# ES256 tokens against a JWKS served on loopback, as Supabase's asymmetric keys are.

_PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(_PRIVATE_KEY.public_key()))
    public_jwk.update(kid="key-1", alg="ES256", use="sig")
    body = json.dumps({"keys": [public_jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/auth/v1/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def _claims() -> dict[str, Any]:
    return claims_for(USER)


async def test_es256_tokens_verify_against_the_jwks(jwks_url: str) -> None:
    verifier = TokenVerifier(jwks_url=jwks_url)
    token = jwt.encode(_claims(), _PRIVATE_KEY, algorithm="ES256", headers={"kid": "key-1"})
    assert (await verifier.verify(token)).user_id == USER


async def test_hs256_signed_with_the_public_key_is_refused(jwks_url: str) -> None:
    """Algorithm confusion: the public key used as an HMAC secret."""
    verifier = TokenVerifier(jwks_url=jwks_url)
    public_pem = _PRIVATE_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "key-1"}
    import base64  # noqa: PLC0415
    import hashlib  # noqa: PLC0415
    import hmac  # noqa: PLC0415

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{signing_input}.{b64(signature)}")


async def test_an_unknown_key_id_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier(jwks_url=jwks_url)
    other = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), other, algorithm="ES256", headers={"kid": "key-2"})
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


async def test_a_cached_token_is_refused_once_it_expires() -> None:
    clock = Clock()
    verifier = TokenVerifier(secret=TEST_JWT_SECRET, clock=clock)
    short = token_for(USER, exp=int(clock.now) + 60)
    assert (await verifier.verify(short)).user_id == USER
    clock.now += 59
    assert (await verifier.verify(short)).user_id == USER  # from the cache
    assert short in verifier._verified
    clock.now += 1  # at `exp` exactly: expired
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(short)
    assert short not in verifier._verified
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(short)  # verified afresh: still expired


async def test_a_token_becomes_valid_at_nbf_by_the_verifiers_clock() -> None:
    clock = Clock()
    verifier = TokenVerifier(secret=TEST_JWT_SECRET, clock=clock)
    early = token_for(USER, nbf=int(clock.now) + 30, exp=int(clock.now) + 600)
    with pytest.raises(Unauthenticated, match="not yet valid"):
        await verifier.verify(early)
    clock.now += 30
    assert (await verifier.verify(early)).user_id == USER


@pytest.mark.parametrize("claim", ["exp", "nbf"])
@pytest.mark.parametrize("value", ["tomorrow", True, None, [1]])
async def test_time_claims_that_are_not_numbers_are_refused(
    verifier: TokenVerifier, claim: str, value: object
) -> None:
    token = jwt.encode({**claims_for(USER), claim: value}, TEST_JWT_SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_the_verified_token_cache_is_bounded(verifier: TokenVerifier) -> None:
    from graph.auth import VERIFIED_CACHE_SIZE  # noqa: PLC0415

    for _ in range(VERIFIED_CACHE_SIZE + 10):
        await verifier.verify(token_for(uuid.uuid4()))
    assert len(verifier._verified) == VERIFIED_CACHE_SIZE
