"""GraphiQL for a browser's GET /graphql, with a field for the bearer token.

The page loads GraphiQL 3, React 18 and their CSS from unpkg (pinned, with subresource
integrity), or, when GRAPH_GRAPHIQL_ASSETS names a node_modules folder holding them
(`make graphiql-assets`), from this server: the way to use it with no internet access.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

ASSET_ROUTE = "/graphiql/assets/{name}"

# name -> (path under node_modules, unpkg URL, subresource integrity)
ASSETS: dict[str, tuple[str, str, str]] = {
    "react.js": (
        "react/umd/react.production.min.js",
        "https://unpkg.com/react@18.2.0/umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    "react-dom.js": (
        "react-dom/umd/react-dom.production.min.js",
        "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    "graphiql.js": (
        "graphiql/graphiql.min.js",
        "https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    "graphql-ws.js": (
        "graphql-ws/umd/graphql-ws.min.js",
        "https://unpkg.com/graphql-ws@6.4.2/umd/graphql-ws.min.js",
        "sha384-mxvR4Mzbsb6QVx/9xI2gtQikQA6m8zMDBFnu3l//4/ROsWt7y2sUGWd+/tYQqDm7",
    ),
    "graphiql.css": (
        "graphiql/graphiql.min.css",
        "https://unpkg.com/graphiql@3.8.3/graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>session-graph · GraphiQL</title>
  <link rel="stylesheet" href="{graphiql_css}"{graphiql_css_sri}>
  <style>
    body {{ margin: 0; height: 100vh; display: flex; flex-direction: column;
           font-family: system-ui, sans-serif; }}
    #auth {{ display: flex; gap: .5rem; align-items: center; padding: .4rem .8rem;
            border-bottom: 1px solid #ddd; font-size: 14px; }}
    #auth input {{ flex: 1; font-family: monospace; padding: .25rem; }}
    #graphiql {{ flex: 1; min-height: 0; }}
  </style>
</head>
<body>
  <form id="auth" onsubmit="return false">
    <label for="token">Authorization: Bearer</label>
    <input id="token" name="token" autocomplete="off"
           placeholder="a token from: session-graph token --user &lt;uuid&gt;">
  </form>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{react_js}"{react_js_sri}></script>
  <script src="{react_dom_js}"{react_dom_js_sri}></script>
  <script src="{graphiql_js}"{graphiql_js_sri}></script>
  <script src="{graphql_ws_js}"{graphql_ws_js_sri}></script>
  <script>
    const tokenInput = document.getElementById("token");
    tokenInput.value = localStorage.getItem("session-graph-token") || "";
    tokenInput.addEventListener("input", () =>
      localStorage.setItem("session-graph-token", tokenInput.value.trim()));
    // Subscriptions go over WebSocket (graphql-transport-ws), with the token in
    // connection_init; a new token opens a new socket.
    const socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host
      + location.pathname;
    let socket = null, socketToken = null;
    function liveClient(token) {{
      if (socket === null || socketToken !== token) {{
        if (socket !== null) socket.dispose();
        socketToken = token;
        socket = graphqlWs.createClient({{
          url: socketUrl, lazy: true, retryAttempts: 0,
          connectionParams: token ? {{Authorization: "Bearer " + token}} : {{}},
        }});
      }}
      return socket;
    }}
    function isSubscription(params) {{
      const words = params.query.replace(/#[^\\n]*/g, " ")
        .match(/[_A-Za-z][_0-9A-Za-z]*|\\{{/g) || [];
      const kinds = ["query", "mutation", "subscription"];
      if (params.operationName) {{
        for (let i = 0; i + 1 < words.length; i++) {{
          if (words[i + 1] === params.operationName && kinds.includes(words[i])) {{
            return words[i] === "subscription";
          }}
        }}
      }}
      return words[0] === "subscription";
    }}
    async function fetcher(params, options) {{
      const token = tokenInput.value.trim();
      if (isSubscription(params)) return liveClient(token).iterate(params);
      const headers = {{"Content-Type": "application/json", "Accept": "application/json",
                       ...((options && options.headers) || {{}})}};
      if (token) headers["Authorization"] = "Bearer " + token;
      const response = await fetch(window.location.pathname, {{
        method: "POST", headers, body: JSON.stringify(params)}});
      return response.json();
    }}
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: "{{ viewer {{ id }} }}\\n",
        defaultEditorToolsVisibility: false,
      }}));
  </script>
</body>
</html>
"""


def graphiql_page(local_assets: bool) -> str:
    values: dict[str, str] = {}
    for name, (_, url, integrity) in ASSETS.items():
        key = name.replace(".", "_").replace("-", "_")
        if local_assets:
            values[key] = ASSET_ROUTE.format(name=name)
            values[f"{key}_sri"] = ""
        else:
            values[key] = url
            values[f"{key}_sri"] = f' integrity="{integrity}" crossorigin="anonymous"'
    return _PAGE.format_map(values)


class GraphiQLAssets:
    """Serves the four files the page needs from a node_modules folder, nothing else."""

    def __init__(self, node_modules: Path) -> None:
        self.node_modules = node_modules.resolve()

    def available(self) -> bool:
        return all((self.node_modules / path).is_file() for path, _, _ in ASSETS.values())

    async def serve(self, request: Request) -> Response:
        entry = ASSETS.get(request.path_params["name"])
        if entry is None:
            return Response(status_code=404)
        return FileResponse(
            self.node_modules / entry[0], headers={"Cache-Control": "max-age=86400"}
        )
