"""Checkpointer wiring: an SQLite file by default, PostgreSQL when given a postgres URI."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

CHECKPOINTER_ENV = "ORCHESTRATOR_CHECKPOINTER"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_postgres(target: str) -> bool:
    return target.startswith(("postgres://", "postgresql://"))


def resolve_target(target: str | None, data_dir: str) -> str:
    """The explicit target, else `$ORCHESTRATOR_CHECKPOINTER`, else a file in `data_dir`."""
    return target or os.environ.get(CHECKPOINTER_ENV) or str(Path(data_dir) / "checkpoints.sqlite")


async def connect_sqlite(path: str) -> aiosqlite.Connection:
    """An SQLite connection that waits for locks instead of failing with 'database is locked'."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return conn


@asynccontextmanager
async def open_checkpointer(target: str) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """An async checkpointer for `target` (a file path or a postgres URI), set up and ready."""
    if is_postgres(target):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(target) as saver:
            await saver.setup()
            yield saver
        return
    conn = await connect_sqlite(target)
    sqlite_saver = AsyncSqliteSaver(conn)
    try:
        await sqlite_saver.setup()
        yield sqlite_saver
    finally:
        await close_saver(sqlite_saver)


async def close_saver(saver: AsyncSqliteSaver) -> None:
    """Closes the saver's connection once the write in progress, if any, has committed.

    A cancelled run leaves LangGraph's background checkpoint writes going on. Closed between
    such a write's INSERT and its COMMIT, the connection stayed alive inside SQLite, its
    transaction open, until the garbage collector freed the write's task; meanwhile every other
    writer of the file waited out `busy_timeout` and failed with 'database is locked' (one run
    in about fifty of a crash-and-resume test). The saver holds its lock from a write to its
    commit, so closing under that lock waits for it. Writes that arrive later fail on the
    closed connection, as they would after a crash.
    """
    async with saver.lock:
        await saver.conn.close()
