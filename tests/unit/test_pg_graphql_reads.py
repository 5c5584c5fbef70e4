"""The pg_graphql reshaping's shortcuts give what the field-by-field records give."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from graph.backends.pg_graphql.values import timestamp as _time
from graph.cursors import session_cursor, session_cursor_of

OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


def _postgres_text(moment: dt.datetime) -> str:
    """How Postgres writes a timestamptz in JSON: trailing zeros of the fraction trimmed."""
    text = moment.isoformat()
    if "." in text:
        head, _, rest = text.partition(".")
        digits, sign, offset = rest[:6], rest[6], rest[7:]
        text = (
            f"{head}.{digits.rstrip('0')}{sign}{offset}"
            if digits.strip("0")
            else head + sign + offset
        )
    return text


@given(st.datetimes(timezones=OFFSETS))
def test_time_is_isoformat_of_the_parsed_value(moment: dt.datetime) -> None:
    for text in (moment.isoformat(), _postgres_text(moment)):
        assert _time(text) == dt.datetime.fromisoformat(text).isoformat()


def test_time_keeps_nulls_and_odd_shapes() -> None:
    assert _time(None) is None
    for text in ("2026-01-02T03:04:05-00:00", "2026-01-02 03:04:05.5+00", "2026-01-02T03:04:05Z"):
        assert _time(text) == dt.datetime.fromisoformat(text).isoformat()


@given(st.datetimes(timezones=OFFSETS), st.uuids())
def test_session_cursor_from_text_is_the_same_cursor(moment: dt.datetime, key: object) -> None:
    assert session_cursor_of(moment.isoformat(), str(key)) == session_cursor(moment, key)  # type: ignore[arg-type]
