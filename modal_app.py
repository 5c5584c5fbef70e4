"""The gateway on Modal: `modal deploy modal_app.py`.

The image installs the dependencies named in pyproject.toml and adds the `graph`
package (with its .graphql operation documents). Configuration comes from the Modal
secret `supabase` (SUPABASE_URL, SUPABASE_ANON_KEY, and SUPABASE_JWT_SECRET or
SUPABASE_JWKS_URL); with SUPABASE_URL set the backend is pg_graphql, so the container
holds no database credentials and no key that bypasses row-level security. Nothing here
contacts Modal at import time.

A frontend's trusted documents ship inside the image: deploy with
`GRAPH_TRUSTED_DOCUMENTS=<its persisted-documents.json> modal deploy modal_app.py`, and set
GRAPH_TRUSTED_DOCUMENTS_ONLY=true in the secret to run nothing else (docs/RUNBOOK.md).
"""

from __future__ import annotations

import os
from typing import Any

import modal

APP_NAME = "session-graph"
SECRET_NAME = "supabase"  # noqa: S105 - the name of a Modal secret, not a secret
TRUSTED_DOCUMENTS = "/srv/session-graph/persisted-documents.json"


def with_trusted_documents(image: modal.Image, manifest: str | None) -> modal.Image:
    """The image serving `manifest` (a local file, named at deploy time), if one is named."""
    if not manifest:
        return image
    return image.add_local_file(manifest, TRUSTED_DOCUMENTS, copy=True).env(
        {"GRAPH_TRUSTED_DOCUMENTS": TRUSTED_DOCUMENTS}
    )


image = with_trusted_documents(
    modal.Image.debian_slim(python_version="3.11")
    .pip_install_from_pyproject("pyproject.toml")
    .env({"GRAPH_LOG_FORMAT": "json"}),
    os.environ.get("GRAPH_TRUSTED_DOCUMENTS"),
).add_local_python_source("graph", ignore=["**/__pycache__/**", "**/*.pyc"])

app = modal.App(APP_NAME, image=image)


@app.function(
    secrets=[modal.Secret.from_name(SECRET_NAME)],
    min_containers=1,  # one warm container: no cold start on the first request
    max_containers=20,
    scaledown_window=300,
    timeout=60,
    cpu=1.0,
    memory=512,
)
@modal.concurrent(max_inputs=100, target_inputs=50)
@modal.asgi_app(label=APP_NAME)
def web() -> Any:
    """The ASGI app: the same gateway `make serve` runs, on the pg_graphql backend."""
    from graph.asgi import create  # noqa: PLC0415 - imported in the container

    return create()
