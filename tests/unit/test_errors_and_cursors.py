from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from graph.cursors import (
    CursorKind,
    parse_position_cursor,
    parse_session_cursor,
    position_cursor,
    session_cursor,
)
from graph.errors import (
    BadUserInput,
    Conflict,
    FailedPrecondition,
    NotFound,
    UpstreamUnavailable,
    from_rule_message,
)


@pytest.mark.parametrize(
    ("message", "kind", "text"),
    [
        ("NOT_FOUND: session not found", NotFound, "session not found"),
        (
            "CONFLICT: the session is at version 3, not 2",
            Conflict,
            "the session is at version 3, not 2",
        ),
        (
            "FAILED_PRECONDITION: Cannot finalize: 2 unresolved holes remaining",
            FailedPrecondition,
            "Cannot finalize: 2 unresolved holes remaining",
        ),
        ("BAD_USER_INPUT: nope", BadUserInput, "nope"),
    ],
)
def test_rule_messages_map_to_their_codes(message: str, kind: type, text: str) -> None:
    error = from_rule_message(message)
    assert isinstance(error, kind)
    assert error.message == text


@pytest.mark.parametrize(
    "message", ["duplicate key value violates unique constraint", "UNAUTHENTICATED: x", "OOPS: x"]
)
def test_other_messages_are_not_rules(message: str) -> None:
    assert from_rule_message(message) is None


def test_only_upstream_unavailable_is_retryable() -> None:
    assert UpstreamUnavailable("x").extensions() == {
        "code": "UPSTREAM_UNAVAILABLE",
        "retryable": True,
    }
    assert NotFound("x").extensions() == {"code": "NOT_FOUND"}


def test_session_cursor_round_trips() -> None:
    when = datetime(2026, 11, 27, 12, 30, 1, 123456, tzinfo=UTC)
    session_id = uuid.uuid4()
    parsed = parse_session_cursor(session_cursor(when, session_id))
    assert (parsed.updated_at, parsed.id) == (when, session_id)


def test_position_cursor_round_trips_and_names_its_list() -> None:
    cursor = position_cursor(CursorKind.REVISION, 7)
    assert parse_position_cursor(cursor, CursorKind.REVISION) == 7
    with pytest.raises(BadUserInput):
        parse_position_cursor(cursor, CursorKind.DRAFT)
    with pytest.raises(BadUserInput):
        parse_session_cursor(cursor)


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "x" * 500,
        _raw("{}"),
        _raw('["r", -1]'),
        _raw('["r", true]'),
        _raw('["r", 1, 2]'),
        _raw('["r", 9999999999]'),
        _raw('["s", "yesterday", "x"]'),
        _raw('["s", "2026-01-01T00:00:00", "' + str(uuid.uuid4()) + '"]'),
    ],
)
def test_malformed_cursors_are_bad_input(cursor: str) -> None:
    with pytest.raises(BadUserInput, match="invalid cursor"):
        parse_session_cursor(cursor)
    with pytest.raises(BadUserInput, match="invalid cursor"):
        parse_position_cursor(cursor, CursorKind.REVISION)
