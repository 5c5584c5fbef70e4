"""The in-process fan-out (graph/live/hub.py): a feed coalesces a burst to the latest
version, never goes back, stays bounded, and a user's subscriptions are limited."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from graph.errors import BadUserInput
from graph.live.changes import ChangeKind, SessionChange, parse_announcement
from graph.live.hub import MAX_PENDING_SESSIONS, RESYNC, Hub


def change(
    session: uuid.UUID, user: uuid.UUID, version: int, kind: str = "CHANGED"
) -> SessionChange:
    return SessionChange(ChangeKind(kind), session, user, version, 0.0)


async def drain(feed: object, n: int) -> list[object]:
    return [await asyncio.wait_for(feed.next(), 1) for _ in range(n)]  # type: ignore[attr-defined]


async def test_a_burst_coalesces_to_the_latest_and_never_goes_back() -> None:
    hub, user, session = Hub(), uuid.uuid4(), uuid.uuid4()
    feed = hub.open(user, session)
    for version in (3, 5, 4):
        hub.publish(change(session, user, version))
    [found] = await drain(feed, 1)
    assert found == change(session, user, 5)
    hub.publish(change(session, user, 4))  # older than delivered: dropped
    hub.publish(change(session, user, 5))  # the same: dropped
    hub.publish(change(session, user, 5, "DELETED"))  # DELETED at the last version: kept
    [found] = await drain(feed, 1)
    assert found.kind is ChangeKind.DELETED  # type: ignore[attr-defined]


async def test_a_seen_version_is_never_delivered() -> None:
    hub, user, session = Hub(), uuid.uuid4(), uuid.uuid4()
    feed = hub.open(user, session)
    hub.publish(change(session, user, 2))
    feed.seen(session, 3)
    hub.publish(change(session, user, 3))
    hub.publish(change(session, user, 4))
    assert await drain(feed, 1) == [change(session, user, 4)]


async def test_feeds_hear_only_what_they_follow() -> None:
    hub, alice, bob = Hub(), uuid.uuid4(), uuid.uuid4()
    mine, one = hub.open(bob, None), hub.open(bob, uuid.uuid4())
    hub.publish(change(uuid.uuid4(), alice, 1))
    bobs = change(uuid.uuid4(), bob, 1)
    hub.publish(bobs)
    assert await drain(mine, 1) == [bobs]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(one.next(), 0.05)


async def test_a_slow_user_feed_stays_bounded_and_re_reads_instead() -> None:
    hub, user = Hub(), uuid.uuid4()
    feed = hub.open(user, None)
    for _ in range(MAX_PENDING_SESSIONS + 1):
        hub.publish(change(uuid.uuid4(), user, 1))
    assert await drain(feed, 1) == [RESYNC]


def test_subscriptions_per_user_are_limited_and_closing_frees_one() -> None:
    hub, user = Hub(per_user=2), uuid.uuid4()
    first, _second = hub.open(user, None), hub.open(user, uuid.uuid4())
    with pytest.raises(BadUserInput):
        hub.open(user, None)
    first.close()
    first.close()  # twice is once
    third = hub.open(user, None)
    assert hub.subscriptions() == 0  # none has begun
    third.started = True
    assert hub.subscriptions() == 1


def test_an_announcement_carries_ids_and_a_version_or_is_dropped() -> None:
    session, user = uuid.uuid4(), uuid.uuid4()
    text = (
        '{"topics": [], "event": "CHANGED", "payload": {"kind": "CHANGED", "session_id": "'
        f'{session}", "user_id": "{user}", "version": 7, "at": 1.5}}}}'
    )
    assert parse_announcement(text) == SessionChange(ChangeKind.CHANGED, session, user, 7, 1.5)
    assert parse_announcement('{"payload": {"kind": "NOPE"}}') is None
    assert parse_announcement("not json") is None
