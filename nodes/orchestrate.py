"""The orchestrator node: read results, check guards, ask the planner, validate, apply, dispatch.

One call is one round. It never raises for a planning problem: a rejected update is re-asked with
the reasons, and a guard that trips ends the run through `synthesize` with an honest status.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from nodes import StateNode
from orchestrator import board
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.events import emit
from orchestrator.planning import Finish, PlanUpdate, PlanView
from orchestrator.validation import validate_update
from state import FinalStatus, LogEntry, OrchestratorState, Task, Usage


def _tokens(usage: list[Usage]) -> int:
    return sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage)


def _batch_seconds(finished: Mapping[str, Task]) -> float:
    """How long the batch that just finished kept the run busy: its slowest task."""
    spans = [
        t["ended_at"] - t["started_at"]
        for t in finished.values()
        if t["ended_at"] is not None and t["started_at"] is not None
    ]
    return max(spans, default=0.0)


def _guard(
    ctx: Context, round_no: int, idle: int, usage: list[Usage], busy: float
) -> Finish | None:
    """The first limit the run has hit, as a finish verdict, or None."""
    if round_no > ctx.max_rounds:
        return Finish(
            status="partial", reason=f"stopped after {ctx.max_rounds} rounds (Context.max_rounds)"
        )
    if busy > ctx.deadline_s:
        return Finish(
            status="partial",
            reason=f"deadline of {ctx.deadline_s:g}s passed after {busy:.1f}s of work "
            "(Context.deadline_s)",
        )
    if idle >= ctx.max_idle_rounds:
        return Finish(
            status="failed",
            reason=f"no task succeeded in {idle} consecutive rounds (Context.max_idle_rounds)",
        )
    if ctx.token_budget is not None and (spent := _tokens(usage)) > ctx.token_budget:
        return Finish(
            status="partial",
            reason=f"token budget spent: {spent} of {ctx.token_budget} (Context.token_budget)",
        )
    return None


def _settle(tasks: Mapping[str, Task]) -> Finish:
    """The verdict when the planner has nothing left to run but did not say it is finished."""
    n = board.counts(tasks)
    if n["failed"] or board.blocked_tasks(tasks):
        return Finish(
            status="partial",
            reason=f"nothing more can run: {n['done']} tasks done, {n['failed']} failed",
        )
    return Finish(status="completed", reason=f"all {n['done']} tasks done")


def make_orchestrate(domain: Domain) -> StateNode:
    async def orchestrate(state: OrchestratorState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        write = runtime.stream_writer
        now = time.time()
        round_no = state.get("round", 0) + 1
        tasks: dict[str, Task] = dict(state.get("tasks") or {})
        results = state.get("results") or {}
        usage_so_far = list(state.get("usage") or [])
        emit(write, "round_started", round=round_no)

        finished = board.fold_results(tasks, results)
        tasks.update(finished)
        busy = state.get("busy_s", 0.0) + _batch_seconds(finished)
        progressed = any(t["status"] == "done" for t in finished.values())
        idle = 0 if progressed or not finished else state.get("idle_rounds", 0) + 1

        changed: dict[str, Task] = dict(finished)
        log: list[LogEntry] = []
        usage: list[Usage] = []
        notes = state.get("notes") or {}
        update: dict[str, Any] = {"round": round_no, "idle_rounds": idle, "dispatch": []}
        if "started_at" not in state:
            update["started_at"] = now

        verdict = _guard(ctx, round_no, idle, usage_so_far, busy)
        if verdict is not None:
            log.append(LogEntry(round=round_no, kind="guard", message=verdict.reason))
        else:
            planned, verdict = await _plan(
                domain, ctx, state, tasks, round_no, notes, usage_so_far, log, usage
            )
            if planned is not None:
                applied = board.apply_plan(
                    tasks, planned[0], planned[1].cancel, planned[1].retry, round_no
                )
                tasks.update(applied)
                changed.update(applied)
                if planned[1].notes is not None:
                    update["notes"] = planned[1].notes
                if planned[1].is_empty() is False or planned[1].decisions:
                    emit(
                        write,
                        "plan_changed",
                        round=round_no,
                        added=[t.id for t in planned[0]],
                        cancelled=planned[1].cancel,
                        retried=planned[1].retry,
                        reasons=planned[1].decisions,
                    )
                verdict = planned[1].finish

        if verdict is None:
            verdict, dispatch_update = _dispatch(domain, ctx, tasks, results, state, round_no, now)
            for task_id in dispatch_update.get("dispatch", []):
                emit(
                    write,
                    "task_dispatched",
                    round=round_no,
                    task_id=task_id,
                    worker=tasks[task_id]["worker"],
                )
            changed.update(dispatch_update.pop("changed", {}))
            update.update(dispatch_update)
            if update.get("approval"):
                emit(write, "approval_needed", **update["approval"])

        if verdict is not None:
            update.update(status=_final(verdict.status), reason=verdict.reason, dispatch=[])
        elif "status" not in update:
            update["status"] = "running"

        update["busy_s"] = busy + (time.time() - now)
        if changed:
            update["tasks"] = changed
        if log:
            update["log"] = log
        if usage:
            update["usage"] = usage
        return update

    return orchestrate


def _final(status: str) -> FinalStatus:
    assert status in ("completed", "partial", "failed")
    return status  # type: ignore[return-value]


async def _plan(
    domain: Domain,
    ctx: Context,
    state: OrchestratorState,
    tasks: dict[str, Task],
    round_no: int,
    notes: Mapping[str, Any],
    usage_so_far: list[Usage],
    log: list[LogEntry],
    usage: list[Usage],
) -> tuple[tuple[list[Any], PlanUpdate] | None, Finish | None]:
    """Asks the planner until it gives a valid update, up to `Context.plan_attempts` times."""
    planner = domain.planner(ctx)
    feedback: list[str] = []
    for _attempt in range(ctx.plan_attempts):
        view = PlanView(
            goal=state["goal"],
            request=state.get("request"),
            tasks=tasks,
            results=state.get("results") or {},
            round=round_no,
            notes=notes,
            workers=domain.workers,
            context=ctx,
            feedback=feedback,
            usage=usage_so_far + usage,
        )
        outcome = await planner.plan(view)
        usage.extend(outcome.usage)
        checked = validate_update(outcome.update, tasks, domain.workers, ctx)
        checked.errors[:0] = outcome.errors
        if checked.ok:
            for decision in outcome.update.decisions:
                log.append(LogEntry(round=round_no, kind="decision", message=decision))
            return (checked.new_tasks, outcome.update), None
        feedback = checked.errors
        log.append(
            LogEntry(
                round=round_no,
                kind="rejected",
                message="plan update rejected: " + "; ".join(checked.errors),
                data={"errors": checked.errors},
            )
        )
    return None, Finish(
        status="failed",
        reason=f"the planner gave no valid plan update in {ctx.plan_attempts} attempts; "
        f"last errors: {'; '.join(feedback)}",
    )


def _dispatch(
    domain: Domain,
    ctx: Context,
    tasks: dict[str, Task],
    results: Mapping[str, Any],
    state: OrchestratorState,
    round_no: int,
    now: float,
) -> tuple[Finish | None, dict[str, Any]]:
    """Sends every ready task at once; side effects wait for approval when the context asks."""
    ready = board.ready_tasks(tasks)
    if not ready:
        return _settle(tasks), {}
    plain = [t for t in ready if not domain.workers[t["worker"]].side_effects]
    effects = [t for t in ready if domain.workers[t["worker"]].side_effects]
    if plain or ctx.approval == "auto":
        # Side effects go last, so what they commit to is based on every search result.
        batch = plain or effects
        running = board.mark_dispatched(batch, now)
        tasks.update(running)
        return None, {"dispatch": [t["id"] for t in batch], "changed": running}
    view = domain.describe_approval(effects, results, state.get("request"))
    return None, {
        "approval": {"round": round_no, "task_ids": [t["id"] for t in effects], **view},
        "status": "awaiting_approval",
    }
