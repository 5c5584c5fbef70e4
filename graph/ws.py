"""GraphQL over WebSocket (`graphql-transport-ws`): who the connection is, and how long.

The token comes in `connection_init`'s payload as `{"Authorization": "Bearer <JWT>"}`
and is checked as an HTTP request's is (same verifier, same refusals); a connection
without a valid one is closed with 4403 before any subscription. The connection lives
until its token expires, then it is closed with 4403 (a client reconnects with a fresh
one), and the server pings it now and then so proxies keep it open and dead peers show.
A `subscribe` may name its document by id as an HTTP request may (graph/documents/).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from graph.auth import Claims, TokenVerifier, bearer_token
from graph.documents.registry import Documents
from graph.errors import GraphError, Unauthenticated

logger = logging.getLogger(__name__)

TOKEN_EXPIRED = 4403  # graphql-transport-ws: Forbidden
CONNECTION_INIT_TIMEOUT_S = 10.0
PING_INTERVAL_S = 15.0
SUBSCRIPTIONS_PER_CONNECTION = 20


class TextFrames(ASGIWebSocketAdapter):
    """Messages as text frames: graphql-transport-ws is a text protocol (graphql-ws, the
    client, reads a binary frame as no message at all)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """Strawberry's handler, running the document a subscription names by id, and refusing
    one past the connection's limit or one the documents refuse with an error shaped like
    every other (a message and `extensions.code`)."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # closes the socket: 4401
            return
        if len(self.operations) >= SUBSCRIPTIONS_PER_CONNECTION:
            await self._refuse(
                message,
                f"at most {SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection; "
                "complete one first",
                "BAD_USER_INPUT",
            )
            return
        documents = getattr(self.view, "documents", None)
        payload = message.get("payload")
        if isinstance(documents, Documents) and isinstance(payload, dict):
            try:
                document = documents.resolve(payload)
            except GraphError as exc:
                await self._refuse(message, exc.message, exc.code)
                return
            if document is not None:
                message["payload"] = {**payload, "query": document.text}
        await super().handle_subscribe(message)

    async def _refuse(self, message: SubscribeMessage, text: str, code: str) -> None:
        await self.send_message(
            {
                "id": message["id"],
                "type": "error",
                "payload": [{"message": text, "extensions": {"code": code}}],
            }
        )


async def connection_viewer(params: Mapping[str, object] | None, verifier: TokenVerifier) -> Claims:
    """The caller of `connection_init`'s payload; Unauthenticated without a valid token."""
    header = None
    for key, value in (params or {}).items():
        if key.lower() == "authorization":
            header = value
    if not isinstance(header, str):
        raise Unauthenticated("connection_init must carry {'Authorization': 'Bearer <token>'}")
    token = bearer_token(header)
    if not token:
        raise Unauthenticated("connection_init must carry {'Authorization': 'Bearer <token>'}")
    return await verifier.verify(token)


class ConnectionWatch:
    """Closes the socket when the viewer's token expires; pings it meanwhile."""

    def __init__(self, websocket: WebSocket, viewer: Claims) -> None:
        self._websocket = websocket
        self._task = asyncio.create_task(self._watch(viewer))

    async def _watch(self, viewer: Claims) -> None:
        expires = viewer.raw.get("exp")
        deadline = float(expires) if isinstance(expires, int | float) else None
        try:
            while True:
                left = None if deadline is None else deadline - time.time()
                if left is not None and left <= 0:
                    await self._websocket.close(TOKEN_EXPIRED, "token expired")
                    return
                await asyncio.sleep(PING_INTERVAL_S if left is None else min(left, PING_INTERVAL_S))
                if left is None or left > PING_INTERVAL_S:
                    if self._websocket.application_state is not WebSocketState.CONNECTED:
                        return
                    await self._websocket.send_json({"type": "ping"})
        except Exception:
            logger.debug("connection watch ended", exc_info=True)

    def stop(self) -> None:
        self._task.cancel()
