"""Fixtures for the core tests: a hermetic environment, checkpointers and a serde watcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.event_hooks import register_serde_event_listener

from graph.persistence import open_checkpointer


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`Context()` reads defaults from the environment: keep the developer's settings out."""
    for name in (
        "ORCHESTRATOR_PLANNER",
        "ORCHESTRATOR_PLANNER_MODEL",
        "ORCHESTRATOR_SYNTHESIZER_MODEL",
        "ORCHESTRATOR_CHECKPOINTER",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "home"))


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    return str(tmp_path / "c.sqlite")


@pytest.fixture
async def sqlite_saver(sqlite_path: str) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """The project's own SQLite file checkpointer (`graph.persistence.open_checkpointer`)."""
    async with open_checkpointer(sqlite_path) as saver:
        yield saver


@pytest.fixture
def memory_saver() -> InMemorySaver:
    return InMemorySaver()


@pytest.fixture
def serde_events() -> Iterator[list[dict[str, Any]]]:
    """Every serializer event (e.g. 'msgpack_unregistered_allowed') raised during the test.

    LangGraph reports unregistered types through a logger and warns only once per process, so
    the event hook is the reliable way to see them.
    """
    seen: list[dict[str, Any]] = []
    unregister = register_serde_event_listener(lambda event: seen.append(dict(event)))
    yield seen
    unregister()
