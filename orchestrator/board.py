"""Pure operations on the task board, composed by the orchestrator node and tested directly.

Every function returns only the tasks it changed, keyed by id, ready to be written to the
`tasks` channel (whose reducer merges by id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.planning import NewTask
from state import Task, TaskResult, WorkerPayload


def result_key(task_id: str, attempt: int) -> str:
    """Where a task attempt's result is stored in `results`: every attempt keeps its own entry."""
    return f"{task_id}#{attempt}"


def new_task(spec: NewTask, round_no: int, inputs: dict[str, Any] | None = None) -> Task:
    """A pending task from the planner's `spec`, with `inputs` in place of its own if given."""
    return Task(
        id=spec.id,
        worker=spec.worker,
        inputs=spec.inputs if inputs is None else inputs,
        depends_on=list(spec.depends_on),
        status="pending",
        attempts=0,
        failures=0,
        round=round_no,
        reason=spec.reason,
        result_ref=None,
        started_at=None,
        ended_at=None,
        error=None,
    )


def fold_results(tasks: Mapping[str, Task], results: Mapping[str, TaskResult]) -> dict[str, Task]:
    """Marks each running task done or failed from the result of its latest attempt."""
    changed: dict[str, Task] = {}
    for task in tasks.values():
        if task["status"] != "running":
            continue
        key = result_key(task["id"], task["attempts"])
        result = results.get(key)
        if result is None:
            # Only possible if a worker vanished without a result or an error: never silent.
            changed[task["id"]] = {
                **task,
                "status": "failed",
                "failures": task["failures"] + 1,
                "error": "the worker returned no result",
            }
            continue
        changed[task["id"]] = {
            **task,
            "status": "done" if result["ok"] else "failed",
            "failures": task["failures"] + (0 if result["ok"] else 1),
            "result_ref": key,
            "started_at": result["started_at"],
            "ended_at": result["ended_at"],
            "error": result["error"],
        }
    return changed


def apply_plan(
    tasks: Mapping[str, Task],
    add: Iterable[NewTask],
    cancel: Iterable[str],
    retry: Iterable[str],
    round_no: int,
    inputs: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Task]:
    """Adds, cancels and re-queues tasks. Assumes the update was validated.

    `inputs`: the new tasks' normalized inputs by id (from validation), used over their own.
    """
    normalized = inputs or {}
    changed: dict[str, Task] = {}
    for spec in add:
        changed[spec.id] = new_task(spec, round_no, normalized.get(spec.id))
    for task_id in retry:
        changed[task_id] = {**tasks[task_id], "status": "pending", "error": None}
    for task_id in cancel:
        base = changed.get(task_id) or tasks[task_id]
        changed[task_id] = {**base, "status": "cancelled"}
    return changed


def ready_tasks(tasks: Mapping[str, Task]) -> list[Task]:
    """Pending tasks whose dependencies are all done, in insertion order."""
    return [
        task
        for task in tasks.values()
        if task["status"] == "pending"
        and all(tasks[dep]["status"] == "done" for dep in task["depends_on"] if dep in tasks)
    ]


def blocked_tasks(tasks: Mapping[str, Task]) -> list[Task]:
    """Pending tasks that wait on a failed or cancelled dependency and so cannot run."""
    return [
        task
        for task in tasks.values()
        if task["status"] == "pending"
        and any(tasks[dep]["status"] in ("failed", "cancelled") for dep in task["depends_on"])
    ]


def payload(task: Task, *, scope: str, round_no: int, run_id: str = "") -> WorkerPayload:
    """What a worker receives for one attempt of `task` (after `mark_dispatched`)."""
    return WorkerPayload(
        task_id=task["id"],
        worker=task["worker"],
        inputs=task["inputs"],
        attempt=task["attempts"],
        scope=scope,
        run_id=run_id,
        round=round_no,
    )


def mark_dispatched(batch: Iterable[Task], now: float) -> dict[str, Task]:
    return {
        task["id"]: {
            **task,
            "status": "running",
            "attempts": task["attempts"] + 1,
            "started_at": now,
            "ended_at": None,
        }
        for task in batch
    }


def counts(tasks: Mapping[str, Task]) -> dict[str, int]:
    out = {"pending": 0, "running": 0, "done": 0, "failed": 0, "cancelled": 0}
    for task in tasks.values():
        out[task["status"]] += 1
    return out


def with_dependents(
    dropped: Iterable[str], items: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Every item to drop: those asked, plus (transitively) those whose `requires` names one.

    Returns task id -> the dropped task it follows from ('' for those dropped as asked). A
    hotel whose nights follow from a flight makes no sense once that flight is dropped."""
    out = {task_id: "" for task_id in dropped}
    grew = True
    while grew:
        grew = False
        for task_id, item in items.items():
            needs = item.get("requires") or []
            cause = next((n for n in needs if n in out), None)
            if task_id not in out and cause is not None:
                out[task_id] = cause
                grew = True
    return out
