"""session-graph: lift-sys specification sessions, stored per user, served as GraphQL."""

__all__ = ["__version__"]

__version__ = "0.1.0"
