"""Load and fault helpers shared by the fault tests and `make reliability`."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.support import CREATE_SESSION, GraphClient, new_user


@dataclass
class WriteLoad:
    """What concurrent writers have done so far, and a way to wait until they have done
    something (instead of sleeping on the wall clock)."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> id
    codes: Counter[str] = field(default_factory=Counter)  # errors seen, by code
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until(self, predicate: Callable[[WriteLoad], bool]) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _record(self) -> None:
        async with self._changed:
            self._changed.notify_all()


async def write_until(client: GraphClient, load: WriteLoad, writers: int = 4) -> None:
    """Concurrent writers, each retrying a failed create with the same idempotency key
    (never a duplicate, never a lost write), until `load.stop` is set."""
    user = new_user()

    async def writer(n: int) -> None:
        i = 0
        while not load.stop.is_set():
            key = f"writer-{id(load)}-{n}-{i}"
            reply = await client.execute(
                CREATE_SESSION, {"input": {"title": key, "idempotencyKey": key}}, user=user
            )
            if reply.codes:
                load.codes.update(reply.codes)
                await load._record()
                await asyncio.sleep(0.05)  # back off before retrying the same key
                continue
            load.acknowledged[key] = reply.data["createSession"]["session"]["id"]
            await load._record()
            i += 1

    await asyncio.gather(*(writer(n) for n in range(writers)))


def loopback_socket(port: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def serve(app: Any, sock: socket.socket) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """An ASGI app on a loopback socket, in this event loop, until `stop_serving`."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task


@asynccontextmanager
async def on_loopback(app: Any) -> AsyncIterator[str]:
    """An ASGI app served on a loopback port until the block ends; its base URL."""
    sock = loopback_socket()
    server = await serve(app, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await stop_serving(*server)
        sock.close()


async def stop_serving(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    await task
