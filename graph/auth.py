"""Bearer-token verification: a JWT in, the caller's claims out. No web imports here.

HS256 tokens are checked with the shared secret, ES256/RS256 tokens against the keys of
a JWKS URL (fetched once, then cached). Which key checks a token follows from its
header's `alg`, and an HS256 token is never checked with a public key, so algorithm
confusion has nowhere to go.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import jwt
import orjson

from graph.errors import Unauthenticated

AUDIENCE = "authenticated"
ROLE = "authenticated"
MAX_TOKEN_LENGTH = 8192
VERIFIED_CACHE_SIZE = 4096
_ASYMMETRIC = ("ES256", "RS256")


@dataclass(frozen=True, slots=True)
class Claims:
    """A verified caller: the JWT `sub` and the full claims Postgres sees."""

    user_id: uuid.UUID
    raw: dict[str, Any]
    token: str = field(default="", repr=False)  # forwarded unchanged to pg_graphql
    as_json: str = field(init=False, repr=False, compare=False)  # what Postgres is handed

    def __post_init__(self) -> None:
        object.__setattr__(self, "as_json", orjson.dumps(self.raw).decode())


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if secret is None and jwks_url is None:
            raise ValueError("a JWT secret or a JWKS URL is required")
        self._clock = clock  # the one clock `exp` and `nbf` are checked against
        self._secret = secret
        self._jwks = jwt.PyJWKClient(jwks_url, lifespan=600) if jwks_url else None
        self._issuer = issuer
        # Tokens already verified, by their exact text: a client sends the same token for
        # an hour. Bounded; time-based claims are checked again on every hit.
        self._verified: OrderedDict[str, Claims] = OrderedDict()

    async def verify(self, token: str) -> Claims:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("invalid token")
        cached = self._verified.get(token)
        if cached is not None:
            try:
                _check_times(cached.raw, self._clock())
            except Unauthenticated:
                del self._verified[token]
                raise
            self._verified.move_to_end(token)
            return cached
        claims = await self._verify_signature_and_claims(token)
        _check_times(claims.raw, self._clock())
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    async def _verify_signature_and_claims(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        alg = header.get("alg")
        key: Any
        if alg == "HS256" and self._secret is not None:
            key = self._secret
        elif alg in _ASYMMETRIC and self._jwks is not None:
            key = await self._signing_key(token)
        else:
            raise Unauthenticated("invalid token")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=AUDIENCE,
                issuer=self._issuer,
                # exp and nbf are checked by _check_times, against this verifier's clock.
                options={
                    "require": ["exp", "sub", "role", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        return _claims_from(payload, token)

    async def _signing_key(self, token: str) -> Any:
        if self._jwks is None:
            raise Unauthenticated("invalid token")
        try:
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        return signing_key.key


def _check_times(claims: dict[str, Any], now: float) -> None:
    """`exp` (required) and `nbf` (optional) against `now`, as RFC 7519 says: expired at
    `exp`, valid from `nbf`; no leeway."""
    expires, not_before = claims.get("exp"), claims.get("nbf", 0)
    if not (_is_number(expires) and _is_number(not_before)):
        raise Unauthenticated("invalid token")
    if expires <= now:
        raise Unauthenticated("token expired")
    if not_before > now:
        raise Unauthenticated("token not yet valid")


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _claims_from(payload: dict[str, Any], token: str) -> Claims:
    if payload.get("role") != ROLE:
        raise Unauthenticated("token role must be authenticated")
    subject = payload.get("sub")
    try:
        user_id = uuid.UUID(subject) if isinstance(subject, str) else None
    except ValueError:
        user_id = None
    if user_id is None:
        raise Unauthenticated("token subject must be a user id (uuid)")
    return Claims(user_id=user_id, raw=payload, token=token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def mint_token(secret: str, user_id: uuid.UUID, ttl_seconds: int, issuer: str | None = None) -> str:
    """An HS256 token such as Supabase Auth issues to a signed-in user."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": ROLE,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
