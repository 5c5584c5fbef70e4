"""The app as a process builds it from its environment: `graph.asgi:create`.

The one factory every deployment uses: `uvicorn --factory graph.asgi:create`
(`session-graph serve --workers N` runs that), and Modal's `web()` in modal_app.py. It
runs when the process starts serving, never at import.
"""

from __future__ import annotations

from starlette.applications import Starlette

from graph.app import create_app
from graph.config import Settings
from graph.logs import configure_logging


def create() -> Starlette:
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
