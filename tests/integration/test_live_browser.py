"""A session screen that stays current, in a real browser: headless Chromium (Debian's,
driven by Playwright) loads a frontend's page from its own origin (listed in
GRAPH_CORS_ORIGINS) that subscribes with the npm graphql-ws client (its browser build, the
browser's own WebSocket); a second client resolves a hole over HTTP; the page shows the
session's new version. A page from an origin not listed cannot open the socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from tests.support import discount_ir, new_user
from tests.support.browser import CHROMIUM, chromium_page
from tests.support.examples import example_operation
from tests.support.faults import on_loopback
from tests.support.live import CLIENTS, LiveGateway, live_gateway
from tests.support.stores import Database

GRAPHQL_WS_BROWSER = CLIENTS / "node_modules" / "graphql-ws" / "umd" / "graphql-ws.min.js"

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not GRAPHQL_WS_BROWSER.is_file(),
        reason="tests/js is not installed: run `npm ci --prefix tests/js` (make test does)",
    ),
]


@asynccontextmanager
async def frontend(page_html: list[str]) -> AsyncIterator[str]:
    """A frontend's origin on loopback: its page (the last of `page_html`, written once the
    gateway is up) and the graphql-ws browser build."""

    async def page(_: Request) -> Response:
        return HTMLResponse(page_html[-1])

    async def client(_: Request) -> Response:
        return FileResponse(GRAPHQL_WS_BROWSER, media_type="text/javascript")

    app = Starlette(routes=[Route("/", page), Route("/graphql-ws.min.js", client)])
    async with on_loopback(app) as origin:
        yield origin


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>session screen</title></head>
<body>
  <p>version <span id="version">none</span> <span id="status"></span></p>
  <script src="/graphql-ws.min.js"></script>
  <script>
    const client = graphqlWs.createClient({
      url: GATEWAY,
      connectionParams: { Authorization: "Bearer " + TOKEN },
    });
    client.subscribe({ query: QUERY, variables: { id: SESSION } }, {
      next: (result) => {
        const event = result.data.sessionEvents;
        document.getElementById("version").textContent = String(event.session.version);
        document.getElementById("status").textContent = event.session.status;
      },
      error: (error) => {
        document.getElementById("status").textContent = "error " + JSON.stringify(error);
      },
      complete: () => {},
    });
  </script>
</body></html>
"""


async def test_a_page_shows_the_new_version_when_another_client_resolves_a_hole(
    database: Database, tmp_path: Path
) -> None:
    alice = new_user()
    page_html: list[str] = []
    async with (
        frontend(page_html) as origin,
        live_gateway(database, graph_cors_origins=origin) as gateway,
    ):
        created = (
            await gateway.client.execute(
                example_operation("CreateSession"),
                {"input": {"title": "screen", "initialDraft": {"ir": discount_ir()}}},
                user=alice,
            )
        ).ok()["createSession"]["session"]
        page_html.append(_page(gateway, alice.token, created["id"]))
        async with chromium_page() as page:
            before = await gateway.subscriptions()
            await page.goto(origin)
            await gateway.until_subscriptions(lambda n: n > before)
            resolved = (
                await gateway.client.execute(
                    example_operation("ResolveHole"),
                    {
                        "input": {
                            "sessionId": created["id"],
                            "holeId": "return_type",
                            "text": "float",
                            "type": "REFINE_SIGNATURE",
                        }
                    },
                    user=alice,
                )
            ).ok()["resolveHole"]["session"]
            await page.wait_for_function(
                "v => document.getElementById('version').textContent === v",
                arg=str(resolved["version"]),
                timeout=30_000,
            )
            status = await page.inner_text("#status")
            await page.screenshot(path=str(tmp_path / "screen.png"))
    assert resolved["version"] > created["version"]
    assert status == "ACTIVE"


async def test_a_page_from_an_origin_not_listed_cannot_open_the_socket(
    database: Database,
) -> None:
    alice = new_user()
    page_html: list[str] = []
    async with (
        frontend(page_html) as _origin,
        live_gateway(database, graph_cors_origins="https://app.example") as gateway,
    ):
        created = (
            await gateway.client.execute(
                example_operation("CreateSession"), {"input": {"title": "x"}}, user=alice
            )
        ).ok()["createSession"]["session"]
        page_html.append(_page(gateway, alice.token, created["id"]))
        async with chromium_page() as page:
            await page.goto(_origin)
            await page.wait_for_function(
                "() => document.getElementById('status').textContent.startsWith('error')",
                timeout=30_000,
            )
            assert await gateway.subscriptions() == 0
            assert await page.inner_text("#version") == "none"


def _page(gateway: LiveGateway, token: str, session_id: str) -> str:
    return (
        _PAGE.replace("GATEWAY", json.dumps(gateway.ws_url))
        .replace("TOKEN", json.dumps(token))
        .replace("QUERY", json.dumps(example_operation("SessionLive")))
        .replace("SESSION", json.dumps(session_id))
    )
