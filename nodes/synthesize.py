"""The synthesize node: turns the finished board into the run's answer, whatever the status."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes import StateNode
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.events import annotate_trace, emit
from orchestrator.planning import SynthesisView
from state import FinalStatus, OrchestratorState


def _final_status(state: OrchestratorState) -> FinalStatus:
    status = state.get("status")
    if status in ("completed", "partial", "failed"):
        return status
    # Reaching synthesize while still "running" would be a routing bug: say so, do not hide it.
    return "failed"


def make_synthesize(domain: Domain) -> StateNode:
    async def synthesize(state: OrchestratorState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        status = _final_status(state)
        info = runtime.execution_info
        annotate_trace(thread_id=info.thread_id if info else None, round=state.get("round", 0))
        view = SynthesisView(
            goal=state["goal"],
            request=state.get("request"),
            tasks=state.get("tasks") or {},
            results=state.get("results") or {},
            log=list(state.get("log") or []),
            usage=list(state.get("usage") or []),
            status=status,
            reason=state.get("reason") or "",
            context=ctx,
            notes=state.get("notes") or {},
        )
        answer, usage = await domain.synthesizer(ctx).synthesize(view)
        emit(
            runtime.stream_writer,
            "run_finished",
            status=answer["status"],
            reason=answer["reason"],
            round=state.get("round", 0),
        )
        update: dict[str, Any] = {
            "answer": answer,
            "status": answer["status"],
            "reason": answer["reason"],
        }
        if usage:
            update["usage"] = usage
        return update

    return synthesize
