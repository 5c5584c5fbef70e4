"""The ASGI entry point for process managers: `uvicorn --factory graph.asgi:create`.

`session-graph serve --workers N` uses it; each worker builds its app from the
environment when it starts, not at import.
"""

from __future__ import annotations

from starlette.applications import Starlette

from graph.app import create_app
from graph.cli import configure_logging
from graph.config import Settings


def create() -> Starlette:
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
