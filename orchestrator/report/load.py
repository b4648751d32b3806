"""Reading a run's report from its checkpoints: the latest state plus when each step ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START
from langgraph.pregel import Pregel
from langgraph.types import StateSnapshot

from orchestrator.report.model import ORCHESTRATOR_NODES, Checkpoint, RunReport, build_report


class UnknownRun(LookupError):
    """The thread holds no run."""


def checkpoint_of(snapshot: StateSnapshot) -> Checkpoint:
    """The times and dispatches the report needs from one history entry."""
    values: dict[str, Any] = dict(snapshot.values or {})
    tasks = values.get("tasks") or {}
    sends_work = any(n not in ORCHESTRATOR_NODES and n != START for n in snapshot.next)
    dispatch = tuple(
        (p["task_id"], int(p["attempt"]))
        for p in (values.get("dispatch") or [])
        if sends_work and p["task_id"] in tasks
    )
    at = datetime.fromisoformat(snapshot.created_at).timestamp() if snapshot.created_at else 0.0
    return Checkpoint(
        at=at, next=tuple(snapshot.next), round=int(values.get("round") or 0), dispatch=dispatch
    )


async def load_report(graph: Pregel[Any, Any, Any, Any], thread_id: str) -> RunReport:
    """The report of the run on `thread_id`, from the graph's checkpointer.

    Reads the whole history of the thread once (the checkpoint times give the rounds' spans).
    """
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    snapshot = await graph.aget_state(config)
    if not snapshot.values:
        raise UnknownRun(f"no run named {thread_id!r}")
    history = [checkpoint_of(s) async for s in graph.aget_state_history(config)]
    history.reverse()
    return build_report(dict(snapshot.values), thread_id=thread_id, checkpoints=history)
