"""The Realtime stand-in (tests/realtime_standin/) is as strict as Realtime: supabase-py's
`realtime` client joins private channels on it and hears the database's broadcasts; a join
the realtime.messages policies refuse is refused; the frames it accepts and refuses are
pinned here with a hand-rolled socket (what a client library would never send)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from graph.auth import mint_token
from tests.support import TEST_JWT_SECRET, token_for
from tests.support.acting import as_user, create_session_as
from tests.support.stores import TEST_ANON_KEY, Database, RealtimeStandin

WAIT_S = 30.0


@pytest.fixture
def realtime_url(realtime_standin: RealtimeStandin) -> str:
    return realtime_standin.url


async def _revise(database: Database, user: uuid.UUID, session_id: str) -> None:
    conn = await asyncpg.connect(database.app_dsn)
    try:
        async with conn.transaction():
            await as_user(conn, user)
            await conn.execute(
                "select public.add_revision($1::uuid, 'edit', 'manual_edit')", session_id
            )
    finally:
        await conn.close()


async def _join(
    url: str, token: str, topic: str
) -> tuple[AsyncRealtimeClient, RealtimeSubscribeStates, asyncio.Queue[dict[str, Any]]]:
    client = AsyncRealtimeClient(url, token=TEST_ANON_KEY, auto_reconnect=False)
    await client.connect()
    await client.set_auth(token)
    heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    channel = client.channel(topic, {"config": {"private": True}})
    channel.on_broadcast("*", lambda message: heard.put_nowait(dict(message)))
    states: list[RealtimeSubscribeStates] = []
    await asyncio.wait_for(channel.subscribe(lambda state, _error: states.append(state)), WAIT_S)
    return client, states[-1], heard


async def test_a_private_join_to_ones_own_session_hears_its_changes(
    database: Database, realtime_url: str
) -> None:
    alice = uuid.uuid4()
    session_id = str(await create_session_as(database.app_dsn, alice))
    client, state, heard = await _join(realtime_url, token_for(alice), f"session:{session_id}")
    try:
        assert state is RealtimeSubscribeStates.SUBSCRIBED
        await _revise(database, alice, session_id)
        message = await asyncio.wait_for(heard.get(), WAIT_S)
    finally:
        await client.close()
    assert message["event"] == "CHANGED"
    assert message["payload"]["session_id"] == session_id
    assert set(message["payload"]) == {"kind", "session_id", "user_id", "version", "at"}


@pytest.mark.parametrize("whose", ["another user's session", "another user's topic", "no token"])
async def test_a_join_the_policies_refuse_is_refused(
    database: Database, realtime_url: str, whose: str
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    session_id = str(await create_session_as(database.app_dsn, alice))
    topic = {
        "another user's session": f"session:{session_id}",
        "another user's topic": f"user:{alice}",
        "no token": f"user:{bob}",
    }[whose]
    token = token_for(bob) if whose != "no token" else TEST_ANON_KEY  # the anon key: no claims
    client, state, _heard = await _join(realtime_url, token, topic)
    await client.close()
    assert state is RealtimeSubscribeStates.CHANNEL_ERROR


async def _frames(
    url: str, *frames: dict[str, Any] | str, apikey: str = TEST_ANON_KEY, until_closed: bool = False
) -> list[Any]:
    """Replies to hand-written frames, one each, and the close code when the socket closes
    (with `until_closed`, waiting for it)."""
    from websockets.asyncio.client import connect  # noqa: PLC0415
    from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: PLC0415

    ws_url = url.replace("http://", "ws://") + f"/websocket?apikey={apikey}&vsn=1.0.0"
    answers: list[Any] = []
    try:
        async with connect(ws_url) as socket:
            for frame in frames:
                await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
                answers.append(json.loads(await asyncio.wait_for(socket.recv(), WAIT_S)))
            while until_closed:
                answers.append(json.loads(await asyncio.wait_for(socket.recv(), WAIT_S)))
    except ConnectionClosed as closed:
        answers.append(closed.rcvd.code if closed.rcvd else None)
    except InvalidStatus as refused:
        answers.append(refused.response.status_code)
    return answers


async def test_the_frames_it_accepts_and_refuses(database: Database, realtime_url: str) -> None:
    alice = uuid.uuid4()
    session_id = str(await create_session_as(database.app_dsn, alice))
    [heartbeat, unknown, not_joined] = await _frames(
        realtime_url,
        {"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "1"},
        {"topic": "phoenix", "event": "shout", "payload": {}, "ref": "2"},
        {
            "topic": f"realtime:session:{session_id}",
            "event": "access_token",
            "payload": {},
            "ref": "3",
        },
    )
    assert heartbeat["payload"] == {"status": "ok", "response": {}}
    assert heartbeat["ref"] == "1"
    assert unknown["payload"]["status"] == "error"
    assert not_joined["payload"]["status"] == "error"
    [malformed_join, joined] = await _frames(
        realtime_url,
        {"topic": "session:x", "event": "phx_join", "payload": {"config": {}}, "ref": "1"},
        {
            "topic": f"realtime:session:{session_id}",
            "event": "phx_join",
            "payload": {"config": {"private": True}, "access_token": token_for(alice)},
            "ref": "2",
        },
    )
    assert malformed_join["payload"]["status"] == "error"
    assert joined["payload"] == {"status": "ok", "response": {"postgres_changes": []}}
    assert await _frames(realtime_url, "not json") == [1003]
    assert await _frames(realtime_url, apikey="wrong") == [403]


async def test_a_refreshed_token_that_has_expired_closes_the_channel_and_expiry_the_socket(
    database: Database, realtime_url: str
) -> None:
    alice = uuid.uuid4()
    session_id = str(await create_session_as(database.app_dsn, alice))
    topic = f"realtime:session:{session_id}"
    join = {
        "topic": topic,
        "event": "phx_join",
        "payload": {"config": {"private": True}, "access_token": token_for(alice)},
        "ref": "1",
    }
    expired = mint_token(TEST_JWT_SECRET, alice, -10)
    refresh = {"topic": topic, "event": "access_token", "payload": {"access_token": expired}}
    [joined, closed] = await _frames(realtime_url, join, refresh)
    assert joined["payload"]["status"] == "ok"
    assert closed["event"] == "phx_close"
    short = mint_token(TEST_JWT_SECRET, alice, 3)
    short_join = dict(join, payload={"config": {"private": True}, "access_token": short})
    answers = await _frames(realtime_url, short_join, until_closed=True)
    # Joined, then closed once the token expired (or refused, had it expired on the way).
    assert answers[-1] == 4000 or answers[0]["payload"]["status"] == "error"


async def test_the_stand_in_refuses_because_the_policy_says_so(
    database: Database, realtime_url: str
) -> None:
    """Bob's join to Alice's session topic: refused; with the policy replaced by one that
    lets every broadcast be read, the same join succeeds; with the policy restored,
    refused again. The stand-in has no rule of its own: Postgres decides."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    topic = f"session:{await create_session_as(database.app_dsn, alice)}"

    async def bob_joins() -> RealtimeSubscribeStates:
        client, state, _heard = await _join(realtime_url, token_for(bob), topic)
        await client.close()
        return state

    admin = await asyncpg.connect(database.admin_dsn)
    try:
        definition = await admin.fetchval(
            "select pg_get_expr(polqual, polrelid) from pg_policy"
            " where polname = 'session_graph_receive_broadcasts'"
        )
        assert await bob_joins() is RealtimeSubscribeStates.CHANNEL_ERROR
        await admin.execute(
            "alter policy session_graph_receive_broadcasts on realtime.messages using (true)"
        )
        try:
            assert await bob_joins() is RealtimeSubscribeStates.SUBSCRIBED
        finally:
            await admin.execute(
                "alter policy session_graph_receive_broadcasts on realtime.messages"
                f" using ({definition})"
            )
        assert await bob_joins() is RealtimeSubscribeStates.CHANNEL_ERROR
    finally:
        await admin.close()
