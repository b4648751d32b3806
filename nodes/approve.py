"""The approval node: pauses before side effects and applies the human's decision.

It is a separate node, not part of `orchestrate`, so resuming a paused run replays only this
node: the planner (possibly an LLM) is not asked again. The pause survives process exits because
the interrupt is checkpointed like everything else.

Resume values (`Command(resume=...)`):
- `"approve"` or `{"decision": "approve"}`: run the tasks as shown.
- `{"decision": "reject", "reason": "..."}`: cancel them; the orchestrator re-plans.
- `{"decision": "edit", "drop": [task ids], "inputs": {task id: {field: value}}}`: drop some
  tasks and/or change some inputs (validated against the worker's schema), then run the rest.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from nodes import StateNode
from orchestrator import board
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.events import annotate_trace, emit
from state import LogEntry, OrchestratorState, Task


class ApprovalDecision(BaseModel):
    """A human's answer to an approval pause."""

    decision: Literal["approve", "reject", "edit"]
    reason: str = ""
    drop: list[str] = Field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any) -> ApprovalDecision:
        if raw is True or raw in ("approve", "yes", "y"):
            return cls(decision="approve")
        if raw is False or raw in ("reject", "no", "n"):
            return cls(decision="reject", reason="rejected")
        return cls.model_validate(raw)


def _apply_edit(
    decision: ApprovalDecision, batch: Mapping[str, Task], domain: Domain
) -> tuple[dict[str, Task], list[str]]:
    """The batch after the edit, or the reasons the edit cannot apply."""
    errors: list[str] = []
    unknown = [i for i in [*decision.drop, *decision.inputs] if i not in batch]
    if unknown:
        errors.append(f"not in this approval: {', '.join(unknown)} (choose from {list(batch)})")
        return {}, errors
    edited: dict[str, Task] = {}
    for task_id, task in batch.items():
        if task_id in decision.drop:
            continue
        patch = decision.inputs.get(task_id)
        if patch:
            spec = domain.workers[task["worker"]]
            try:
                merged = spec.input_model.model_validate({**task["inputs"], **patch})
            except ValidationError as exc:
                errors.append(f"{task_id}: {exc.errors()[0]['msg']}")
                continue
            task = {**task, "inputs": merged.model_dump(mode="json")}
        edited[task_id] = task
    return edited, errors


def make_approve(domain: Domain) -> StateNode:
    async def approve(state: OrchestratorState, runtime: Runtime[Context]) -> dict[str, Any]:
        pending = state.get("approval") or {}
        tasks = state.get("tasks") or {}
        batch = {i: tasks[i] for i in pending.get("task_ids", []) if i in tasks}
        round_no = state.get("round", 0)
        info = runtime.execution_info
        annotate_trace(thread_id=info.thread_id if info else None, round=round_no)
        question: dict[str, Any] = {"kind": "approval", **pending}
        while True:
            raw = interrupt(question)
            try:
                decision = ApprovalDecision.parse(raw)
            except ValidationError as exc:
                question = {**question, "error": f"unreadable decision: {exc.errors()[0]['msg']}"}
                continue
            if decision.decision != "edit":
                break
            edited, errors = _apply_edit(decision, batch, domain)
            if not errors:
                break
            question = {**question, "error": "; ".join(errors)}

        emit(runtime.stream_writer, "approval_given", round=round_no, decision=decision.decision)
        update: dict[str, Any] = {"approval": None, "status": "running", "dispatch": []}
        if decision.decision == "reject":
            why = decision.reason or "no reason given"
            update["tasks"] = {i: {**t, "status": "cancelled"} for i, t in batch.items()}
            update["log"] = [
                LogEntry(round=round_no, kind="approval", message=f"rejected by user: {why}")
            ]
            return update
        keep = batch if decision.decision == "approve" else edited
        dropped = {i: {**t, "status": "cancelled"} for i, t in batch.items() if i not in keep}
        running = board.mark_dispatched(keep.values(), time.time())
        for task_id, task in running.items():
            emit(
                runtime.stream_writer,
                "task_dispatched",
                round=round_no,
                task_id=task_id,
                worker=task["worker"],
            )
        message = f"approved: {', '.join(keep) or 'nothing'}"
        if dropped:
            message += f"; dropped: {', '.join(dropped)}"
        scope = state.get("scope", "")
        update.update(
            tasks={**dropped, **running},
            dispatch=[board.payload(t, scope=scope, round_no=round_no) for t in running.values()],
            log=[LogEntry(round=round_no, kind="approval", message=message)],
        )
        return update

    return approve
