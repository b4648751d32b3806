"""Graph nodes: one module per node kind (orchestrate, approve, synthesize, the worker nodes)."""

from __future__ import annotations

from typing import Any, Protocol

from langgraph.runtime import Runtime

from orchestrator.context import Context
from state import OrchestratorState


class StateNode(Protocol):
    """A node over the whole state, as LangGraph calls it (runtime passed by keyword)."""

    async def __call__(
        self, state: OrchestratorState, *, runtime: Runtime[Context]
    ) -> dict[str, Any]: ...
