"""GraphiQL in a real browser: headless Chromium (Debian's, driven by Playwright) against
`session-graph serve`. Load the page, set a dev token, run a query, read the result on the
page, save a screenshot. Runs wherever Chromium is installed (.ci/run installs it)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from graph.graphiql import ASSETS
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, chromium_page
from tests.support.serving import cli_token, free_port, running_service

ASSETS_DIR = Path(os.environ.get("GRAPH_TEST_GRAPHIQL_ASSETS", ".graphiql/node_modules")).resolve()
SHOWS_TEXT = (
    "text => (document.querySelector('.graphiql-response')?.innerText || '').includes(text)"
)

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not all((ASSETS_DIR / path).is_file() for path, _, _ in ASSETS.values()),
        reason="GraphiQL assets missing: run `make graphiql-assets` (needs npm)",
    ),
]


async def test_graphiql_runs_a_query_with_a_dev_token(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright  # noqa: PLC0415

    data_dir = tmp_path / "data"
    user = uuid.uuid4()
    screenshot = tmp_path / "graphiql.png"
    with running_service(data_dir, free_port(), GRAPH_GRAPHIQL_ASSETS=str(ASSETS_DIR)) as url:
        token = cli_token(data_dir, user)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 720})
                await page.goto(url)
                await page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
                await page.fill("#token", token)
                await page.click(".graphiql-execute-button")
                await page.wait_for_function(
                    SHOWS_TEXT,
                    arg=str(user),
                    timeout=30_000,
                )
                result = await page.inner_text(".graphiql-response")
                await page.screenshot(path=str(screenshot))
            finally:
                await browser.close()
    assert '"viewer"' in result
    assert str(user) in result
    assert screenshot.stat().st_size > 10_000
    print(f"GraphiQL screenshot: {screenshot}")


async def test_graphiql_runs_a_subscription(tmp_path: Path) -> None:
    """A subscription typed into GraphiQL runs over WebSocket with the page's token and
    shows the event a write made meanwhile."""
    import httpx  # noqa: PLC0415

    data_dir = tmp_path / "data"
    user = uuid.uuid4()
    subscription = "subscription Live { mySessionEvents { kind version session { title } } }"
    with running_service(data_dir, free_port(), GRAPH_GRAPHIQL_ASSETS=str(ASSETS_DIR)) as url:
        token = cli_token(data_dir, user)
        metrics = url.removesuffix("/graphql") + "/metrics"
        async with (
            chromium_page(viewport={"width": 1280, "height": 720}) as page,
            httpx.AsyncClient(timeout=30) as http,
        ):
            await page.goto(url)
            await page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
            await page.fill("#token", token)
            await page.evaluate(
                "q => document.querySelector('.graphiql-query-editor .CodeMirror')"
                ".CodeMirror.setValue(q)",
                subscription,
            )
            await page.click(".graphiql-execute-button")
            async with asyncio.timeout(30):
                while "graph_live_subscriptions 1.0" not in (await http.get(metrics)).text:  # noqa: ASYNC110 - the server process's state
                    await asyncio.sleep(0.05)
            created = await http.post(
                url,
                json={
                    "query": 'mutation { createSession(input: {title: "from GraphiQL"})'
                    " { session { id } } }"
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 200
            await page.wait_for_function(SHOWS_TEXT, arg="from GraphiQL", timeout=30_000)
            result = await page.inner_text(".graphiql-response")
    assert '"mySessionEvents"' in result
    assert '"CREATED"' in result or '"CHANGED"' in result
