"""Persistence for the LangGraph server (`checkpointer.path` in langgraph.json).

Async SQLite in the data directory by default; PostgreSQL when `ORCHESTRATOR_CHECKPOINTER` is a
postgres URI. The server enters this context once at start-up and exits it at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from graph.persistence import open_checkpointer, resolve_target
from orchestrator.context import default_data_dir


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[str]]:
    target = resolve_target(None, default_data_dir())
    if not target.startswith(("postgres://", "postgresql://")):
        target = str(Path(target).with_name("server-checkpoints.sqlite"))
    async with open_checkpointer(target) as saver:
        yield saver
