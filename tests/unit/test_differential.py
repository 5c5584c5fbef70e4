"""The rule the differential tests compare answers by (tests/differential.py): errors may
differ only where the spec lets them, and a real difference still fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.differential import assert_same_answer


def error(path: list[str | int], message: str = "bad `first`") -> dict[str, Any]:
    return {
        "message": message,
        "path": path,
        "locations": [{"line": 1, "column": len(path)}],
        "extensions": {"code": "BAD_USER_INPUT", "requestId": str(path)},
    }


A = ["session", "revisions"]
B = ["sessions", "edges", 0, "node", "revisions"]
C = ["sessions", "edges", 1, "node", "drafts"]
EVERY_ERROR = {
    "data": {"session": None, "sessions": None},
    "errors": [error(A), error(B), error(C)],
}


def answer(*paths: list[str | int], data: Any = None) -> dict[str, Any]:
    return {"data": data, "errors": [error(path) for path in paths]}


def test_timing_may_choose_which_errors_explain_a_null_data() -> None:
    assert_same_answer(answer(A, B), answer(C), EVERY_ERROR)
    assert_same_answer(answer(B), answer(A, B, C), EVERY_ERROR)


def test_an_error_the_request_cannot_raise_fails() -> None:
    with pytest.raises(AssertionError, match="cannot raise"):
        assert_same_answer(answer(A), answer(["session", "drafts"]), EVERY_ERROR)
    wrong_message = {"data": None, "errors": [error(A, "another message")]}
    with pytest.raises(AssertionError, match="cannot raise"):
        assert_same_answer(answer(A), wrong_message, EVERY_ERROR)


def test_a_null_nobody_explains_fails() -> None:
    with pytest.raises(AssertionError, match="explains"):
        assert_same_answer(answer(A), {"data": None}, EVERY_ERROR)


def test_an_error_at_its_own_nullable_position_must_be_on_both_sides() -> None:
    data = {"session": None, "sessions": {"totalCount": 1}}
    reference = {"data": data, "errors": [error(["session"])]}
    assert_same_answer(answer(["session"], data=data), answer(["session"], data=data), reference)
    with pytest.raises(AssertionError, match="missing"):
        assert_same_answer(answer(["session"], data=data), {"data": data}, reference)


def test_data_must_be_equal() -> None:
    with pytest.raises(AssertionError):
        assert_same_answer({"data": {"viewer": {"id": "1"}}}, {"data": {"viewer": None}}, None)
    with pytest.raises(AssertionError):
        assert_same_answer({"data": None, "errors": [{"message": "x"}]}, answer(A), EVERY_ERROR)


def test_request_errors_are_compared_exactly() -> None:
    parse = {"errors": [{"message": "Syntax Error", "extensions": {"code": "BAD_USER_INPUT"}}]}
    assert_same_answer(parse, parse, None)
    with pytest.raises(AssertionError):
        assert_same_answer(parse, {"errors": [{"message": "other"}]}, None)
