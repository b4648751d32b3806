"""Route functions: where the run goes after the orchestrator and after an approval.

They are async although they do no I/O: LangGraph runs a sync route in its thread pool, and that
hop was measured at about 0.14 ms per round (bench B1), a tenth of the framework's own cost.
"""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from state import OrchestratorState, WorkerPayload


def _sends(state: OrchestratorState) -> list[Send]:
    tasks = state.get("tasks") or {}
    sends = []
    for task_id in state.get("dispatch") or []:
        task = tasks[task_id]
        payload = WorkerPayload(
            task_id=task_id,
            worker=task["worker"],
            inputs=task["inputs"],
            attempt=task["attempts"],
            scope=state.get("scope", ""),
            round=state.get("round", 0),
        )
        sends.append(Send(task["worker"], payload))
    return sends


async def route_after_orchestrate(
    state: OrchestratorState,
) -> list[Send] | Literal["approve", "synthesize"]:
    """Every ready task to its worker in one superstep, else approval, else the answer."""
    status = state.get("status")
    if status == "awaiting_approval":
        return "approve"
    if status != "running":
        return "synthesize"
    return _sends(state)


async def route_after_approve(state: OrchestratorState) -> list[Send] | Literal["orchestrate"]:
    """The approved tasks to their workers, or back to the orchestrator after a rejection."""
    return _sends(state) or "orchestrate"
