"""GraphQL over HTTP: bearer tokens, error shapes and status codes. The only module
that knows about both HTTP and GraphQL errors.

- A request carrying an invalid token gets HTTP 401 and no GraphQL work at all.
- A request without a token may introspect; its data fields answer UNAUTHENTICATED (401).
- Every error carries `extensions.code`; internal details never leave the process.
- `Accept: application/graphql-response+json` gets that media type, and 400 when the
  request itself was invalid (no data), as the GraphQL-over-HTTP spec says.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graph.auth import TokenVerifier, bearer_token
from graph.backends.base import Backend
from graph.context import RequestContext
from graph.errors import INTERNAL_MESSAGE, INTERNAL_SERVER_ERROR, GraphError, Unauthenticated

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, GraphError):
        message, extensions = original.message, original.extensions()
    elif error.path is None:
        # Parse, validation and variable errors: about the request, written by graphql-core.
        message, extensions = error.message, {"code": "BAD_USER_INPUT"}
    else:
        message, extensions = INTERNAL_MESSAGE, {"code": INTERNAL_SERVER_ERROR}
    formatted: dict[str, Any] = {"message": message, "extensions": extensions}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    return formatted


def unauthenticated_response(message: str) -> Response:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(
        self, *args: Any, backend: Backend, verifier: TokenVerifier, **kwargs: Any
    ) -> None:
        kwargs.setdefault("subscription_protocols", ())
        super().__init__(*args, **kwargs)
        self._backend = backend
        self._verifier = verifier

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if not isinstance(request, Request):
            return await super().run(request, context, root_value)
        try:
            token = bearer_token(request.headers.get("authorization"))
            request.state.viewer = await self._verifier.verify(token) if token else None
        except Unauthenticated as exc:
            return unauthenticated_response(exc.message)
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                # GraphQL over HTTP: a mutation sent with GET is 405, not 400.
                raise HTTPException(405, exc.reason) from exc
            raise
        if isinstance(response, Response) and getattr(
            request.state, "graphql_response_json", False
        ):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if response.status_code == 200 and request.state.request_error:
                response.status_code = 400
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        if not isinstance(request, Request) or not isinstance(response, Response):
            raise TypeError("GraphQL over websockets is not served")
        return RequestContext(
            request=request,
            response=response,
            backend=self._backend,
            viewer=getattr(request.state, "viewer", None),
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(error) for error in result.errors]
        accept = request.headers.get("accept", "")
        request.state.graphql_response_json = GRAPHQL_RESPONSE_JSON in accept
        request.state.request_error = result.data is None and any(
            error.path is None for error in result.errors or []
        )
        return body  # type: ignore[return-value]
