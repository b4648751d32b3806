"""The synthesize node: turns the finished board into the run's answer, whatever the status."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes import StateNode
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.events import annotate_trace, emit
from orchestrator.planning import SynthesisView
from orchestrator.verification import Claim, Verdict, view_for
from state import FinalStatus, LogEntry, OrchestratorState


def _final_status(status: object) -> FinalStatus:
    if status == "completed" or status == "partial" or status == "failed":
        return status
    # Reaching synthesize while still "running" would be a routing bug: say so, do not hide it.
    return "failed"


def make_synthesize(domain: Domain) -> StateNode:
    async def synthesize(state: OrchestratorState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        info = runtime.execution_info
        thread_id = (info.thread_id if info else None) or ""
        annotate_trace(thread_id=thread_id or None, round=state.get("round", 0))
        claimed = state.get("claim") or {}
        claim = Claim(
            status=_final_status(claimed.get("status", state.get("status"))),
            reason=claimed.get("reason", state.get("reason") or ""),
        )
        status, reason = claim.status, claim.reason
        verdict: Verdict | None = None
        log: list[LogEntry] = []
        if domain.verifier is not None:
            tasks = state.get("tasks") or {}
            checked = view_for(
                state=state, tasks=tasks, context=ctx, thread_id=thread_id, claim=claim
            )
            verdict = await domain.verifier(ctx).verify(checked)
            status, reason = verdict.status, verdict.reason
            log.append(
                LogEntry(
                    round=state.get("round", 0),
                    kind="info",
                    message=f"verified: {verdict.status} - {verdict.reason}",
                    data={"verdict": verdict.as_dict(), "claim": claim.status},
                )
            )
        view = SynthesisView(
            goal=str(state.get("goal") or ""),
            request=state.get("request"),
            tasks=state.get("tasks") or {},
            results=state.get("results") or {},
            log=list(state.get("log") or []),
            usage=list(state.get("usage") or []),
            status=status,
            reason=reason,
            context=ctx,
            notes=state.get("notes") or {},
            verdict=verdict,
            claim=claim,
        )
        answer, usage = await domain.synthesizer(ctx).synthesize(view)
        if verdict is not None:
            # No synthesizer (an LLM's prose included) may restate the outcome: it is the verdict.
            answer = {**answer, "status": verdict.status, "reason": verdict.reason}
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
        if log:
            update["log"] = log
        return update

    return synthesize
