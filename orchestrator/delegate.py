"""Recursive delegation: a worker that is itself an orchestrator, with its own goal and pool.

The sub-orchestrator is the same graph, compiled without a checkpointer, so when it runs inside a
worker node it becomes a subgraph of the caller: its checkpoints nest under the caller's thread,
a crash resumes it where it stopped, and its approval pauses bubble up to the caller.

Delegation is bounded (`orchestrator.budgets`): the sub-run is one level deeper
(`Context.depth`), refused beyond `Context.max_depth`, and runs within the task's share of the
caller's budgets; what it spent is charged to the task. A domain can delegate to a clone of
itself: pass a function returning the domain, called when the first task runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.budgets import charge_sub_run, sub_context
from orchestrator.domain import Domain
from orchestrator.metering import unmetered
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec

SUB_RUN_KEYS = ("status", "reason", "claim", "answer", "usage", "first_round", "round")
"""What the worker reads of its sub-run's final state."""


def why_it_ended(values: Mapping[str, Any]) -> str:
    """`<status>: <reason>` of a sub-run, and what stopped it when its verifier's verdict says
    something else (a budget that ran out, say, under "nothing is booked")."""
    reason = str(values.get("reason"))
    text = f"{values.get('status')}: {reason}"
    claim = values.get("claim") or {}
    stopped = str(claim.get("reason") or "") if isinstance(claim, Mapping) else ""
    if stopped and stopped not in reason:
        text += f" (it stopped because {stopped})"
    return text


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
    spent: dict[str, Any] = Field(
        default_factory=dict,
        description="What the sub-run spent (`UsageTotals.as_dict`), charged to this task.",
    )


def delegate_worker(
    domain: Domain | Callable[[], Domain],
    *,
    name: str = "delegate",
    description: str | None = None,
    fail_unless_completed: bool = True,
) -> WorkerSpec[DelegateInput, DelegateOutput]:
    """A worker that runs a whole sub-orchestration for `domain` and reports its answer.

    `domain` may be a function returning it, for a domain whose workers include this one (an
    orchestrator that delegates to clones of itself): it is called, and the sub-orchestrator
    compiled, when the first task runs."""
    from graph.builder import Graph, build_graph

    compiled: list[Graph] = []

    def sub_graph() -> Graph:
        if not compiled:
            of = domain if isinstance(domain, Domain) else domain()
            compiled.append(build_graph(of, name=f"{name}-{of.name}"))
        return compiled[0]

    if isinstance(domain, Domain):
        sub_graph()  # at once: a domain that cannot be built fails here, not in a run
    kind = f"a {domain.name}" if isinstance(domain, Domain) else "a"

    async def run(inputs: DelegateInput, call: WorkerCall) -> DelegateOutput:
        context = sub_context(call.context, call.budget)  # TaskFailed past a limit
        scope = f"{call.scope}{call.task_id}/"
        # The sub-run records its own usage: the task is charged from those records, once.
        with unmetered():
            final = await sub_graph().ainvoke(
                {"goal": inputs.goal, "request": inputs.request, "scope": scope},
                context=context,
                output_keys=list(SUB_RUN_KEYS),
            )
        spent = charge_sub_run(final)
        answer = final.get("answer") or {}
        out = DelegateOutput(
            status=str(final.get("status")),
            reason=str(final.get("reason")),
            summary=str(answer.get("summary", "")),
            data=dict(answer.get("data", {})),
            spent=spent.as_dict(),
        )
        if fail_unless_completed and out.status != "completed":
            raise TaskFailed(f"sub-orchestrator ended {why_it_ended(final)}")
        return out

    return WorkerSpec(
        name=name,
        description=description or f"Hands a whole sub-goal to {kind} sub-orchestrator.",
        input_model=DelegateInput,
        output_model=DelegateOutput,
        run=run,
        # Handing over a sub-goal changes nothing by itself: the sub-orchestrator's own approval
        # node gates its side effects, where it can show exactly what will be booked.
        side_effects=False,
        timeout_s=600.0,
        max_attempts=1,
        summarize=lambda out: f"{out.status}: {out.reason}",
        delegates=True,
    )
