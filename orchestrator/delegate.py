"""Recursive delegation: a worker that is itself an orchestrator, with its own goal and pool.

The sub-orchestrator is the same graph, compiled without a checkpointer, so when it runs inside a
worker node it becomes a subgraph of the caller: its checkpoints nest under the caller's thread,
a crash resumes it where it stopped, and its approval pauses bubble up to the caller.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from orchestrator.domain import Domain
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec


class DelegateInput(BaseModel):
    goal: str = Field(description="The sub-goal to hand to the sub-orchestrator.")
    request: dict[str, Any] | None = Field(
        default=None, description="Structured form of the sub-goal, for its planner."
    )


class DelegateOutput(BaseModel):
    status: str
    reason: str
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


def delegate_worker(
    domain: Domain,
    *,
    name: str = "delegate",
    description: str | None = None,
    fail_unless_completed: bool = True,
) -> WorkerSpec[DelegateInput, DelegateOutput]:
    """A worker that runs a whole sub-orchestration for `domain` and reports its answer."""
    from graph.builder import build_graph

    sub = build_graph(domain, name=f"{name}-{domain.name}")

    async def run(inputs: DelegateInput, call: WorkerCall) -> DelegateOutput:
        scope = f"{call.scope}{call.task_id}/"
        final = await sub.ainvoke(
            {"goal": inputs.goal, "request": inputs.request, "scope": scope},
            context=call.context,
        )
        answer = final.get("answer") or {}
        out = DelegateOutput(
            status=str(final.get("status")),
            reason=str(final.get("reason")),
            summary=str(answer.get("summary", "")),
            data=dict(answer.get("data", {})),
        )
        if fail_unless_completed and out.status != "completed":
            raise TaskFailed(f"sub-orchestrator ended {out.status}: {out.reason}")
        return out

    return WorkerSpec(
        name=name,
        description=description or f"Hands a whole sub-goal to a {domain.name} sub-orchestrator.",
        input_model=DelegateInput,
        output_model=DelegateOutput,
        run=run,
        # Handing over a sub-goal changes nothing by itself: the sub-orchestrator's own approval
        # node gates its side effects, where it can show exactly what will be booked.
        side_effects=False,
        timeout_s=600.0,
        max_attempts=1,
        summarize=lambda out: f"{out.status}: {out.reason}",
    )
