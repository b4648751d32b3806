"""Checkpoint stores for the durability tests: an SQLite file, and the real PostgreSQL server.

Under CI (`CI=true`) an unreachable PostgreSQL fails these tests instead of skipping them, so a
broken database can never pass as green.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

POSTGRES_URI = os.environ.get(
    "ORCHESTRATOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_reachable() -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(POSTGRES_URI, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_uri() -> str:
    problem = postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URI} is unreachable: {problem}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI requires it; .ci/run starts it)")
        pytest.skip(message)
    return POSTGRES_URI


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def checkpointer_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's checkpoints go: each test runs once per store."""
    if request.param == "sqlite":
        return str(tmp_path / "checkpoints.sqlite")
    uri: str = request.getfixturevalue("postgres_uri")
    return uri
