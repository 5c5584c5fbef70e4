"""The least any Python HTTP hop can cost: forwards each POST body unchanged to the
upstream URL with aiohttp and returns the answer's bytes, on uvicorn like the gateway.
No token check, no parsing, no GraphQL. The benchmark measures it next to the gateway to
show how much of the gateway's latency over the stand-in any such hop already costs.

python -m bench.bare_proxy <upstream url> <port> <anon key>
"""

from __future__ import annotations

import sys
from typing import Any

import aiohttp
import uvicorn


class BareProxy:
    def __init__(self, upstream: str, anon_key: str) -> None:
        self.upstream = upstream
        self.anon_key = anon_key
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
        assert self.session is not None
        async with self.session.post(
            self.upstream,
            data=body,
            headers={"Authorization": authorization, "Content-Type": "application/json"},
        ) as response:
            status, content = response.status, await response.read()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = aiohttp.ClientSession(headers={"apikey": self.anon_key})
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    upstream, port, anon_key = sys.argv[1:4]
    uvicorn.run(
        BareProxy(upstream, anon_key),
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
