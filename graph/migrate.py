"""Applies migrations/NNNN_name.sql in order, each in its own transaction.

Applied files are recorded in session_graph.schema_migrations with a sha256 of their
text. A recorded file whose text changed, or a recorded file this checkout does not
have, stops the run before anything is applied: migrations only go forward, and an
applied one is never edited (write a new one instead).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
_LOCK_KEY = 0x5E55_1016  # pg_advisory_lock key: one migrator at a time


class MigrationError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_dir() -> Path:
    """migrations/ beside the package in a checkout; packaged copy in a wheel."""
    packaged = Path(__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "migrations"


def load_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or migrations_dir()
    files = sorted(p for p in directory.iterdir() if p.suffix == ".sql")
    bad = [p.name for p in files if not _NAME.match(p.name)]
    if bad:
        raise MigrationError(f"migration files must be named NNNN_name.sql: {', '.join(bad)}")
    return [Migration(p.name, p.read_text()) for p in files]


async def migrate(dsn: str, directory: Path | None = None) -> list[str]:
    """Apply what is pending; return the names applied (empty when up to date)."""
    migrations = load_migrations(directory)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
        try:
            return await _apply_pending(conn, migrations)
        finally:
            await conn.execute("select pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()


async def _apply_pending(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    await conn.execute(
        """
        create schema if not exists session_graph;
        create table if not exists session_graph.schema_migrations (
          name       text primary key,
          checksum   text not null,
          applied_at timestamptz not null default now()
        );
        """
    )
    rows = await conn.fetch("select name, checksum from session_graph.schema_migrations")
    applied = {row["name"]: row["checksum"] for row in rows}
    known = {m.name: m for m in migrations}

    unknown = sorted(set(applied) - set(known))
    if unknown:
        raise MigrationError(
            f"the database has migrations this checkout does not: {', '.join(unknown)}"
        )
    edited = [m.name for m in migrations if m.name in applied and applied[m.name] != m.checksum]
    if edited:
        raise MigrationError(
            f"applied migrations were edited: {', '.join(edited)}; "
            "add a new migration instead of changing an applied one"
        )

    done: list[str] = []
    for migration in migrations:
        if migration.name in applied:
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "insert into session_graph.schema_migrations (name, checksum) values ($1, $2)",
                migration.name,
                migration.checksum,
            )
        logger.info("applied migration %s", migration.name)
        done.append(migration.name)
    return done
