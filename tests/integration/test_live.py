"""Live sessions through the npm graphql-ws and graphql-sse clients: events follow commits
in version order, each `session` read under the subscriber's claims; another user's
session is NOT_FOUND like a missing one; a connection without a valid token is closed with
4403, and one whose token expires is closed then; a stream completes after DELETED; a
dropped LISTEN connection loses nothing that matters."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from graph.auth import mint_token
from graph.backends.pg_graphql import PgGraphqlBackend
from graph.embedded import EmbeddedPostgres
from graph.migrate import migrate
from tests.support import TEST_JWT_SECRET, GraphClient, User, new_user
from tests.support.examples import example_operation
from tests.support.live import (
    CLIENTS,
    INSTALLED,
    NODE,
    WAIT_S,
    Line,
    LiveGateway,
    events,
    live_gateway,
)
from tests.support.stores import LIVE, TEST_ANON_KEY, Database, RealtimeStandin, Standin

pytestmark = pytest.mark.skipif(
    not INSTALLED,
    reason="Node.js and tests/js are needed: `npm ci --prefix tests/js` (make test does)",
)

SESSION_LIVE = example_operation("SessionLive")
MY_SESSIONS_LIVE = example_operation("MySessionsLive")


@pytest.fixture(params=["postgres", "pg_graphql", *(["supabase"] if LIVE else [])])
async def live(
    request: pytest.FixtureRequest,
    database: Database,
    standin: Standin,
    realtime_standin: RealtimeStandin,
) -> Any:
    """The gateway on each backend: Postgres with its LISTEN connection, and pg_graphql
    (its stand-in) with Realtime (its stand-in), each subscription joined as the caller."""
    if request.param == "postgres":
        async with live_gateway(database) as gateway:
            gateway.drop_changes = lambda: _kill_listener(database)
            yield gateway
        return
    if request.param == "supabase":  # a real project: its pg_graphql and its Realtime
        upstream = await PgGraphqlBackend.connect(
            os.environ["SUPABASE_URL"], os.environ["SUPABASE_ANON_KEY"]
        )
    else:
        upstream = await PgGraphqlBackend.connect(
            standin.url, TEST_ANON_KEY, realtime_url=realtime_standin.url
        )
    try:
        async with live_gateway(database, upstream) as gateway:
            gateway.drop_changes = (
                realtime_standin.state.drop_all if request.param == "pg_graphql" else None
            )
            yield gateway
    finally:
        await upstream.close()


async def _create(client: GraphClient, user: User) -> tuple[str, int]:
    session = (
        await client.execute(
            example_operation("CreateSession"), {"input": {"title": "live"}}, user=user
        )
    ).ok()["createSession"]["session"]
    return session["id"], session["version"]


async def _revise(client: GraphClient, user: User, session_id: str, n: int) -> int:
    reply = await client.execute(
        example_operation("AddRevision"),
        {"input": {"sessionId": session_id, "content": f"edit {n}"}},
        user=user,
    )
    version: int = reply.ok()["addRevision"]["session"]["version"]
    return version


def _is_event_at(version: int) -> Any:
    return lambda line: any(e["version"] >= version for e in events([line]))


async def test_a_sessions_events_follow_its_commits_in_version_order(live: LiveGateway) -> None:
    alice = new_user()
    session_id, _ = await _create(live.client, alice)
    async with live.subscribe(SESSION_LIVE, {"id": session_id}, token=alice.token) as sub:
        versions = [await _revise(live.client, alice, session_id, n) for n in range(5)]
        ended = (
            await live.client.execute(
                example_operation("AbandonSession"), {"input": {"id": session_id}}, user=alice
            )
        ).ok()["abandonSession"]["session"]["version"]
        lines = await sub.until(_is_event_at(ended))
        connections = await live.metric("graph_live_connections")
        delivered = await live.metric("graph_live_events_delivered_total")
        latencies = await live.metric("graph_live_delivery_seconds_count")
    seen = events(lines)
    assert connections == 1
    assert delivered >= len(events(lines))
    assert latencies == delivered
    assert [e["version"] for e in seen] == sorted({e["version"] for e in seen})  # increasing
    assert {e["version"] for e in seen} <= {*versions, ended}
    assert seen[-1]["kind"] == "ABANDONED"
    assert seen[-1]["version"] == ended
    assert all(e["sessionId"] == session_id for e in seen)
    assert all(e["session"]["version"] >= e["version"] for e in seen)  # read at delivery
    assert seen[-1]["session"]["status"] == "ABANDONED"


async def test_another_users_session_is_not_found_as_a_missing_one_is(live: LiveGateway) -> None:
    alice, bob = new_user(), new_user()
    session_id, _ = await _create(live.client, alice)
    answers = []
    for target in (session_id, str(uuid.uuid4())):
        async with live.subscribe(SESSION_LIVE, {"id": target}, token=bob.token, wait=False) as sub:
            lines = await sub.until(lambda line: "error" in line or "next" in line)
            answers.append(lines[-1])
    assert answers[0] == answers[1]
    [error] = answers[0]["error"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "session not found"


@pytest.mark.parametrize("token", [None, "not-a-token", "expired"])
async def test_a_connection_without_a_valid_token_is_closed_with_4403(
    live: LiveGateway, token: str | None
) -> None:
    if token == "expired":
        token = mint_token(TEST_JWT_SECRET, uuid.uuid4(), -60)
    async with live.subscribe(MY_SESSIONS_LIVE, token=token, wait=False) as sub:
        lines = await sub.until(lambda line: "closed" in line)
    assert lines[-1]["closed"]["code"] == 4403
    assert not any("next" in line for line in lines)


async def test_the_socket_closes_with_4403_when_the_token_expires(live: LiveGateway) -> None:
    user_id = uuid.uuid4()
    token = mint_token(TEST_JWT_SECRET, user_id, 3)
    async with live.subscribe(MY_SESSIONS_LIVE, token=token, wait=False) as sub:
        lines = await sub.until(lambda line: "closed" in line)
    assert lines[-1]["closed"]["code"] == 4403
    assert not any("next" in line for line in lines)


async def test_a_stream_completes_after_deleted(live: LiveGateway) -> None:
    alice = new_user()
    session_id, version = await _create(live.client, alice)
    async with live.subscribe(SESSION_LIVE, {"id": session_id}, token=alice.token) as sub:
        (
            await live.client.execute(
                example_operation("DeleteSession"), {"input": {"id": session_id}}, user=alice
            )
        ).ok()
        lines = await sub.until(lambda line: "complete" in line or "error" in line)
    [deleted] = events(lines)
    assert deleted == {
        "kind": "DELETED",
        "sessionId": session_id,
        "version": version,
        "session": None,
    }
    assert lines[-1] == {"complete": True}


async def test_my_session_events_show_nothing_of_another_users_activity(
    live: LiveGateway,
) -> None:
    """Announcements arrive in commit order on one LISTEN connection, so by the time Bob's
    own change reaches him, any of Alice's hundreds of changes would have too."""
    alice, bob = new_user(), new_user()
    alice_session, _ = await _create(live.client, alice)
    async with live.subscribe(MY_SESSIONS_LIVE, token=bob.token) as sub:
        for n in range(200):
            await _revise(live.client, alice, alice_session, n)
        bob_session, _ = await _create(live.client, bob)
        bob_version = await _revise(live.client, bob, bob_session, 0)
        lines = await sub.until(
            lambda line: any(
                e["sessionId"] == bob_session and e["version"] == bob_version
                for e in events([line])
            )
        )
    seen = events(lines)
    assert {e["sessionId"] for e in seen} == {bob_session}
    assert all(e["session"] is None or e["session"]["id"] == bob_session for e in seen)


async def test_a_token_for_another_user_sees_nothing_of_a_session(live: LiveGateway) -> None:
    """A subscriber whose token names a user with no sessions (deleted, or someone else)
    hears nothing of Alice's, even while she writes."""
    alice, ghost = new_user(), new_user()
    session_id, _ = await _create(live.client, alice)
    async with (
        live.subscribe(MY_SESSIONS_LIVE, token=ghost.token) as ghost_sub,
        live.subscribe(SESSION_LIVE, {"id": session_id}, token=alice.token) as alice_sub,
    ):
        last = 0
        for n in range(20):
            last = await _revise(live.client, alice, session_id, n)
        await alice_sub.until(_is_event_at(last))
        ghost_session, _ = await _create(live.client, ghost)  # after all of Alice's
        lines = await ghost_sub.until(lambda line: bool(events([line])))
    assert {e["sessionId"] for e in events(lines)} == {ghost_session}


async def test_sse_delivers_as_websocket_does(live: LiveGateway) -> None:
    alice = new_user()
    session_id, _ = await _create(live.client, alice)
    async with live.subscribe(
        SESSION_LIVE, {"id": session_id}, token=alice.token, transport="sse"
    ) as sub:
        version = await _revise(live.client, alice, session_id, 1)
        lines = await sub.until(_is_event_at(version))
    [event] = events(lines)
    assert event["kind"] == "CHANGED"
    assert event["version"] == version
    assert event["session"]["version"] == version


async def test_every_subscriber_ends_at_the_latest_version_after_the_change_source_drops(
    live: LiveGateway,
) -> None:
    """The LISTEN connection is killed (as a Postgres restart kills it), or Realtime drops
    every socket, while writes go on: whether a write was heard live or recovered by the
    re-read after reconnecting, each subscriber ends at the latest version and never goes
    back."""
    if live.drop_changes is None:
        pytest.skip("a real project's Realtime cannot be dropped from here")
    alice = new_user()
    sessions = [(await _create(live.client, alice))[0] for _ in range(3)]
    async with (
        live.subscribe(SESSION_LIVE, {"id": sessions[0]}, token=alice.token) as one,
        live.subscribe(MY_SESSIONS_LIVE, token=alice.token) as mine,
    ):
        latest: dict[str, int] = {}
        for round_ in range(3):
            await live.drop_changes()
            for n, session_id in enumerate(sessions):
                latest[session_id] = await _revise(live.client, alice, session_id, round_ * 10 + n)
        heard_one = await one.until(_is_event_at(latest[sessions[0]]))
        heard_mine = await mine.until(_caught_up(latest))
    _assert_never_backwards(heard_one, heard_mine)


def _caught_up(latest: dict[str, int]) -> Callable[[Line], bool]:
    """Holds at the line by which every session has been heard at its latest version."""
    heard: dict[str, int] = {}

    def holds(line: Line) -> bool:
        for e in events([line]):
            heard[e["sessionId"]] = max(heard.get(e["sessionId"], 0), e["version"])
        return all(heard.get(s, 0) >= v for s, v in latest.items())

    return holds


def _assert_never_backwards(*heard: list[Line]) -> None:
    for lines in heard:
        by_session: dict[str, list[int]] = {}
        for e in events(lines):
            by_session.setdefault(e["sessionId"], []).append(e["version"])
        assert all(v == sorted(set(v)) for v in by_session.values())


async def _kill_listener(database: Database) -> None:
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        await conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where application_name = 'session-graph-listen' and datname = current_database()"
        )
    finally:
        await conn.close()


async def test_subscriptions_per_connection_are_limited(live: LiveGateway) -> None:
    """The 21st subscription on one connection is refused; the first twenty stay live."""
    alice = new_user()
    session_id, _ = await _create(live.client, alice)
    before = await live.subscriptions()
    process = await asyncio.create_subprocess_exec(
        NODE or "node",
        "--input-type=module",
        "-e",
        _MANY_SUBSCRIPTIONS,
        live.ws_url,
        alice.token,
        SESSION_LIVE,
        session_id,
        "21",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=str(CLIENTS),
    )
    try:
        assert process.stdout is not None
        refusal = json.loads(await asyncio.wait_for(process.stdout.readline(), WAIT_S))
        await live.until_subscriptions(lambda n: n == before + 20)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        await asyncio.wait_for(process.wait(), WAIT_S)
    [error] = refusal
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "20" in error["message"]


# Opens N subscriptions on one connection; prints the first refusal's errors; ends on stdin.
_MANY_SUBSCRIPTIONS = """
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
const [url, token, query, id, n] = process.argv.slice(1);
const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0,
  connectionParams: { Authorization: `Bearer ${token}` } });
for (let i = 0; i < Number(n); i++) {
  client.subscribe({ query, variables: { id } }, {
    next: () => {}, complete: () => {},
    error: (e) => { if (Array.isArray(e)) process.stdout.write(JSON.stringify(e) + '\\n'); },
  });
}
process.stdin.on('end', async () => { await client.dispose(); process.exit(0); });
process.stdin.resume();
"""


async def test_an_sse_stream_ends_unauthenticated_when_its_token_expires(
    live: LiveGateway,
) -> None:
    token = mint_token(TEST_JWT_SECRET, uuid.uuid4(), 3)
    async with live.subscribe(MY_SESSIONS_LIVE, token=token, transport="sse", wait=False) as sub:
        lines = await sub.until(lambda line: "complete" in line or "error" in line)
    ended = [line for line in lines if "next" in line or "error" in line]
    # Expired on the way (a slow machine): refused at the door instead, 401.
    refused = "error" in ended[-1] and "401" in str(ended[-1]["error"])
    if not refused:
        [error] = ended[-1]["next"]["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert lines[-1] == {"complete": True}
    assert not any(events([line]) for line in lines)


async def test_every_subscriber_ends_at_the_latest_version_after_postgres_restarts(
    tmp_path: Path,
) -> None:
    """Postgres stopped and started under live subscriptions: writes acknowledged before,
    and after, reach every subscriber, live or by the re-read after the LISTEN connection
    is back; none goes back."""
    embedded = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(embedded.start)
    try:
        await migrate(embedded.admin_dsn)
        database = Database(
            admin_dsn=embedded.admin_dsn, app_dsn=embedded.app_dsn, embedded=embedded
        )
        async with asyncio.timeout(180), live_gateway(database) as live:  # a net for a hang
            alice = new_user()
            sessions = [(await _create(live.client, alice))[0] for _ in range(3)]
            async with (
                live.subscribe(SESSION_LIVE, {"id": sessions[0]}, token=alice.token) as one,
                live.subscribe(MY_SESSIONS_LIVE, token=alice.token) as mine,
            ):
                latest = {s: await _revise(live.client, alice, s, 0) for s in sessions}
                await asyncio.to_thread(embedded.stop)
                await asyncio.to_thread(embedded.start)
                for n, session_id in enumerate(sessions):
                    latest[session_id] = await _revise_when_back(live.client, alice, session_id, n)
                heard_one = await one.until(_is_event_at(latest[sessions[0]]))
                heard_mine = await mine.until(_caught_up(latest))
        _assert_never_backwards(heard_one, heard_mine)
    finally:
        await asyncio.to_thread(embedded.stop)


async def _revise_when_back(client: GraphClient, user: User, session_id: str, n: int) -> int:
    """A write, retried while the store is coming back (UPSTREAM_UNAVAILABLE)."""
    while True:
        reply = await client.execute(
            example_operation("AddRevision"),
            {"input": {"sessionId": session_id, "content": f"after {n}"}},
            user=user,
        )
        if reply.codes != ["UPSTREAM_UNAVAILABLE"]:
            version: int = reply.ok()["addRevision"]["session"]["version"]
            return version
        await asyncio.sleep(0.1)


async def test_a_subscription_obeys_the_limits_queries_do(live: LiveGateway) -> None:
    """Over the alias limit: refused before it runs, with the code a query would get."""
    alice = new_user()
    aliases = " ".join(f"v{n}: version" for n in range(16))
    query = f"subscription {{ mySessionEvents {{ {aliases} }} }}"
    async with live.subscribe(query, token=alice.token, wait=False) as sub:
        lines = await sub.until(lambda line: "error" in line or "next" in line)
    [error] = lines[-1]["error"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "alias" in error["message"].lower()
    assert await live.subscriptions() == 0


async def _closed_with(ws_url: str, *, subprotocol: str, send: list[dict[str, Any]]) -> int:
    """The close code a hand-rolled client gets: what a hostile client (not a frontend's
    library) can do on the socket."""
    from websockets.asyncio.client import connect  # noqa: PLC0415
    from websockets.exceptions import ConnectionClosed  # noqa: PLC0415
    from websockets.typing import Subprotocol  # noqa: PLC0415

    async with connect(ws_url, subprotocols=[Subprotocol(subprotocol)]) as socket:
        try:
            for message in send:
                await socket.send(json.dumps(message))
            async with asyncio.timeout(WAIT_S):
                while True:
                    await socket.recv()
        except ConnectionClosed as closed:
            if closed.rcvd is None:
                raise AssertionError("closed without a close frame") from closed
            return closed.rcvd.code
    raise AssertionError("the socket was not closed")


async def test_the_legacy_graphql_ws_protocol_is_not_served(live: LiveGateway) -> None:
    """Its handler once let `start` skip `connection_init` (GHSA-vpwc-v33q-mq89)."""
    code = await _closed_with(
        live.ws_url,
        subprotocol="graphql-ws",
        send=[{"type": "start", "id": "1", "payload": {"query": MY_SESSIONS_LIVE}}],
    )
    assert code == 4406
    assert await live.subscriptions() == 0


async def test_subscribing_before_connection_init_closes_with_4401(live: LiveGateway) -> None:
    code = await _closed_with(
        live.ws_url,
        subprotocol="graphql-transport-ws",
        send=[{"type": "subscribe", "id": "1", "payload": {"query": MY_SESSIONS_LIVE}}],
    )
    assert code == 4401
    assert await live.subscriptions() == 0


async def test_a_connection_that_never_initialises_is_closed_after_10_s(
    live: LiveGateway,
) -> None:
    code = await _closed_with(live.ws_url, subprotocol="graphql-transport-ws", send=[])
    assert code == 4408


async def test_the_server_pings_a_quiet_connection(
    live: LiveGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proxies keep a socket that carries pings open; a client answers with pong."""
    from websockets.asyncio.client import connect  # noqa: PLC0415
    from websockets.typing import Subprotocol  # noqa: PLC0415

    monkeypatch.setattr("graph.ws.PING_INTERVAL_S", 0.1)
    alice = new_user()
    async with (
        asyncio.timeout(WAIT_S),
        connect(live.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket,
    ):
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {alice.token}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        assert json.loads(await socket.recv()) == {"type": "ping"}
        await socket.send(json.dumps({"type": "pong"}))
        assert json.loads(await socket.recv()) == {"type": "ping"}


async def test_realtime_lost_for_good_ends_a_subscription_retryably(
    database: Database,
    standin: Standin,
    realtime_standin: RealtimeStandin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Realtime goes away and refuses every reconnection: rather than stay open and silent,
    the subscription ends with UPSTREAM_UNAVAILABLE (retryable) once its channel has not
    been joined again in time."""
    monkeypatch.setattr("graph.backends.pg_graphql.realtime.REJOIN_S", 0.5)
    upstream = await PgGraphqlBackend.connect(
        standin.url, TEST_ANON_KEY, realtime_url=realtime_standin.url
    )
    try:
        async with live_gateway(database, upstream) as live:
            alice = new_user()
            session_id, _ = await _create(live.client, alice)
            async with live.subscribe(SESSION_LIVE, {"id": session_id}, token=alice.token) as sub:
                realtime_standin.state.down = True
                try:
                    await realtime_standin.state.drop_all()
                    lines = await sub.until(lambda line: "complete" in line or "error" in line)
                finally:
                    realtime_standin.state.down = False
    finally:
        await upstream.close()
    [ended] = [line for line in lines if "next" in line]
    [error] = ended["next"]["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "retryable": True}
    assert lines[-1] == {"complete": True}
