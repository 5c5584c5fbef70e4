"""Stores the schema resolves through. `base` is the port; each module beside it an adapter."""

from graph.backends.base import Backend

__all__ = ["Backend"]
