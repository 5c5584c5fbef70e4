"""GraphQL over HTTP: bearer tokens, error shapes and status codes. The only module
that knows about both HTTP and GraphQL errors.

- A request carrying an invalid token gets HTTP 401 and no GraphQL work at all.
- A request without a token may introspect; its data fields answer UNAUTHENTICATED (401).
- Every error carries `extensions.code` and `extensions.requestId` (also the
  X-Request-ID header and the request's log line); internal details never leave.
- A request refused before execution (parse, validation, variables) has no `data`; with
  `Accept: application/graphql-response+json` it gets that media type and HTTP 400.
- A request may name its document by id (graph/documents/): the id is resolved, or the
  request refused, before anything is parsed; the executor then sees the document's text.
- A POST or GET whose document has a compiled plan (graph/reads/) is answered by one store
  statement (a mutation, POST only: its SQL function and one statement for its payload);
  anything else, and every error, goes through Strawberry's executor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from graph.auth import Claims, TokenVerifier, bearer_token
from graph.backends.base import Backend
from graph.context import RequestContext
from graph.documents.registry import Documents
from graph.errors import (
    INTERNAL_MESSAGE,
    INTERNAL_SERVER_ERROR,
    GraphError,
    PersistedQueryNotFound,
    Unauthenticated,
)
from graph.live.hub import Hub
from graph.observability import Metrics
from graph.reads.plan import Bound, NotAnswerable
from graph.reads.planner import PreparedRead, ReadPlanner
from graph.request_facts import RequestFacts, facts_of
from graph.ws import (
    CONNECTION_INIT_TIMEOUT_S,
    ConnectionWatch,
    TextFrames,
    TransportWSHandler,
    connection_viewer,
)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

logger = logging.getLogger(__name__)


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
    """Hands the operation's name to the request's facts, for the metrics and the log."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            facts_of(context.request.scope).operation = self.execution_context.operation_name


class StreamedErrors(SchemaExtension):
    """A subscription's results (WebSocket, SSE) carry errors shaped as HTTP's do: the
    message for the client, `extensions.code`, nothing internal."""

    def on_stream_result(self, result: Any) -> Iterator[None]:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [client_error(error) for error in errors]
        yield


def client_error(error: GraphQLError) -> GraphQLError:
    """`error` as format_error writes it, for a transport that formats errors itself.
    A failure of a subscription's event source is about no part of the request (no path,
    no node): unless it is a GraphError it is a bug, not bad input."""
    original = error.original_error
    if (
        original is not None
        and not isinstance(original, GraphError | GraphQLError)
        and error.path is None
        and not error.nodes
    ):
        logger.error("a subscription's event source failed", exc_info=original)
        masked = GraphError(INTERNAL_MESSAGE)  # its code: INTERNAL_SERVER_ERROR, formatted again
        return GraphQLError(INTERNAL_MESSAGE, original_error=masked, extensions=masked.extensions())
    formatted = format_error(error)
    return GraphQLError(
        formatted["message"],
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,  # formatting it again gives the same
        extensions=formatted["extensions"],
    )


class ReadTransaction(SchemaExtension):
    """A query's reads share one store transaction: one snapshot, fewer round trips."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            execution.operation_type is OperationType.QUERY
            and isinstance(context, RequestContext)
            and context.viewer is not None
            and context.store_failure is None
        ):
            async with context.backend.read_scope(context.viewer):
                yield
        else:
            yield


@dataclass(frozen=True, slots=True)
class OperationRequest:
    """One operation of a JSON POST or a GET, its document's text resolved."""

    query: str
    operation_name: str | None
    variables: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Fallback:
    """Why a request goes to the executor instead of a compiled read; with the store's
    failure when the compiled read was tried and the store failed as expected."""

    reason: str
    failure: GraphError | None = None


class ParsedBody(bytes):
    """A request body together with its JSON, parsed once by the compiled-read check."""

    parsed: object

    def __new__(cls, raw: bytes, parsed: object) -> ParsedBody:
        body = super().__new__(cls, raw)
        body.parsed = parsed
        return body


class _RequestAdapter(StarletteRequestAdapter):
    """Strawberry's view of the request, handing on a body that is parsed already."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.facts = facts_of(request.scope)

    async def get_body(self) -> bytes:
        body = await super().get_body()
        return ParsedBody(body, self.facts.json_body) if self.facts.body_parsed else body


class GraphQLView(GraphQL[RequestContext, None]):
    request_adapter_class = _RequestAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        *args: Any,
        backend: Backend,
        verifier: TokenVerifier,
        metrics: Metrics,
        ide_html: str,
        request_timeout_s: float = 15.0,
        reads: ReadPlanner | None = None,
        live: Hub | None = None,
        documents: Documents | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL)
        )
        kwargs.setdefault(
            "connection_init_wait_timeout", timedelta(seconds=CONNECTION_INIT_TIMEOUT_S)
        )
        kwargs.setdefault("max_subscriptions_per_connection", None)  # TransportWSHandler's
        super().__init__(*args, **kwargs)
        self._live = live
        self._watches: dict[int, ConnectionWatch] = {}
        self._backend = backend
        self._verifier = verifier
        self._metrics = metrics
        self._ide_html = ide_html
        self._request_timeout_s = request_timeout_s
        self._reads = reads
        self.documents = documents or Documents()

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, ParsedBody):
            return data.parsed
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """GraphiQL for a browser's bare GET, not for a GET naming a document by id."""
        params = request.query_params
        return (
            super().should_render_graphql_ide(request)
            and params.get("documentId") is None
            and params.get("extensions") is None
        )

    async def parse_http_body(
        self, request_adapter: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's reading of the request, with the text of the document it names."""
        data = await super().parse_http_body(request_adapter)
        if isinstance(request_adapter, _RequestAdapter) and isinstance(data, GraphQLRequestData):
            document = request_adapter.facts.document
            if document is not None:
                data.query = document.text
        return data

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if not isinstance(request, Request):
            return await self._run_websocket(request, root_value)
        facts = facts_of(request.scope)
        try:
            token = bearer_token(request.headers.get("authorization"))
            facts.viewer = await self._verifier.verify(token) if token else None
        except Unauthenticated as exc:
            return self._unauthenticated(request, exc.message)
        try:
            async with asyncio.timeout(self._request_timeout_s):
                response = await self._answer(request, facts, context, root_value)
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
        if facts.wants_graphql_response:
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if response.status_code == 200 and facts.request_error:
                response.status_code = 400
        return response

    async def _run_websocket(self, websocket: WebSocket, root_value: Any) -> WebSocket:
        context = await self.get_context(websocket, websocket)
        self._metrics.live_connections.inc()
        try:
            answered = await super().run(websocket, context, root_value)
        finally:
            self._metrics.live_connections.dec()
            watch = self._watches.pop(id(context), None)
            if watch is not None:
                watch.stop()
        if not isinstance(answered, WebSocket):
            raise TypeError("a WebSocket was answered with an HTTP response")
        return answered

    async def on_ws_connect(self, context: RequestContext) -> UnsetType:
        """`connection_init`: the caller, or 4403 (graph/ws.py); a bare connection_ack."""
        try:
            viewer = await connection_viewer(context.connection_params, self._verifier)
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        context.viewer = viewer
        if isinstance(context.request, WebSocket):
            self._watches[id(context)] = ConnectionWatch(context.request, viewer)
        return UnsetType()  # the one UNSET

    async def _answer(
        self, request: Request, facts: RequestFacts, context: Any, root_value: Any
    ) -> Response:
        payload = await _operation_payload(request, facts)
        if payload is not None:
            try:
                facts.document = self.documents.resolve(payload)
            except GraphError as exc:
                return self._document_refused(request, facts, exc)
        if payload is not None and facts.viewer is not None and self._reads is not None:
            compiled = await self._try_compiled(request, facts, facts.viewer, self._reads, payload)
            if isinstance(compiled, Response):
                return compiled
            facts.store_failure = compiled.failure
        response = await super().run(request, context, root_value)
        if not isinstance(response, Response):  # an HTTP request always gets one
            raise TypeError("the executor answered an HTTP request without a response")
        return response

    def _document_refused(
        self, request: Request, facts: RequestFacts, error: GraphError
    ) -> Response:
        """A document that may not run, refused before parsing. An unknown id is a request
        error as a parse error is (HTTP 200, or 400 for application/graphql-response+json);
        bad ids and free text in trusted-only mode are 400."""
        status = 400
        if isinstance(error, PersistedQueryNotFound):
            status = 400 if GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "") else 200
        response = self._refused(request, status, error.message, error.code)
        if GRAPHQL_RESPONSE_JSON in request.headers.get("accept", ""):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        return response

    async def _try_compiled(
        self,
        request: Request,
        facts: RequestFacts,
        viewer: Claims,
        reads: ReadPlanner,
        payload: dict[str, Any],
    ) -> Response | Fallback:
        """The response from one store statement, when the document has a compiled plan
        and its arguments bind; else why not. The executor then answers, and reports
        every error, so errors keep one shape and one source."""
        post = _operation(payload, facts)
        if post is None:
            return Fallback("not one well-formed operation")
        prepared = reads.prepare(post.query, post.operation_name)
        if prepared is None:
            return Fallback("no compiled plan for the document")
        if prepared.plan.write is not None and request.method != "POST":
            return Fallback("a mutation sent with GET")  # the executor answers 405
        bound = prepared.plan.bind(reads.schema, post.variables)
        if bound is None:
            return Fallback("the arguments do not bind")
        data = await self._run_compiled(prepared, viewer, bound)
        if isinstance(data, Fallback):
            return data
        facts.operation = prepared.plan.operation_name
        facts.outcome = self._metrics.observe(
            prepared.plan.operation_name, [], facts.elapsed(), facts.document
        )
        accept = request.headers.get("accept", "")
        return Response(
            b'{"data":' + data + b"}",
            media_type=GRAPHQL_RESPONSE_JSON
            if GRAPHQL_RESPONSE_JSON in accept
            else "application/json",
        )

    async def _run_compiled(
        self, prepared: PreparedRead, viewer: Claims, bound: Bound
    ) -> bytes | Fallback:
        started = time.perf_counter()
        writes = prepared.plan.write is not None
        try:
            return await prepared.run(viewer, bound)
        except NotAnswerable:
            return Fallback("the compiled read cannot answer this request")
        except GraphError as exc:
            # Expected (the store is down, slow, refused the token, a rule refused the
            # write): the executor reports it in its usual shape, from this failure rather
            # than by asking again (a write is never sent twice).
            return Fallback("the store failed", exc)
        except Exception:
            if writes:  # whether it committed is unknown: report it, never write again
                logger.exception("a compiled write failed")
                return Fallback("the compiled write failed", GraphError(INTERNAL_MESSAGE))
            logger.exception("a compiled read failed; executing the query field by field")
            return Fallback("the compiled read failed")
        finally:
            latency = (
                self._metrics.compiled_write_latency
                if writes
                else self._metrics.compiled_read_latency
            )
            latency.observe(time.perf_counter() - started)

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
        facts = facts_of(request.scope)
        extensions: dict[str, Any] = {"code": code}
        if code == "UPSTREAM_UNAVAILABLE":
            extensions["retryable"] = True
        extensions["requestId"] = facts.request_id
        facts.outcome = self._metrics.observe(None, [code], facts.elapsed(), facts.document)
        body: dict[str, Any] = {"errors": [{"message": message, "extensions": extensions}]}
        if executed:
            body = {"data": None, **body}
        return JSONResponse(body, status_code=status)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        if isinstance(request, WebSocket):
            return RequestContext(
                request=request, response=None, backend=self._backend, viewer=None, live=self._live
            )
        if not isinstance(response, Response):
            raise TypeError("an HTTP request without an HTTP response")
        facts = facts_of(request.scope)
        return RequestContext(
            request=request,
            response=response,
            backend=self._backend,
            viewer=facts.viewer,
            store_failure=facts.store_failure,
            live=self._live,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        facts = facts_of(request.scope)
        errors = result.errors or []
        # Parse, validation and variable errors come before execution: the response then has
        # no `data` entry at all (the GraphQL spec, "Response"; GraphQL over HTTP D586/5E5B).
        facts.request_error = result.data is None and any(error.path is None for error in errors)
        body: dict[str, Any] = {} if facts.request_error else {"data": result.data}
        if errors:
            body["errors"] = [format_error(error, facts.request_id) for error in errors]
        facts.outcome = self._metrics.observe(
            facts.operation,
            [error_code(error) for error in errors],
            facts.elapsed(),
            facts.document,
        )
        facts.wants_graphql_response = GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")
        return body  # type: ignore[return-value]


async def _operation_payload(request: Request, facts: RequestFacts) -> dict[str, Any] | None:
    """The request's one operation as sent (a JSON POST's body, a GET's parameters with
    `variables` and `extensions` decoded), else None. A POST body is parsed here once and
    kept in the request's facts, so Strawberry does not parse it again."""
    if request.method == "GET":
        payload: dict[str, Any] = dict(request.query_params)
        for key in ("variables", "extensions"):
            if payload.get(key):
                try:
                    payload[key] = orjson.loads(payload[key])
                except orjson.JSONDecodeError:
                    return None  # Strawberry refuses it
        return payload
    if request.method != "POST":
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        parsed = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    facts.json_body, facts.body_parsed = parsed, True
    return parsed if isinstance(parsed, dict) else None


def _operation(payload: dict[str, Any], facts: RequestFacts) -> OperationRequest | None:
    """The operation with its document's text, when every part is well formed (else
    Strawberry answers 400)."""
    query = facts.document.text if facts.document is not None else payload.get("query")
    name, variables = payload.get("operationName"), payload.get("variables")
    extensions = payload.get("extensions")
    if (
        isinstance(query, str)
        and isinstance(name, str | None)
        and isinstance(variables, dict | None)
        and isinstance(extensions, dict | None)
    ):
        return OperationRequest(query, name, variables)
    return None
