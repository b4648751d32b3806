"""The approval node: pauses before side effects and applies the human's decision.

It is a separate node, not part of `orchestrate`, so resuming a paused run replays only this
node: the planner (possibly an LLM) is not asked again. The pause survives process exits because
the interrupt is checkpointed like everything else.

Resume values (`Command(resume=...)`):
- `"approve"` or `{"decision": "approve"}`: run the tasks as shown.
- `{"decision": "reject", "reason": "..."}`: cancel them; the orchestrator re-plans.
- `{"decision": "edit", "drop": [task ids], "inputs": {task id: {field: value}}}`: drop some
  tasks and/or change some inputs (validated against the worker's schema), then run the rest.
  An item whose `requires` (in the question) names a dropped task is dropped with it.
  When the question's item for a task lists `alternatives` (`[{item_id, label, price}]`), its
  `item_id` can only become the planned one or a listed alternative's, and its `label` and `price`
  are the chosen option's, whatever the caller sent: an edit cannot book an arbitrary item. Such
  an item's other inputs (a quantity, a kind) cannot be edited at all.

An answer that cannot apply is not applied: the question is asked again with an `error`.

What is released is what the question showed: every field of a question's item that names one of
its task's inputs (or `inputs`, `worker`, `action`) must still match the task on the board, and
every task must still be pending. A batch that no longer matches (the board was written since the
question was asked) is not released: its tasks are cancelled with one log line saying which
fields changed, and the orchestrator plans again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from nodes import StateNode
from orchestrator import board, budgets
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


CHOICE_FIELDS = ("label", "price")
"""Inputs that follow the chosen option of an item that lists alternatives."""
CHOICE = "item_id"
"""The one input an edit may change on an item that lists alternatives."""
WORKER_FIELDS = ("worker", "action")
"""Question fields that name the task's worker."""


def _unlike_shown(task: Task | None, item: Mapping[str, Any] | None) -> list[str]:
    """The fields in which a task on the board differs from its item in the question."""
    if task is None:
        return ["not on the board"]
    if task.get("status") != "pending":
        return [f"status {task.get('status')!r}"]
    if item is None:
        return []
    inputs = task.get("inputs") or {}
    changed = []
    for key, shown in item.items():
        if key in WORKER_FIELDS:
            now: Any = task.get("worker")
        elif key == "inputs":
            now = inputs
        elif key in inputs:
            now = inputs[key]
        else:
            continue
        if now != shown:
            changed.append(key)
    return changed


def changed_since_asked(
    task_ids: list[Any], tasks: Mapping[str, Task], items: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """`task id (fields)` for each task of the batch that is not as the question showed it."""
    return [
        f"{task_id} ({', '.join(diff)})"
        for task_id in task_ids
        if (diff := _unlike_shown(tasks.get(str(task_id)), items.get(str(task_id))))
    ]


def _choose(
    task: Task, item: Mapping[str, Any] | None, patch: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The patch with the chosen option's label and price, or why the choice is not offered.

    Only for items that list `alternatives`; any other patch is returned as it is.
    """
    alternatives = item.get("alternatives") if item is not None else None
    if not isinstance(alternatives, list):
        return patch, None
    fixed = sorted(k for k in patch if k != CHOICE and k not in CHOICE_FIELDS)
    if fixed:
        return patch, (
            f"{task['id']}: {', '.join(fixed)} cannot be changed; an edit can only switch "
            f"{CHOICE} to one of the item's alternatives"
        )
    planned = task["inputs"].get(CHOICE)
    chosen = patch.get(CHOICE, planned)
    rest = {k: v for k, v in patch.items() if k not in CHOICE_FIELDS}
    if chosen == planned:
        return rest, None  # label and price stay those of the plan
    for alt in alternatives:
        if isinstance(alt, Mapping) and alt.get("item_id") == chosen:
            return {**rest, **{k: alt[k] for k in CHOICE_FIELDS if k in alt}}, None
    offered = [planned, *(a.get("item_id") for a in alternatives if isinstance(a, Mapping))]
    return patch, (
        f"{task['id']}: item_id {chosen!r} is not an option of this item "
        f"(choose from {[o for o in offered if o is not None]})"
    )


def _apply_edit(
    decision: ApprovalDecision,
    batch: Mapping[str, Task],
    domain: Domain,
    items: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, Task], list[str]]:
    """The batch after the edit, or the reasons the edit cannot apply."""
    errors: list[str] = []
    unknown = [i for i in [*decision.drop, *decision.inputs] if i not in batch]
    if unknown:
        errors.append(f"not in this approval: {', '.join(unknown)} (choose from {list(batch)})")
        return {}, errors
    drop = board.with_dependents(decision.drop, items)
    edited: dict[str, Task] = {}
    for task_id, task in batch.items():
        if task_id in drop:
            continue
        patch = decision.inputs.get(task_id)
        if patch:
            patch, refused = _choose(task, items.get(task_id), patch)
            if refused:
                errors.append(refused)
                continue
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
        items = {
            str(i["task_id"]): i
            for i in pending.get("items") or []
            if isinstance(i, Mapping) and "task_id" in i
        }
        changed = changed_since_asked(list(pending.get("task_ids") or []), tasks, items)
        if changed:
            # Checked before asking and again at every resume (the node runs again from here):
            # the answer would approve what the question showed, not what the board now holds.
            why = f"not released: changed since the question was asked: {'; '.join(changed)}"
            emit(runtime.stream_writer, "approval_given", round=round_no, decision="refused")
            return {
                "approval": None,
                "status": "running",
                "dispatch": [],
                "tasks": {
                    i: {**t, "status": "cancelled"}
                    for i, t in batch.items()
                    if t.get("status") == "pending"
                },
                "log": [LogEntry(round=round_no, kind="guard", message=why)],
            }
        while True:
            raw = interrupt(question)
            try:
                decision = ApprovalDecision.parse(raw)
            except ValidationError as exc:
                question = {**question, "error": f"unreadable decision: {exc.errors()[0]['msg']}"}
                continue
            if decision.decision != "edit":
                break
            edited, errors = _apply_edit(decision, batch, domain, items)
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
            follows = board.with_dependents(decision.drop, items)
            also = [f"{i} (needs {follows[i]})" for i in dropped if follows.get(i)]
            if also:
                message += f", of which {', '.join(also)} only because what it needs was dropped"
        changed = [i for i, t in keep.items() if t["inputs"] != batch[i]["inputs"]]
        if changed:
            message += f"; changed: {', '.join(changed)}"
        scope = state.get("scope", "")
        payloads = [
            board.payload(t, scope=scope, round_no=round_no, run_id=state.get("run_id", ""))
            for t in running.values()
        ]
        first = state.get("first_round", 0)
        budgets.attach(
            payloads,
            domain.workers,
            runtime.context or Context(),
            spent=[u for u in state.get("usage") or [] if u["round"] >= first],
            board_size=len(tasks),
            busy_s=state.get("busy_s", 0.0),
        )
        update.update(
            tasks={**dropped, **running},
            dispatch=payloads,
            log=[LogEntry(round=round_no, kind="approval", message=message)],
        )
        return update

    return approve
