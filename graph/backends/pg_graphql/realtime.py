"""The pg_graphql backend's change source: Supabase Realtime Broadcast, joined as the caller.

The gateway has no database connection here, so it cannot LISTEN. The database broadcasts
each change (migrations/0012) to private channels `session:<id>` and `user:<user id>`;
Realtime lets a socket join one only if the realtime.messages policies let its JWT read
it. So a subscription joins its topic with the caller's own JWT, on one
`AsyncRealtimeClient` (supabase-py's `realtime`) per caller token in use, since Realtime
keeps one JWT per socket; the client is closed when its last follow ends. The gateway holds
no service key: the socket's `apikey` is the anon key, its access token the caller's.

A refused join is NOT_FOUND (the topic is not the caller's); a join that times out or a
socket that cannot open is UPSTREAM_UNAVAILABLE. The client reconnects and rejoins by
itself; when a channel is joined again after that, the sink re-reads (whatever was
broadcast meanwhile was never heard); a channel not joined again within REJOIN_S ends its
subscriptions with UPSTREAM_UNAVAILABLE (retryable) instead of leaving them silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from realtime import AsyncRealtimeClient, RealtimeChannelOptions, RealtimeSubscribeStates

from graph.auth import Claims
from graph.errors import GraphError, NotFound, UpstreamUnavailable
from graph.live.changes import ChangeSink, change_of

logger = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 10.0
REJOIN_S = 60.0  # how long an errored channel may take to be joined again


@dataclass
class _Channel:
    """One private channel of a socket, shared by the follows of its topic."""

    joined: asyncio.Task[None] = field(init=False)  # the join, awaited by every follow
    channel: Any = None
    follows: int = 0
    # Resolved when the channel errored and was not joined again within REJOIN_S: its
    # subscriptions end with this error (a client that gave up reconnecting is silent).
    lost: asyncio.Future[GraphError] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    watchdog: asyncio.Task[None] | None = None


@dataclass
class _Socket:
    client: AsyncRealtimeClient
    follows: int = 0
    ready: asyncio.Lock = field(default_factory=asyncio.Lock)
    connected: bool = False
    channels: dict[str, _Channel] = field(default_factory=dict)


class RealtimeJoins:
    def __init__(self, realtime_url: str, anon_key: str) -> None:
        self._url = realtime_url
        self._anon_key = anon_key
        self._sockets: dict[str, _Socket] = {}

    @asynccontextmanager
    async def follow(
        self, viewer: Claims, topic: str, sink: ChangeSink
    ) -> AsyncIterator[asyncio.Future[GraphError]]:
        socket = self._sockets.get(viewer.token)
        if socket is None:
            socket = self._sockets[viewer.token] = _Socket(
                AsyncRealtimeClient(self._url, token=self._anon_key, auto_reconnect=True)
            )
        socket.follows += 1
        try:
            await self._connect(socket, viewer.token)
            shared = socket.channels.get(topic)
            if shared is None:
                shared = socket.channels[topic] = _Channel()
                joined = asyncio.create_task(self._join(socket, topic, sink, shared))
                shared.joined = joined
            else:
                joined = shared.joined
            shared.follows += 1
            try:
                await asyncio.shield(joined)
                yield shared.lost
            finally:
                shared.follows -= 1
                if shared.follows == 0 and socket.channels.get(topic) is shared:
                    del socket.channels[topic]
                    if shared.watchdog is not None:
                        shared.watchdog.cancel()
                    if shared.channel is not None:
                        await _quietly(shared.channel.unsubscribe())
        finally:
            socket.follows -= 1
            if socket.follows == 0 and self._sockets.get(viewer.token) is socket:
                del self._sockets[viewer.token]
                await _quietly(socket.client.close())

    async def _join(self, socket: _Socket, topic: str, sink: ChangeSink, shared: _Channel) -> None:
        """Joins `topic` privately with the socket's token; raises as `follow` documents."""
        options: RealtimeChannelOptions = {
            "config": {"broadcast": None, "presence": None, "private": True}
        }
        channel = socket.client.channel(topic, options)
        channel.on_broadcast("*", lambda message: _heard(sink, message))
        joined: asyncio.Future[RealtimeSubscribeStates] = asyncio.get_running_loop().create_future()

        def on_state(state: RealtimeSubscribeStates, _error: Exception | None) -> None:
            if not joined.done():
                joined.set_result(state)
            elif state is RealtimeSubscribeStates.SUBSCRIBED:
                if shared.watchdog is not None:
                    shared.watchdog.cancel()
                    shared.watchdog = None
                sink.recovered()  # joined again after a reconnect
            elif shared.watchdog is None and not shared.lost.done():
                shared.watchdog = asyncio.get_running_loop().create_task(_give_up(shared))

        try:
            await asyncio.wait_for(channel.subscribe(on_state), JOIN_TIMEOUT_S)
            state = await asyncio.wait_for(joined, JOIN_TIMEOUT_S)
        except TimeoutError as exc:
            raise UpstreamUnavailable("Realtime did not answer the join; retry") from exc
        if state is not RealtimeSubscribeStates.SUBSCRIBED:
            if socket.channels.get(topic) is shared:
                del socket.channels[topic]
            await _quietly(socket.client.remove_channel(channel))
            if state is RealtimeSubscribeStates.CHANNEL_ERROR:
                raise NotFound("session not found")
            raise UpstreamUnavailable("Realtime closed the channel; retry")
        shared.channel = channel

    async def _connect(self, socket: _Socket, token: str) -> None:
        async with socket.ready:
            if socket.connected:
                return
            try:
                await asyncio.wait_for(socket.client.connect(), JOIN_TIMEOUT_S)
                await socket.client.set_auth(token)
            except Exception as exc:  # the socket did not open: the service is not there
                raise UpstreamUnavailable("Realtime is unreachable; retry") from exc
            socket.connected = True

    async def close(self) -> None:
        for socket in list(self._sockets.values()):
            await _quietly(socket.client.close())
        self._sockets.clear()


async def _give_up(shared: _Channel) -> None:
    await asyncio.sleep(REJOIN_S)
    if not shared.lost.done():
        shared.lost.set_result(
            UpstreamUnavailable("Realtime has been unreachable too long; subscribe again")
        )


def _heard(sink: ChangeSink, message: Any) -> None:
    change = change_of(message.get("payload") if isinstance(message, dict) else None)
    if change is not None:
        sink.publish(change)


async def _quietly(closing: Any) -> None:
    try:
        await closing
    except Exception:
        logger.debug("leaving a Realtime channel failed", exc_info=True)
