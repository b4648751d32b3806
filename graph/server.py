"""Persistence for the LangGraph server (`checkpointer.path` in langgraph.json).

The server enters `checkpointer()` once at start-up and leaves it at shutdown; every run, state
read and history call then goes through the saver it yields (`langgraph dev` logs "Using custom
checkpointer: AsyncSqliteSaver").

- `$ORCHESTRATOR_CHECKPOINTER` set: that PostgreSQL URI or SQLite path, used as given.
- Otherwise: `<data dir>/server-checkpoints.sqlite`. Not the CLI's `checkpoints.sqlite`: the
  server only knows threads created through its API, so the two never share threads anyway.

Only checkpoints live here. `langgraph dev` keeps its thread and run registry in
`./.langgraph_api/` (a pickle written every 10 s and at a clean shutdown); see the README's
"Durability" notes for what that means after a crash.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from graph.history_saver import fast_history
from graph.persistence import CHECKPOINTER_ENV, is_postgres, open_checkpointer
from orchestrator.context import default_data_dir
from orchestrator.redact import redact_url

SERVER_CHECKPOINTS = "server-checkpoints.sqlite"

log = logging.getLogger(__name__)


def server_target() -> str:
    """Where the server keeps checkpoints: the environment's choice, else the data directory."""
    return os.environ.get(CHECKPOINTER_ENV) or str(Path(default_data_dir()) / SERVER_CHECKPOINTS)


def describe_target(target: str) -> str:
    """The target without its password (user info or query), fit for a log line."""
    return redact_url(target) if is_postgres(target) else target


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[str]]:
    target = server_target()
    log.info("server checkpoints: %s", describe_target(target))
    async with open_checkpointer(target) as saver:
        yield fast_history(saver)  # history in linear time: graph/history_saver.py
