"""A strict stand-in for Supabase Realtime's WebSocket, for the tests only: the Phoenix
channel protocol (vsn 1.0.0, JSON frames `{topic, event, payload, ref, join_ref}`) as
supabase-py's `realtime` client speaks it, at `/realtime/v1/websocket?apikey=...`.

- `apikey` must be the project's anon key, else the handshake is refused (403).
- `phoenix`/`heartbeat` is answered `ok`; anything else on `phoenix` is an error reply.
- `phx_join` on `realtime:<name>` with `config.private` true needs an `access_token`
  (verified: HS256 with the project's secret, `exp`), and is authorized as Realtime does:
  with `realtime.topic()` set to `<name>`, under the token's role and claims, a message on
  that topic must be readable through the RLS policies of realtime.messages (a probe row,
  rolled back). Refused: an error reply with Realtime's reason. Public joins are allowed
  but receive no private broadcast.
- `access_token` on a joined channel re-verifies and re-authorizes; an expired or refused
  token closes the channel (`phx_close`). When the socket's token expires the stand-in
  closes the socket, as Realtime disconnects such clients.
- What `realtime.send` broadcasts (migrations/0012's compat form notifies
  `realtime_broadcast`) goes to every joined private channel of its topic, as
  `{"event": "broadcast", "payload": {"type": "broadcast", "event", "payload"}}`.
- Unknown events, malformed frames and frames for channels not joined get an error reply
  (or, unparseable, close the socket with 1003).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CHANNEL = "realtime_broadcast"
UNAUTHORIZED = "Unauthorized: You do not have permissions to read from this Channel topic: {}"


@dataclass
class RealtimeState:
    """What a test can see: joins accepted and refused, and the open sockets."""

    joins: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    sockets: set[_Socket] = field(default_factory=set)
    down: bool = False  # while set, every handshake is refused (Realtime unreachable)

    async def drop_all(self) -> None:
        """Every socket closed from the server's side (Realtime restarting)."""
        for socket in list(self.sockets):
            await socket.close(1012, "service restart")


@dataclass(eq=False)
class _Socket:
    websocket: WebSocket
    channels: dict[str, bool] = field(default_factory=dict)  # topic name -> private
    expires: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def expires_at(self, claims: dict[str, Any]) -> None:
        exp = claims.get("exp")
        if isinstance(exp, int | float):
            self.expires = float(exp) if self.expires is None else min(self.expires, float(exp))

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            with contextlib.suppress(Exception):
                await self.websocket.send_text(json.dumps(message))

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)


class _Realtime:
    def __init__(self, admin_dsn: str, anon_key: str, jwt_secret: str) -> None:
        self.state = RealtimeState()
        self._admin_dsn = admin_dsn
        self._anon_key = anon_key
        self._secret = jwt_secret
        self._pool: asyncpg.Pool | None = None

    def claims_of(self, token: object) -> dict[str, Any] | None:
        if not isinstance(token, str):
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.PyJWTError:
            return None
        return claims

    async def may_read(self, claims: dict[str, Any], topic: str) -> bool:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            return await may_read(conn, claims, topic)

    async def join(self, socket: _Socket, message: dict[str, Any]) -> None:
        topic = str(message["topic"])
        payload = message.get("payload")
        config = payload.get("config") if isinstance(payload, dict) else None
        if not topic.startswith("realtime:") or not isinstance(config, dict):
            await socket.send(_reply(message, "error", {"reason": "malformed join"}))
            return
        assert isinstance(payload, dict)
        name = topic.removeprefix("realtime:")
        private = config.get("private") is True
        if private:
            claims = self.claims_of(payload.get("access_token"))
            if claims is None or not await self.may_read(claims, name):
                self.state.refused.append(name)
                await socket.send(_reply(message, "error", {"reason": UNAUTHORIZED.format(name)}))
                return
            socket.expires_at(claims)
        socket.channels[name] = private
        self.state.joins.append(name)
        await socket.send(_reply(message, "ok", {"postgres_changes": []}))

    async def refresh(self, socket: _Socket, message: dict[str, Any]) -> None:
        name = str(message["topic"]).removeprefix("realtime:")
        payload = message.get("payload")
        claims = self.claims_of(payload.get("access_token") if isinstance(payload, dict) else None)
        if claims is None or (socket.channels.get(name) and not await self.may_read(claims, name)):
            socket.channels.pop(name, None)
            await socket.send(
                {"topic": message["topic"], "event": "phx_close", "payload": {}, "ref": None}
            )
            return
        socket.expires = None
        socket.expires_at(claims)

    async def handle(self, socket: _Socket, message: dict[str, Any]) -> None:
        topic, event = message.get("topic"), message.get("event")
        if topic == "phoenix":
            await socket.send(_reply(message, "ok" if event == "heartbeat" else "error", {}))
            return
        name = str(topic).removeprefix("realtime:")
        if event == "phx_join":
            await self.join(socket, message)
        elif event == "phx_leave" and name in socket.channels:
            del socket.channels[name]
            await socket.send(_reply(message, "ok", {}))
        elif event == "access_token" and name in socket.channels:
            await self.refresh(socket, message)
        else:
            await socket.send(_reply(message, "error", {"reason": f"unknown event {event!r}"}))

    async def endpoint(self, websocket: WebSocket) -> None:
        if self.state.down or websocket.query_params.get("apikey") != self._anon_key:
            await websocket.close(1008)  # before accept: the handshake is refused (403)
            return
        await websocket.accept()
        socket = _Socket(websocket)
        self.state.sockets.add(socket)
        watcher = asyncio.create_task(_close_at_expiry(socket))
        try:
            while True:
                text = await websocket.receive_text()
                try:
                    message = json.loads(text)
                    if not isinstance(message, dict) or "topic" not in message:
                        raise ValueError(text)
                except ValueError:
                    await socket.close(1003, "malformed frame")
                    return
                await self.handle(socket, message)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            watcher.cancel()
            self.state.sockets.discard(socket)

    def broadcast(self, text: str) -> None:
        message = json.loads(text)
        name, private = message["topic"], message.get("private", True)
        inner = {"type": "broadcast", "event": message["event"], "payload": message["payload"]}
        frame = {"topic": f"realtime:{name}", "event": "broadcast", "payload": inner, "ref": None}
        for socket in list(self.state.sockets):
            joined_privately = socket.channels.get(name)
            if joined_privately is None or (private and not joined_privately):
                continue  # not joined, or a private message on a public join
            asyncio.get_running_loop().create_task(socket.send(frame))

    @asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self._pool = await asyncpg.create_pool(self._admin_dsn, min_size=1, max_size=4)
        listener = await asyncpg.connect(self._admin_dsn)
        await listener.add_listener(CHANNEL, lambda _c, _p, _ch, text: self.broadcast(text))
        try:
            yield
        finally:
            await listener.close()
            await self._pool.close()


async def may_read(
    conn: asyncpg.Connection, claims: dict[str, Any], topic: str, extension: str = "broadcast"
) -> bool:
    """Realtime's check of a private join: is a message on `topic` readable under the
    joiner's role and claims, with realtime.topic() set? A probe row written on `conn`
    (an admin's), read as the joiner, rolled back (a savepoint when `conn` is inside a
    transaction already)."""
    tx = conn.transaction()
    await tx.start()
    try:
        probe = await conn.fetchval(
            "insert into realtime.messages (topic, extension, private)"
            " values ($1, $2, true) returning id",
            topic,
            extension,
        )
        await conn.execute(
            "select set_config('role', $1, true), set_config('request.jwt.claims', $2,"
            " true), set_config('realtime.topic', $3, true)",
            str(claims.get("role", "anon")),
            json.dumps(claims),
            topic,
        )
        seen = await conn.fetchval("select count(*) from realtime.messages where id = $1", probe)
        return bool(seen == 1)
    except asyncpg.PostgresError:
        return False
    finally:
        await tx.rollback()


def _reply(message: dict[str, Any], status: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "topic": message.get("topic"),
        "event": "phx_reply",
        "payload": {"status": status, "response": response},
        "ref": message.get("ref"),
        "join_ref": message.get("join_ref"),
    }


async def _close_at_expiry(socket: _Socket) -> None:
    while True:
        await asyncio.sleep(0.05)
        if socket.expires is not None and socket.expires <= time.time():
            await socket.close(4000, "token has expired")
            return


def create_realtime_standin(
    admin_dsn: str, *, anon_key: str, jwt_secret: str
) -> tuple[Starlette, RealtimeState]:
    realtime = _Realtime(admin_dsn, anon_key, jwt_secret)
    app = Starlette(
        routes=[WebSocketRoute("/realtime/v1/websocket", realtime.endpoint)],
        lifespan=realtime.lifespan,
    )
    return app, realtime.state
