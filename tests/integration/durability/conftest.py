"""Checkpoint stores for the durability tests: an SQLite file, and the real PostgreSQL server.

Under CI (`CI=true`) an unreachable PostgreSQL fails these tests instead of skipping them, so a
broken database can never pass as green.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.postgres import require_postgres


@pytest.fixture(scope="session")
def postgres_uri() -> str:
    return require_postgres()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def checkpointer_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's checkpoints go: each test runs once per store."""
    if request.param == "sqlite":
        return str(tmp_path / "checkpoints.sqlite")
    uri: str = request.getfixturevalue("postgres_uri")
    return uri
