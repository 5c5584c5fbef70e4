"""A store that has already failed: every call raises the same error.

When a compiled read fails with an expected error (the database or pg_graphql is
unavailable, slow, or refused the token), the request is still answered by Strawberry so
errors keep their one shape (paths, nullability), but against this store: the failure
is reported as the executor would report it, without asking the store again (which would
double the wait on a slow upstream).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NoReturn

from graph.auth import Claims
from graph.errors import GraphError


class FailedStore:
    def __init__(self, error: GraphError) -> None:
        self.error = error

    @asynccontextmanager
    async def read_scope(self, viewer: Claims) -> AsyncIterator[None]:
        yield

    def __getattr__(self, name: str) -> Any:
        async def fail(*_args: object, **_kwargs: object) -> NoReturn:
            raise type(self.error)(self.error.message) from self.error

        return fail
