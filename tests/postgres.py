"""The PostgreSQL server the tests use, and what happens when it is down.

Locally an unreachable server skips the test. Under CI (`CI=true`) it fails it, so a broken
database can never pass as green; `.ci/run` starts the server before the suite.

The tests share the server's database, and pytest-xdist runs them in several processes at once:
the first use of a database sets up its checkpoint tables once, under an advisory lock, so two
processes never run LangGraph's migrations side by side on an empty database.
"""

from __future__ import annotations

import os

import psycopg
import pytest

POSTGRES_URI = os.environ.get(
    "ORCHESTRATOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
_SETUP_LOCK = 0x6F72_6368_7465_7374  # any constant: the advisory lock the set-up is done under
_set_up: set[str] = set()


def require_postgres(uri: str = POSTGRES_URI) -> str:
    """`uri` when the server there answers; else skips the test, or fails it under CI."""
    try:
        with psycopg.connect(uri, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"PostgreSQL at {uri} is unreachable: {type(exc).__name__}: {exc}".strip()
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI requires it; .ci/run starts it)")
        pytest.skip(message)
    if uri not in _set_up:
        _set_up_checkpoints(uri)
        _set_up.add(uri)
    return uri


def _set_up_checkpoints(uri: str) -> None:
    """LangGraph's checkpoint tables in `uri`'s database, made (or migrated) by one process at a
    time; a no-op once they are there."""
    from langgraph.checkpoint.postgres import PostgresSaver

    with psycopg.connect(uri, autocommit=True, connect_timeout=3) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
        try:
            with PostgresSaver.from_conn_string(uri) as saver:
                saver.setup()
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
