"""The PostgreSQL server the tests use, and what happens when it is down.

Locally an unreachable server skips the test. Under CI (`CI=true`) it fails it, so a broken
database can never pass as green; `.ci/run` starts the server before the suite.
"""

from __future__ import annotations

import os

import psycopg
import pytest

POSTGRES_URI = os.environ.get(
    "ORCHESTRATOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


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
    return uri
