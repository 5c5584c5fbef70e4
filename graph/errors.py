"""The errors a client can see, and the code each carries in `extensions.code`.

    GraphError                       (never raised itself)
     ├── Unauthenticated             UNAUTHENTICATED       bad, expired or missing token
     ├── BadUserInput                BAD_USER_INPUT        malformed, or over a limit
     ├── NotFound                    NOT_FOUND             absent, or another user's
     ├── Conflict                    CONFLICT              stale expectedVersion
     ├── FailedPrecondition          FAILED_PRECONDITION   the session's state forbids it
     ├── UpstreamUnavailable         UPSTREAM_UNAVAILABLE  the database is unreachable; retry
     ├── PersistedQueryNotFound      PERSISTED_QUERY_NOT_FOUND  a document id nobody registered
     └── TrustedDocumentsOnly        TRUSTED_DOCUMENTS_ONLY     free text where only ids run

Anything else is a bug: it is logged in full and the client gets INTERNAL_SERVER_ERROR
with a fixed message. A GraphError's message is written for the client and never
carries SQL, stack traces or constraint names.
"""

from __future__ import annotations

import re
from typing import ClassVar

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
INTERNAL_MESSAGE = "Internal server error"


class GraphError(Exception):
    code: ClassVar[str] = INTERNAL_SERVER_ERROR
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def again(self) -> GraphError:
        """The same error, raised anew (for another field of the same request)."""
        error = type(self)(self.message)
        error.__cause__ = self
        return error

    def extensions(self) -> dict[str, object]:
        extensions: dict[str, object] = {"code": self.code}
        if self.retryable:
            extensions["retryable"] = True
        return extensions


class Unauthenticated(GraphError):
    code = "UNAUTHENTICATED"


class BadUserInput(GraphError):
    code = "BAD_USER_INPUT"


class NotFound(GraphError):
    code = "NOT_FOUND"


class Conflict(GraphError):
    code = "CONFLICT"


class FailedPrecondition(GraphError):
    code = "FAILED_PRECONDITION"


class UpstreamUnavailable(GraphError):
    code = "UPSTREAM_UNAVAILABLE"
    retryable = True


class PersistedQueryNotFound(GraphError):
    """Apollo's link retries with the document's text on this code (or this message)."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class TrustedDocumentsOnly(GraphError):
    code = "TRUSTED_DOCUMENTS_ONLY"


_BY_CODE: dict[str, type[GraphError]] = {
    cls.code: cls for cls in (BadUserInput, NotFound, Conflict, FailedPrecondition)
}
_RULE_MESSAGE = re.compile(r"^(?P<code>[A-Z_]+): (?P<text>.+)$", re.DOTALL)


def from_rule_message(message: str) -> GraphError | None:
    """Map a rule raised by the migrations' SQL ("CONFLICT: ...") to its error.

    >>> from_rule_message("NOT_FOUND: session not found")
    NotFound('session not found')
    """
    match = _RULE_MESSAGE.match(message)
    if match is None:
        return None
    cls = _BY_CODE.get(match["code"])
    return cls(match["text"]) if cls is not None else None
