"""What one HTTP request has learned about itself, in one typed object.

The request middleware makes it (the request id, the start time); the GraphQL view and a
schema extension fill in the caller, the operation and the outcome; the request log line
reads it when the response is done. It lives in the ASGI scope, so every layer that sees
the scope reaches the same object.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.auth import Claims
from graph.errors import GraphError

if TYPE_CHECKING:
    from graph.documents.registry import Resolved

_SCOPE_KEY = "session_graph.request"


@dataclass(slots=True)
class RequestFacts:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    viewer: Claims | None = None
    operation: str | None = None
    document: Resolved | None = None  # the document the request named by id, or trusted text
    outcome: str | None = None  # "ok" or "error", once the request is counted
    # A compiled read's expected store failure: the executor reports it in its own shape,
    # without asking the store again.
    store_failure: GraphError | None = None
    json_body: Any = None  # the POST body as parsed by the compiled-read check
    body_parsed: bool = False
    wants_graphql_response: bool = False  # Accept: application/graphql-response+json
    request_error: bool = False  # refused before execution: no `data` at all

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.viewer.user_id if self.viewer is not None else None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def facts_of(scope: MutableMapping[str, Any]) -> RequestFacts:
    """The request's facts; made on first use (an app served without the middleware)."""
    facts = scope.get(_SCOPE_KEY)
    if not isinstance(facts, RequestFacts):
        facts = scope[_SCOPE_KEY] = RequestFacts(request_id=uuid.uuid4().hex)
    return facts


def start_facts(scope: MutableMapping[str, Any], request_id: str) -> RequestFacts:
    facts = scope[_SCOPE_KEY] = RequestFacts(request_id=request_id)
    return facts
