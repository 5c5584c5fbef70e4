"""Logging: one handler on the root logger, JSON lines (the default) or plain text.

Every entry point (the CLI, `graph.asgi:create` for process managers and Modal) calls
`configure_logging` once, before it builds the app.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from graph.config import Settings


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.graph_log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.graph_log_level.upper(), handlers=[handler], force=True)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line; a record whose message is already JSON is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if message.startswith("{"):
            try:
                entry.update(orjson.loads(message))
            except orjson.JSONDecodeError:
                entry["message"] = message
        else:
            entry["message"] = message
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()
