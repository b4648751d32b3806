"""Checks a plan update against the board, the worker registry and the guards before it applies.

An update is applied whole or not at all. Each error is a sentence a planner (or an LLM) can act
on; the orchestrator records them in the log and asks the planner again with them as feedback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from orchestrator.context import Context
from orchestrator.planning import NewTask, PlanUpdate
from orchestrator.refs import Location, check_refs, find_refs, ref_locations
from orchestrator.workers import WorkerRegistry, WorkerSpec
from state import Task


def task_signature(worker: str, inputs: Mapping[str, Any]) -> str:
    """Identity of a task's work, independent of its id: worker plus canonical inputs."""
    return worker + ":" + json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)


@dataclass
class Validated:
    """The outcome of validation: errors, or the update's new tasks and their normalized inputs."""

    errors: list[str] = field(default_factory=list)
    new_tasks: list[NewTask] = field(default_factory=list)
    """The update's new tasks, as the planner gave them."""
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each new task's inputs normalized by its worker's schema, by task id. Kept beside the
    tasks rather than in copies of them: a pydantic copy per task showed in bench B1."""
    limit_reached: bool = False
    """The update would exceed `Context.max_tasks`: a limit, not a planning mistake."""

    @property
    def ok(self) -> bool:
        return not self.errors


def _schema_error(errors: list[ErrorDetails]) -> str:
    parts = []
    for err in errors[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "inputs"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _data_path(loc: tuple[str | int, ...], inputs: Any) -> Location:
    """The part of a schema error's `loc` that is a path in `inputs`: pydantic puts segments of
    its own into a location (a union member's name such as `str` or `list[int]`, a tagged
    union's tag, `function-after[...]`), and those name no key or index in the data. A segment
    is taken as data when it is a key (or an index) of the value reached so far."""
    node = inputs
    path: list[str | int] = []
    for part in loc:
        is_key = isinstance(node, Mapping) and isinstance(part, str) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (is_key or is_index):
            continue  # pydantic's own segment, or a key that is missing (the error's subject)
        node = node[part]
        path.append(part)
    return tuple(path)


def _under(loc: tuple[str | int, ...], where: Location, inputs: Any) -> bool:
    """Whether a schema error at `loc` is about the value at `where` in `inputs` (or inside
    it): `where` must be a prefix of the error's path in the data."""
    return _data_path(loc, inputs)[: len(where)] == where


def check_resolved(
    spec: WorkerSpec[Any, Any], raw: Mapping[str, Any], resolved: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """A task's inputs once its references are resolved (`orchestrator.refs`), normalized by
    its worker's schema as ref-free inputs are at validation; or why they do not fit, in one
    line that names the input and the reference it came from (`raw`: the inputs as planned)."""
    try:
        return spec.input_model.model_validate(resolved).model_dump(mode="json"), None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "inputs"
        source = ""
        refs, _problems = find_refs(raw)
        for found in refs:
            if _under(err["loc"], found.where, resolved):
                path = ".".join(found.path)
                source = f" (from task {found.task!r}" + (f", path {path!r})" if path else ")")
                break
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return dict(resolved), (
            f"the resolved inputs do not fit worker {spec.name!r}: input {where!r}{source}: "
            f"{err['msg']}{more}"
        )


def _find_cycle(new: Mapping[str, NewTask]) -> list[str] | None:
    """A dependency cycle among the new tasks, if any (existing tasks cannot point at new ones)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in new[node].depends_on:
            if dep not in new:
                continue
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for task_id in new:
        if task_id not in state and (cycle := visit(task_id)):
            return cycle
    return None


def failure_counts(tasks: Mapping[str, Task]) -> dict[str, int]:
    """Failed attempts per task signature, across the whole board."""
    counts: dict[str, int] = {}
    for task in tasks.values():
        if task["failures"]:
            sig = task_signature(task["worker"], task["inputs"])
            counts[sig] = counts.get(sig, 0) + task["failures"]
    return counts


def validate_update(
    update: PlanUpdate,
    tasks: Mapping[str, Task],
    workers: WorkerRegistry,
    context: Context,
    failed: Mapping[str, int] | None = None,
) -> Validated:
    """Every reason to refuse `update`, or its new tasks with schema-normalized inputs.

    `failed`: failed attempts per signature (the board index's); scanned from `tasks` if None.
    """
    result = Validated()
    errors = result.errors
    new_by_id: dict[str, NewTask] = {}
    for new in update.add:
        if new.id in tasks or new.id in new_by_id:
            errors.append(f"duplicate task id {new.id!r}: every task needs a new, unique id")
        new_by_id[new.id] = new

    # Runs every round: signatures (a canonical JSON dump each) are paid only when something
    # has failed before, and the board is scanned only without the index.
    if not update.add:
        failed_before: Mapping[str, int] = {}
    elif failed is not None:
        failed_before = failed
    else:
        failed_before = failure_counts(tasks)
    for new in update.add:
        # Every error of a task is reported in one pass, so one re-ask can fix them all.
        for dep in new.depends_on:
            if dep not in tasks and dep not in new_by_id:
                errors.append(f"task {new.id!r} depends on {dep!r}, which does not exist")
        refs_at = ref_locations(new.inputs)
        if refs_at:
            errors.extend(f"task {new.id!r}: {p}" for p in check_refs(new.inputs, new.depends_on))
        spec = workers.get(new.worker)
        if spec is None:
            known = ", ".join(sorted(workers))
            errors.append(f"task {new.id!r}: unknown worker {new.worker!r} (workers: {known})")
            continue
        # A reference stands for a value not known yet (`orchestrator.refs`): the schema is
        # checked around it now, and the resolved inputs when the task runs. Such inputs are
        # kept as the planner gave them, references and all.
        try:
            inputs = spec.input_model.model_validate(new.inputs).model_dump(mode="json")
        except ValidationError as exc:
            left = [
                e for e in exc.errors() if not any(_under(e["loc"], w, new.inputs) for w in refs_at)
            ]
            if left:
                errors.append(
                    f"task {new.id!r}: inputs do not fit worker {new.worker!r}: "
                    f"{_schema_error(left)}"
                )
                continue
            inputs = new.inputs
        if refs_at:
            inputs = new.inputs
        seen = failed_before.get(task_signature(new.worker, inputs), 0) if failed_before else 0
        if seen >= context.max_identical_failures:
            errors.append(
                f"task {new.id!r} repeats work that already failed {seen} times "
                f"({new.worker} with the same inputs); change the inputs or give up on it"
            )
        result.new_tasks.append(new)
        result.inputs[new.id] = inputs

    # Only new tasks can close a cycle (existing tasks cannot point at new ones).
    if any(new.depends_on for new in update.add) and (cycle := _find_cycle(new_by_id)):
        errors.append("dependency cycle: " + " -> ".join(cycle))

    for task_id in update.cancel:
        if task_id not in tasks and task_id not in new_by_id:
            errors.append(f"cannot cancel {task_id!r}: no such task")
        elif task_id in tasks and tasks[task_id]["status"] not in ("pending", "failed"):
            errors.append(f"cannot cancel {task_id!r}: it is {tasks[task_id]['status']}")

    for task_id in update.retry:
        task = tasks.get(task_id)
        if task is None:
            errors.append(f"cannot retry {task_id!r}: no such task")
        elif task["status"] != "failed":
            errors.append(f"cannot retry {task_id!r}: it is {task['status']}, not failed")
        elif task["failures"] >= context.max_identical_failures:
            errors.append(
                f"cannot retry {task_id!r}: it already failed {task['failures']} times; "
                "change the inputs or give up on it"
            )

    total = len(tasks) + len(update.add)
    if total > context.max_tasks:
        result.limit_reached = True
        errors.append(
            f"the update would bring the run to {total} tasks, over the limit of "
            f"{context.max_tasks} (Context.max_tasks)"
        )
    return result
