"""GraphQL over HTTP: bearer tokens, error shapes and status codes. The only module
that knows about both HTTP and GraphQL errors.

- A request carrying an invalid token gets HTTP 401 and no GraphQL work at all.
- A request without a token may introspect; its data fields answer UNAUTHENTICATED (401).
- Every error carries `extensions.code` and `extensions.requestId` (also the
  X-Request-ID header and the request's log line); internal details never leave.
- `Accept: application/graphql-response+json` gets that media type, and 400 when the
  request itself was invalid (no data), as the GraphQL-over-HTTP spec says.
- A JSON POST whose document has a compiled plan (graph/reads/) is answered by one store
  statement; anything else, and every error, goes through Strawberry's executor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from graph.auth import Claims, TokenVerifier, bearer_token
from graph.backends.base import Backend
from graph.backends.failed import FailedStore
from graph.context import RequestContext
from graph.errors import INTERNAL_MESSAGE, INTERNAL_SERVER_ERROR, GraphError, Unauthenticated
from graph.observability import Metrics
from graph.reads.planner import ReadPlanner

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

logger = logging.getLogger(__name__)

# The request body parsed for a compiled read, kept for Strawberry when the request goes to
# the executor after all (Starlette hands both the same bytes object), so it is parsed once.
_parsed_body: ContextVar[tuple[bytes, object] | None] = ContextVar(
    "session_graph_parsed_body", default=None
)


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, GraphError):
        return original.code
    if error.path is None:  # parse, validation and variable errors: about the request
        return "BAD_USER_INPUT"
    return INTERNAL_SERVER_ERROR


def format_error(error: GraphQLError, request_id: str | None = None) -> dict[str, Any]:
    original = error.original_error
    code = error_code(error)
    if isinstance(original, GraphError):
        message, extensions = original.message, original.extensions()
    elif code == "BAD_USER_INPUT":
        message, extensions = error.message, {"code": code}
    else:
        message, extensions = INTERNAL_MESSAGE, {"code": code}
    if request_id is not None:
        extensions["requestId"] = request_id
    formatted: dict[str, Any] = {"message": message, "extensions": extensions}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    return formatted


class OperationName(SchemaExtension):
    """Hands the operation's name to the view, for the metrics and the request log."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            context.request.state.operation = self.execution_context.operation_name


class ReadTransaction(SchemaExtension):
    """A query's reads share one store transaction: one snapshot, fewer round trips."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            execution.operation_type is OperationType.QUERY
            and isinstance(context, RequestContext)
            and context.viewer is not None
        ):
            async with context.backend.read_scope(context.viewer):
                yield
        else:
            yield


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(
        self,
        *args: Any,
        backend: Backend,
        verifier: TokenVerifier,
        metrics: Metrics,
        ide_html: str,
        request_timeout_s: float = 15.0,
        reads: ReadPlanner | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("subscription_protocols", ())
        super().__init__(*args, **kwargs)
        self._backend = backend
        self._verifier = verifier
        self._metrics = metrics
        self._ide_html = ide_html
        self._request_timeout_s = request_timeout_s
        self._reads = reads

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        parsed = _parsed_body.get()
        if parsed is not None and parsed[0] is data:  # _json_post read this body already
            return parsed[1]
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if not isinstance(request, Request):
            return await super().run(request, context, root_value)
        try:
            token = bearer_token(request.headers.get("authorization"))
            viewer = await self._verifier.verify(token) if token else None
        except Unauthenticated as exc:
            return self._unauthenticated(request, exc.message)
        request.state.viewer = viewer
        request.state.user_id = viewer.user_id if viewer else None
        try:
            async with asyncio.timeout(self._request_timeout_s):
                compiled = await self._compiled_read(request, viewer) if viewer else None
                response = compiled or await super().run(request, context, root_value)
        except HTTPException as exc:
            status = exc.status_code
            if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                status = 405  # GraphQL over HTTP: a mutation sent with GET is 405, not 400
            return self._refused(request, status, exc.reason, "BAD_USER_INPUT")
        except TimeoutError:
            return self._refused(
                request,
                503,
                f"the request took longer than {self._request_timeout_s:g} s; retry",
                "UPSTREAM_UNAVAILABLE",
                executed=True,
            )
        if isinstance(response, Response) and getattr(
            request.state, "graphql_response_json", False
        ):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if response.status_code == 200 and request.state.request_error:
                response.status_code = 400
        return response

    async def _compiled_read(self, request: Request, viewer: Claims) -> Response | None:
        """The response from one store statement when the document has a compiled plan
        and its arguments bind; None sends the request to the executor instead, which
        also reports every error (so errors keep one shape and one source)."""
        post = await _json_post(request) if self._reads is not None else None
        if post is None or self._reads is None:
            return None
        query, name, variables = post
        prepared = self._reads.prepare(query, name)
        bound = prepared.plan.bind(self._reads.schema, variables) if prepared else None
        if prepared is None or bound is None:
            return None
        started = time.perf_counter()
        try:
            data = await prepared.run(viewer, bound)
        except GraphError as exc:
            # Expected (the store is down, slow, refused the token): the executor reports
            # it in its usual shape, from this failure rather than by asking again.
            request.state.store_failure = exc
            return None
        except Exception:
            logger.exception("a compiled read failed; executing the query field by field")
            return None
        finally:
            self._metrics.compiled_read_latency.observe(time.perf_counter() - started)
        request.state.operation = prepared.plan.operation_name
        request.state.outcome = self._metrics.observe(
            prepared.plan.operation_name, [], self._elapsed(request)
        )
        accept = request.headers.get("accept", "")
        return Response(
            b'{"data":' + data + b"}",
            media_type=GRAPHQL_RESPONSE_JSON
            if GRAPHQL_RESPONSE_JSON in accept
            else "application/json",
        )

    def _unauthenticated(self, request: Request, message: str) -> Response:
        response = self._refused(request, 401, message, "UNAUTHENTICATED")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response

    def _refused(
        self, request: Request, status: int, message: str, code: str, *, executed: bool = False
    ) -> Response:
        """A request refused before (or instead of) execution, as a GraphQL error: without a
        `data` entry when execution never began (the GraphQL spec, "Response"), with
        `"data": null` when it began and was cut short."""
        request_id = getattr(request.state, "request_id", None)
        extensions: dict[str, Any] = {"code": code}
        if code == "UPSTREAM_UNAVAILABLE":
            extensions["retryable"] = True
        if request_id is not None:
            extensions["requestId"] = request_id
        request.state.outcome = self._metrics.observe(None, [code], self._elapsed(request))
        body: dict[str, Any] = {"errors": [{"message": message, "extensions": extensions}]}
        if executed:
            body = {"data": None, **body}
        return JSONResponse(body, status_code=status)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        if not isinstance(request, Request) or not isinstance(response, Response):
            raise TypeError("GraphQL over websockets is not served")
        failure = getattr(request.state, "store_failure", None)
        return RequestContext(
            request=request,
            response=response,
            backend=FailedStore(failure) if failure else self._backend,
            viewer=getattr(request.state, "viewer", None),
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request_id = getattr(request.state, "request_id", None)
        errors = result.errors or []
        # Parse, validation and variable errors come before execution: the response then has
        # no `data` entry at all (the GraphQL spec, "Response"; GraphQL over HTTP D586/5E5B).
        request_error = result.data is None and any(error.path is None for error in errors)
        body: dict[str, Any] = {} if request_error else {"data": result.data}
        if errors:
            body["errors"] = [format_error(error, request_id) for error in errors]
        request.state.outcome = self._metrics.observe(
            getattr(request.state, "operation", None),
            [error_code(error) for error in errors],
            self._elapsed(request),
        )
        request.state.graphql_response_json = GRAPHQL_RESPONSE_JSON in request.headers.get(
            "accept", ""
        )
        request.state.request_error = request_error
        return body  # type: ignore[return-value]

    @staticmethod
    def _elapsed(request: Request) -> float:
        started = getattr(request.state, "started", None)
        return time.perf_counter() - started if started is not None else 0.0


async def _json_post(request: Request) -> tuple[str, str | None, dict[str, Any] | None] | None:
    """(query, operationName, variables) of a well-formed JSON POST, else None."""
    if request.method != "POST":
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    body = await request.body()
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    _parsed_body.set((body, payload))
    if not isinstance(payload, dict):
        return None
    query, name, variables, extensions = (
        payload.get("query"),
        payload.get("operationName"),
        payload.get("variables"),
        payload.get("extensions"),
    )
    if (
        isinstance(query, str)
        and isinstance(name, str | None)
        and isinstance(variables, dict | None)
        and isinstance(extensions, dict | None)  # else Strawberry answers 400
    ):
        return query, name, variables
    return None
