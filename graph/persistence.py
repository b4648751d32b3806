"""Checkpointer wiring: an SQLite file by default, PostgreSQL when given a postgres URI.

A store that cannot be used (a damaged or unreadable file, a directory, an unknown scheme, an
empty URI, a server that does not answer) ends in `StoreError`: one line naming the file or the
URI, password masked, and what to do. No connection is left open behind it: an aiosqlite
connection runs a non-daemon thread, so one left open keeps the process alive forever.

`hold_thread` makes one thread hold one run at a time, across processes: an exclusive `flock`
per (store, thread) under `<data dir>/locks/`, plus a PostgreSQL advisory lock when the store is
PostgreSQL, so processes on other hosts are kept out too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from orchestrator.redact import redact_text, redact_url

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CHECKPOINTER_ENV = "ORCHESTRATOR_CHECKPOINTER"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 5
"""Seconds to wait for a PostgreSQL server before giving up (unless the URI sets its own)."""
LOCKS_DIR = "locks"
LOCK_ATTEMPTS = 20

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")
_URI_EXAMPLE = "postgresql://HOST:5432/DB"
_STORE_HELP = f"give an SQLite file path or a URI like {_URI_EXAMPLE}"


class StoreError(Exception):
    """A checkpoint store or data directory that cannot be used; the message says which and why."""


class ThreadBusy(StoreError):
    """Another process is running this thread right now."""


def is_postgres(target: str) -> bool:
    return target.startswith(("postgres://", "postgresql://"))


def describe_target(target: str) -> str:
    """The target as it may be shown: a URI with its password masked, a path as it is."""
    return redact_url(target) if is_postgres(target) else target


def check_target(target: str) -> str:
    """`target` when it can name a store: a file path or a complete postgres URI.

    Refuses (`StoreError`) an empty target, an unknown scheme (`mysql://x` would otherwise become
    a folder named `mysql:`) and a postgres URI that names neither a server nor a database (libpq
    would silently fill in its defaults).
    """
    if not target.strip():
        raise StoreError(f"the checkpoint store is empty: {_STORE_HELP}")
    if is_postgres(target):
        from psycopg import Error
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(target)
        except Error as exc:
            raise StoreError(
                f"{redact_url(target)} is not a valid PostgreSQL URI ({_reason(exc)}): "
                f"write it like {_URI_EXAMPLE}"
            ) from None
        if not any(params.get(k) for k in ("host", "hostaddr", "dbname")):
            raise StoreError(
                "the PostgreSQL URI names no server and no database (libpq would guess them): "
                f"write it in full, e.g. {_URI_EXAMPLE}"
            )
        return target
    scheme = _SCHEME.match(target)
    if scheme:
        raise StoreError(
            f"unknown checkpoint store {redact_url(target)!r} (scheme {scheme.group(1)!r}): "
            + _STORE_HELP
        )
    return target


def resolve_target(target: str | None, data_dir: str) -> str:
    """The explicit target, else `$ORCHESTRATOR_CHECKPOINTER`, else a file in `data_dir`.

    Checked (`check_target`) before anything is opened or written.
    """
    default = str(Path(data_dir) / "checkpoints.sqlite")
    return check_target(target or os.environ.get(CHECKPOINTER_ENV) or default)


def _reason(exc: BaseException) -> str:
    """The first line of an error's message, credentials masked."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        first = exc.strerror
    return redact_text(first)


def _sqlite_error(path: str, exc: BaseException) -> StoreError:
    reason = _reason(exc)
    lowered = reason.lower()
    if any(s in lowered for s in ("not a database", "malformed", "corrupt")):
        advice = (
            "it is damaged or not a checkpoint database: restore it from a backup, or move it "
            "away to start afresh (its runs are then lost)"
        )
    elif any(s in lowered for s in ("readonly", "read-only", "permission", "unable to open")):
        advice = "make the file and its directory writable, or point --checkpointer elsewhere"
    else:
        advice = "check the file and the disk, or point --checkpointer elsewhere"
    return StoreError(f"cannot use the checkpoint database {path} ({reason}): {advice}")


def _prepare_sqlite_path(path: str) -> None:
    file = Path(path)
    if file.is_dir():
        raise StoreError(
            f"the checkpoint store {path} is a directory: give a file path, "
            f"e.g. {file / 'checkpoints.sqlite'}"
        )
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the directory {file.parent} for the checkpoint database "
            f"({_reason(exc)}): point ORCHESTRATOR_HOME, --data-dir or --checkpointer at a "
            "writable place"
        ) from None


async def connect_sqlite(path: str) -> aiosqlite.Connection:
    """An SQLite connection that waits for locks instead of failing with 'database is locked'.

    Raises `StoreError` for a path that cannot hold a database, with nothing left open.
    """
    _prepare_sqlite_path(path)
    try:
        conn = await aiosqlite.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc) from None
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous=NORMAL")
    except BaseException as exc:
        await conn.close()  # else its thread keeps the process alive
        if isinstance(exc, sqlite3.Error):
            raise _sqlite_error(path, exc) from None
        raise
    return conn


async def connect_postgres(target: str, **options: Any) -> AsyncConnection[Any]:
    """A connection to `target` with a connect timeout; `StoreError` when it cannot be made."""
    from psycopg import AsyncConnection, Error
    from psycopg.conninfo import conninfo_to_dict

    check_target(target)
    if "connect_timeout" not in conninfo_to_dict(target):
        options["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    try:
        return await AsyncConnection.connect(target, **options)
    except Error as exc:
        raise _postgres_error(target, exc) from None


def _postgres_error(target: str, exc: BaseException) -> StoreError:
    return StoreError(
        f"cannot use PostgreSQL at {redact_url(target)} ({_reason(exc)}): check that the server "
        "is up and reachable and that the user, password and database in the URI exist"
    )


@asynccontextmanager
async def open_checkpointer(target: str) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """An async checkpointer for `target` (a file path or a postgres URI), set up and ready.

    Raises `StoreError` when the store cannot be opened or set up; its connection is closed on
    every way out.
    """
    check_target(target)
    if is_postgres(target):
        async with _postgres_saver(target) as pg_saver:
            yield pg_saver
        return
    conn = await connect_sqlite(target)
    sqlite_saver = AsyncSqliteSaver(conn)
    try:
        try:
            await sqlite_saver.setup()
        except sqlite3.Error as exc:
            raise _sqlite_error(target, exc) from None
        yield sqlite_saver
    finally:
        await close_saver(sqlite_saver)


@asynccontextmanager
async def _postgres_saver(target: str) -> AsyncIterator[BaseCheckpointSaver[str]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg import Error
    from psycopg.rows import dict_row

    conn = await connect_postgres(
        target, autocommit=True, prepare_threshold=0, row_factory=dict_row
    )
    try:
        saver = AsyncPostgresSaver(conn=conn)
        try:
            await saver.setup()
        except Error as exc:
            raise _postgres_error(target, exc) from None
        try:
            yield saver
        except Error as exc:
            # Only the checkpointer talks to PostgreSQL: the server went away mid-run, or
            # refused a write. What was checkpointed before stays; `resume` continues from it.
            raise StoreError(
                f"PostgreSQL at {redact_url(target)} failed during the run ({_reason(exc)}): "
                "check the server, then continue the run with `orchestrator resume THREAD`"
            ) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


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


# One run per thread -------------------------------------------------------------------------


def _store_identity(target: str) -> str:
    """What names the store in a lock: the absolute file, or the URI without its user info."""
    if is_postgres(target):
        parts = urlsplit(target)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(("postgresql", host, parts.path, "", ""))
    return str(Path(target).resolve())


def lock_path(target: str, thread_id: str, data_dir: str) -> Path:
    digest = hashlib.sha256(f"{_store_identity(target)}\0{thread_id}".encode()).hexdigest()
    return Path(data_dir) / LOCKS_DIR / f"{digest[:32]}.lock"


def _busy(thread_id: str, holder: str) -> ThreadBusy:
    return ThreadBusy(
        f"thread {thread_id} is being run by another process ({holder}); "
        "wait for it or use another --thread"
    )


@contextlib.contextmanager
def _file_lock(path: Path, thread_id: str) -> Iterator[None]:
    """An exclusive, non-blocking `flock` on `path`, removed again on release.

    Removing a lock file is safe only because a winner checks that the file it locked is still
    the one at `path` (a loser may have opened it just before the previous holder removed it).
    """
    for attempt in range(LOCK_ATTEMPTS):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and attempt < LOCK_ATTEMPTS - 1:
                continue  # the directory was removed by a holder leaving: make it again
            raise StoreError(
                f"cannot write in the data directory {path.parent.parent} ({_reason(exc)}): "
                "point ORCHESTRATOR_HOME or --data-dir at a writable directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise StoreError(f"cannot lock {path} ({_reason(exc)})") from None
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            raise _busy(thread_id, holder or "pid unknown") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # locked a file that was just removed: try the new one
    else:
        raise StoreError(f"cannot lock {path}: it keeps changing; try again")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when no other lock is held


def _advisory_key(thread_id: str) -> int:
    digest = hashlib.sha256(f"orchestrator-thread\0{thread_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def _advisory_lock(target: str, thread_id: str) -> AsyncIterator[None]:
    """A session-level `pg_try_advisory_lock` for the thread, held on its own connection."""
    me = f"orchestrator pid {os.getpid()} on {socket.gethostname()}"[:63]
    conn = await connect_postgres(target, autocommit=True, application_name=me)
    try:
        key = _advisory_key(thread_id)
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
        row = await cursor.fetchone()
        if not (row and row[0]):
            cursor = await conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid::bigint = %s AND l.objid::bigint = %s LIMIT 1",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            )
            holder = await cursor.fetchone()
            name = str(holder[0]) if holder and holder[0] else "on another host"
            raise _busy(thread_id, name.removeprefix("orchestrator "))
        yield
    finally:
        with contextlib.suppress(Exception):
            await conn.close()  # ends the session, which releases the lock


@asynccontextmanager
async def hold_thread(target: str, thread_id: str, data_dir: str) -> AsyncIterator[None]:
    """Holds `thread_id` of `target` for one run; `ThreadBusy` when another process holds it."""
    with _file_lock(lock_path(target, thread_id, data_dir), thread_id):
        if is_postgres(target):
            async with _advisory_lock(target, thread_id):
                yield
        else:
            yield
