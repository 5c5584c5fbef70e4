"""The Postgres store: asyncpg straight to the database, as the caller.

transactions.py  the pool, BEGIN as the caller, a query's shared read transaction,
                 database failures as client errors
store.py         the port's methods, each statement written out
compiled.py      a planned query as one SQL statement that builds the response
"""

from graph.backends.postgres.store import PostgresBackend

__all__ = ["PostgresBackend"]
