"""Test helpers: tokens, a GraphQL client over ASGI, and a realistic IR."""

from __future__ import annotations

import copy
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from graphql import StringValueNode, parse, print_ast
from graphql.language import ArgumentNode, ObjectFieldNode, Visitor, visit

from graph.auth import mint_token

# Tests mint their own tokens. Against a real project (see conftest.LIVE) they must be
# signed with that project's JWT secret, so it takes precedence when set.
TEST_JWT_SECRET = (
    os.environ.get("SUPABASE_JWT_SECRET") or "test-secret-for-session-graph-tests-only-0123456789"
)


def claims_for(user_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """Claims like Supabase Auth's; `overrides` replace or (None) drop claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": "authenticated",
        "aud": "authenticated",
        "iat": now,
        "exp": now + 600,
    }
    for key, value in overrides.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def token_for(user_id: uuid.UUID, **overrides: Any) -> str:
    """A token like Supabase Auth issues, signed with the test secret."""
    if not overrides:
        return mint_token(TEST_JWT_SECRET, user_id, 600)
    return jwt.encode(claims_for(user_id, **overrides), TEST_JWT_SECRET, algorithm="HS256")


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.body.get("errors") or []
        return errors

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def ok(self) -> Any:
        assert self.status == 200, (self.status, self.body)
        assert not self.errors, self.errors
        return self.data


@dataclass
class User:
    id: uuid.UUID
    token: str


def new_user() -> User:
    user_id = uuid.uuid4()
    return User(id=user_id, token=token_for(user_id))


@asynccontextmanager
async def asgi_http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of `app`, in process (no socket, no lifespan)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        yield http


class GraphClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: User | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        bearer = token if token is not None else (user.token if user else None)
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        return Reply(response.status_code, response.json(), response.headers)


# The draft lift-sys's translator produced for the calculate_discount prompt (domain.md).
DISCOUNT_IR: dict[str, Any] = {
    "intent": {
        "summary": "Create a calculate_discount function that takes float price and rate",
        "rationale": None,
        "holes": [],
    },
    "signature": {
        "name": "calculate_discount",
        "parameters": [
            {"name": "price", "type_hint": "float", "description": None},
            {"name": "rate", "type_hint": "float", "description": None},
        ],
        "returns": None,
        "holes": [
            {
                "identifier": "return_type",
                "type_hint": "type",
                "description": "Specify return type",
                "constraints": {},
                "kind": "signature",
            }
        ],
    },
    "effects": [{"description": "Logs the discount", "holes": []}],
    "assertions": [
        {
            "predicate": "Specify constraints on numeric inputs (e.g., positive, range)",
            "rationale": None,
            "holes": [
                {
                    "identifier": "input_constraints",
                    "type_hint": "assertion",
                    "description": "Specify constraints on numeric inputs (e.g., positive, range)",
                    "constraints": {},
                    "kind": "assertion",
                }
            ],
        }
    ],
    "metadata": {"source_path": None, "language": "python", "origin": "prompt", "evidence": []},
}


def discount_ir(holes: list[str] | None = None) -> dict[str, Any]:
    """The example IR, with its assertion holes replaced by `holes` when given."""
    ir = copy.deepcopy(DISCOUNT_IR)
    if holes is not None:
        ir["signature"]["holes"] = []
        ir["assertions"][0]["holes"] = [
            {
                "identifier": name,
                "type_hint": "assertion",
                "description": f"Specify {name}",
                "constraints": {},
                "kind": "assertion",
            }
            for name in holes
        ]
    return ir


SESSION_FIELDS = """
  id status source title metadata version createdAt updatedAt finalizedAt
  unresolvedHoles
  currentDraft { id version ir validationStatus smtResults ambiguities metadata }
"""

CREATE_SESSION = f"""
mutation Create($input: CreateSessionInput!) {{
  createSession(input: $input) {{ session {{ {SESSION_FIELDS} }} }}
}}"""

RESOLVE_HOLE = """
mutation Resolve($input: ResolveHoleInput!) {
  resolveHole(input: $input) {
    resolution { id holeId text type applied metadata }
    revision { id number type content targetHole }
    session { id version unresolvedHoles }
  }
}"""

ADD_DRAFT = """
mutation AddDraft($input: AddDraftInput!) {
  addDraft(input: $input) {
    draft { id version ambiguities validationStatus }
    session { id version unresolvedHoles currentDraft { version } }
  }
}"""

ADD_REVISION = """
mutation AddRevision($input: AddRevisionInput!) {
  addRevision(input: $input) {
    revision { id number type content targetHole metadata }
    session { id version }
  }
}"""

FINALIZE = """
mutation Finalize($input: SessionVersionInput!) {
  finalizeSession(input: $input) { session { id status version finalizedAt } }
}"""

ABANDON = """
mutation Abandon($input: SessionVersionInput!) {
  abandonSession(input: $input) { session { id status version finalizedAt } }
}"""

DELETE = """
mutation Delete($input: DeleteSessionInput!) { deleteSession(input: $input) { deletedId } }
"""

GET_SESSION = f"""
query Get($id: ID!) {{
  session(id: $id) {{
    {SESSION_FIELDS}
    revisions {{ totalCount edges {{ cursor node {{ number type content targetHole }} }} }}
    drafts {{ totalCount edges {{ node {{ version ambiguities }} }} }}
    resolutions {{ totalCount edges {{ node {{ holeId text type applied }} }} }}
  }}
}}"""


async def create_session(
    client: GraphClient, user: User, *, holes: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """A session with an INITIAL revision and draft 1 (holes from discount_ir)."""
    draft_input: dict[str, Any] = {"ir": discount_ir(holes), "validationStatus": "INCOMPLETE"}
    payload: dict[str, Any] = {"prompt": "Create a calculate_discount function", **fields}
    payload.setdefault("initialDraft", draft_input)
    reply = await client.execute(CREATE_SESSION, {"input": payload}, user=user)
    session: dict[str, Any] = reply.ok()["createSession"]["session"]
    return session


def aim_ids(document: str, target: str) -> str:
    """Point every `id` / `sessionId` argument of a generated document at `target`."""

    class Aim(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
            if node.name.value in ("id", "sessionId"):
                return ArgumentNode(name=node.name, value=StringValueNode(value=target))
            return None

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> Any:
            if node.name.value in ("id", "sessionId"):
                return ObjectFieldNode(name=node.name, value=StringValueNode(value=target))
            return None

    return print_ast(visit(parse(document), Aim()))
