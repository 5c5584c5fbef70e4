"""The Postgres backend's change source: one LISTEN connection per gateway process.

Not a pooled connection: asyncpg's pool reset runs `UNLISTEN *`. When the connection
drops (Postgres restarted, the network went away) it reconnects with backoff, and tells
the sink it recovered: whatever was announced meanwhile was never heard, so every live
subscription re-reads what it follows.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from graph.live.changes import ChangeSink, ChangeSource, parse_announcement

logger = logging.getLogger(__name__)

CHANNEL = "session_graph_events"  # migrations/0011_session_events.sql
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


def listening(dsn: str) -> ChangeSource:
    async def run(sink: ChangeSink) -> None:
        backoff, connected_before = FIRST_BACKOFF_S, False
        while True:
            try:
                conn = await asyncpg.connect(
                    dsn, server_settings={"application_name": "session-graph-listen"}
                )
            except Exception as exc:
                logger.warning("cannot LISTEN (%s); retry in %.1f s", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            lost = asyncio.Event()
            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, text: _heard(sink, text))
                if connected_before:
                    logger.info("LISTEN connection back; live subscriptions re-read")
                    sink.recovered()
                connected_before, backoff = True, FIRST_BACKOFF_S
                await _until_lost(conn, lost)
            except Exception as exc:
                logger.warning("LISTEN connection failed: %s", type(exc).__name__)
            finally:
                if not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    return run


def _heard(sink: ChangeSink, payload: str) -> None:
    change = parse_announcement(payload)
    if change is not None:
        sink.publish(change)


async def _until_lost(conn: asyncpg.Connection, lost: asyncio.Event) -> None:
    """Returns when the connection is gone. A quiet connection is probed now and then:
    a host that vanished sends no FIN, and only a query finds out."""
    while True:
        try:
            await asyncio.wait_for(lost.wait(), timeout=10)
            return
        except TimeoutError:
            await asyncio.wait_for(conn.fetchval("select 1"), timeout=5)
