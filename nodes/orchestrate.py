"""The orchestrator node: read results, check guards, ask the planner, validate, apply, dispatch.

One call is one round. It never raises for a planning problem: a rejected update is re-asked with
the reasons, and a guard that trips ends the run through `synthesize` with an honest status.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from langgraph.runtime import Runtime
from langgraph.types import Overwrite, StreamWriter

from nodes import StateNode
from orchestrator import board, budgets
from orchestrator.budgets import cost_spent
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.events import annotate_trace, emit
from orchestrator.planning import Finish, PlanUpdate, PlanView
from orchestrator.refs import has_refs, resolve_for_dispatch
from orchestrator.validation import Validated, check_resolved, validate_update
from orchestrator.verification import Claim, Verdict, refusal, view_for
from state import FINAL_STATUSES, FinalStatus, LogEntry, OrchestratorState, Task, Usage

_CLEAN_SLATE: dict[str, Any] = {
    "tasks": {},
    "results": {},
    "notes": {},
    "board_index": None,
    "approval": None,
}
"""What a new run on a finished thread starts from (see `orchestrate`)."""

STEADY_KEYS = ("first_round", "idle_rounds", "status", "dispatch")
"""Keys a round usually writes unchanged. Every write is applied, versioned and checkpointed
whether or not it changes anything, so a round leaves out the ones equal to the state's."""


def _batch_seconds(finished: Mapping[str, Task]) -> float:
    """How long the batch that just finished kept the run busy: from its first start to its
    last end (its slowest task, when all started together; a lane's whole length)."""
    starts = [t["started_at"] for t in finished.values() if t["started_at"] is not None]
    ends = [t["ended_at"] for t in finished.values() if t["ended_at"] is not None]
    return max(0.0, max(ends) - min(starts)) if starts and ends else 0.0


def _tokens(usage: list[Usage]) -> int:
    return sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage)


def _guard(ctx: Context, rounds: int, idle: int, usage: list[Usage], busy: float) -> Finish | None:
    """The first limit this run has hit, as a finish verdict, or None."""
    if rounds > ctx.max_rounds:
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
    if ctx.cost_budget_usd is not None and (cost := cost_spent(usage)) > ctx.cost_budget_usd:
        return Finish(
            status="partial",
            reason=f"cost budget spent: ${cost:.6g} of ${ctx.cost_budget_usd:.6g} "
            "(Context.cost_budget_usd)",
        )
    return None


def _settle(tasks: Mapping[str, Task]) -> Finish:
    """The verdict when the planner has nothing left to run but did not say it is finished."""
    n = board.counts(tasks)
    tally = f"{n['done']} done, {n['failed']} failed, {n['cancelled']} cancelled"
    if n["done"] == 0 and n["failed"]:
        return Finish(status="failed", reason=f"nothing was achieved: {tally}")
    if n["failed"] or n["cancelled"] or board.blocked_tasks(tasks):
        return Finish(status="partial", reason=f"nothing more can run: {tally}")
    return Finish(status="completed", reason=f"all {n['done']} tasks done")


def _final(status: str) -> FinalStatus:
    assert status in FINAL_STATUSES
    return status  # type: ignore[return-value]


@dataclass
class _Round:
    """What one round reads and what it will write back."""

    domain: Domain
    ctx: Context
    state: OrchestratorState
    write: StreamWriter
    number: int
    started: float
    tasks: board.Board
    index: board.IndexKeeper
    thread_id: str = ""
    busy: float = 0.0
    """Seconds of work before this round (`OrchestratorState.busy_s`, this run's)."""
    changed: dict[str, Task] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    spent: list[Usage] = field(default_factory=list)
    """This run's usage before this round (`usage` is this round's)."""
    update: dict[str, Any] = field(default_factory=dict)
    claim: Finish | None = None
    """What the planner claimed when that differs from the verdict this round returns."""

    def apply(self, tasks: dict[str, Task]) -> None:
        self.index.apply(tasks)  # updates the board view too
        self.changed.update(tasks)

    async def plan(self, run_usage: list[Usage]) -> Finish | None:
        """Asks the planner until it gives a valid update, up to `Context.plan_attempts` times."""
        planner = self.domain.planner(self.ctx)
        feedback: list[str] = []
        refused: Verdict | None = None
        claimed = ""
        for _attempt in range(self.ctx.plan_attempts):
            view = PlanView(
                goal=str(self.state.get("goal") or ""),
                request=self.state.get("request"),
                tasks=self.tasks,
                results=self.state.get("results") or {},
                round=self.number,
                notes=self.state.get("notes") or {},
                workers=self.domain.workers,
                context=self.ctx,
                feedback=feedback,
                usage=run_usage + self.usage,
            )
            outcome = await planner.plan(view)
            self.usage.extend(outcome.usage)
            checked = validate_update(
                outcome.update, self.tasks, self.domain.workers, self.ctx, self.index.failed
            )
            checked.errors[:0] = outcome.errors
            refused = None
            if checked.ok:
                refused = await self._refuse_false_completion(outcome.update.finish)
                if refused is None:
                    return self._accept(outcome.update, checked)
                claimed = outcome.update.finish.reason if outcome.update.finish else ""
                checked.errors.extend(refusal(refused))
            feedback = checked.errors
            self.log.append(
                LogEntry(
                    round=self.number,
                    kind="rejected",
                    message="plan update rejected: " + "; ".join(checked.errors),
                    data={"errors": checked.errors},
                )
            )
            emit(self.write, "plan_rejected", round=self.number, errors=checked.errors)
        if refused is not None:
            # Still claiming `completed` after being told what is unmet: the verdict stands, and
            # the claim is kept apart, in the planner's own words, for synthesis to show as such.
            self.claim = Finish(status="completed", reason=claimed)
            return Finish(status=refused.status, reason=refused.reason)
        if checked.limit_reached and len(checked.errors) == 1:
            # The planner kept wanting more work than the run may create: a limit, not a fault.
            return Finish(status="partial", reason=checked.errors[0])
        return Finish(
            status="failed",
            reason=f"the planner gave no valid plan update in {self.ctx.plan_attempts} "
            f"attempts; last errors: {'; '.join(feedback)}",
        )

    async def _refuse_false_completion(self, finish: Finish | None) -> Verdict | None:
        """The verifier's verdict when the planner claims `completed` and it disagrees."""
        if finish is None or finish.status != "completed" or self.domain.verifier is None:
            return None
        view = view_for(
            state=self.state,
            tasks=self.tasks,
            context=self.ctx,
            thread_id=self.thread_id,
            claim=Claim(status="completed", reason=finish.reason),
            run_id=self.update.get("run_id"),
        )
        verdict = await self.domain.verifier(self.ctx).verify(view)
        return None if verdict.status == "completed" else verdict

    def _accept(self, update: PlanUpdate, checked: Validated) -> Finish | None:
        for decision in update.decisions:
            self.log.append(LogEntry(round=self.number, kind="decision", message=decision))
        self.apply(
            board.apply_plan(
                self.tasks,
                checked.new_tasks,
                update.cancel,
                update.retry,
                self.number,
                checked.inputs,
            )
        )
        if update.notes is not None:
            self.update["notes"] = update.notes
        if not update.is_empty() or update.decisions:
            emit(
                self.write,
                "plan_changed",
                round=self.number,
                added=[t.id for t in checked.new_tasks],
                cancelled=update.cancel,
                retried=update.retry,
                reasons=update.decisions,
                finish=update.finish.model_dump() if update.finish else None,
            )
        return update.finish

    def _fan_out(self, batch: list[Task]) -> list[Task]:
        """The first `Context.max_fanout` tasks of `batch`; the others wait for a later round."""
        limit = self.ctx.max_fanout
        return batch if limit is None or len(batch) <= limit else batch[:limit]

    def _followers_in_fanout(self, batch: list[Task], follow: list[Task]) -> list[Task]:
        """The lane followers that fit in `Context.max_fanout` beside `batch`, each only with
        every task of this dispatch it waits for."""
        limit = self.ctx.max_fanout
        if limit is None or len(batch) + len(follow) <= limit:
            return follow
        kept = {t["id"] for t in batch}
        following = {t["id"] for t in follow}
        grew = True
        while grew and len(kept) < limit:
            grew = False
            for task in follow:
                if task["id"] in kept or len(kept) >= limit:
                    continue
                if all(d in kept for d in task["depends_on"] if d in following):
                    kept.add(task["id"])
                    grew = True
        return [t for t in follow if t["id"] in kept]

    def dispatch(self) -> Finish | None:
        """Sends the ready tasks, at most `Context.max_fanout` of them; side effects wait for
        approval when the context asks."""
        ready = board.ready_tasks(self.tasks, self.index.open_ids())
        if not ready:
            return _settle(self.tasks)
        # References to outputs (`orchestrator.refs`) are resolved now: the board, an approval
        # and the payloads hold the values. A task whose reference does not resolve is sent to
        # fail at once (its worker is not called), so it needs no approval.
        ready, unresolved = self._resolve(ready)
        workers = self.domain.workers
        plain = [t for t in ready if not workers[t["worker"]].side_effects or t["id"] in unresolved]
        effects = [
            t for t in ready if workers[t["worker"]].side_effects and t["id"] not in unresolved
        ]
        if plain or self.ctx.approval == "auto":
            # Side effects go last, so what they commit to is based on every search result.
            batch = self._fan_out(plain or effects)
            # Tasks already planned after these start as soon as what they wait for succeeds,
            # in lanes (`nodes.lanes`), not a superstep later.
            follow = (
                board.lane_followers(
                    self.tasks,
                    self.index.open_ids(),
                    batch,
                    lambda t: not workers[t["worker"]].side_effects,
                )
                if plain
                else []
            )
            follow, more = self._resolve(follow)
            unresolved.update(more)
            follow = self._followers_in_fanout(batch, follow)
            coming = {t["id"] for t in batch} | {t["id"] for t in follow}
            running = board.mark_dispatched([*batch, *follow], self.started)
            self.apply(running)
            if not plain:
                self.log.append(
                    LogEntry(
                        round=self.number,
                        kind="approval",
                        message=f"approved automatically (Context.approval=auto): "
                        f"{', '.join(running)}",
                    )
                )
            scope = self.state.get("scope", "")
            run_id = self.update.get("run_id") or self.state.get("run_id", "")
            # The deadline counts work: what is left of it after this round's share so far.
            not_after = self.started + self.ctx.deadline_s - self.busy
            self.update["dispatch"] = [
                board.payload(
                    t,
                    scope=scope,
                    round_no=self.number,
                    run_id=run_id,
                    after=[d for d in t["depends_on"] if d in coming],
                    not_after=not_after,
                )
                for t in running.values()
            ]
            for sent in self.update["dispatch"]:
                if sent["task_id"] in unresolved:
                    sent["ref_error"] = unresolved[sent["task_id"]]
            budgets.attach(
                self.update["dispatch"],
                workers,
                self.ctx,
                spent=[*self.spent, *self.usage],
                board_size=len(self.tasks),
                busy_s=self.busy + (time.time() - self.started),
            )
            for task in batch:
                emit(
                    self.write,
                    "task_dispatched",
                    round=self.number,
                    task_id=task["id"],
                    worker=task["worker"],
                )
            return None
        effects = self._fan_out(effects)
        self.apply({t["id"]: t for t in effects if t is not self.tasks[t["id"]]})
        results = self.state.get("results") or {}
        view = self.domain.describe_approval(effects, results, self.state.get("request"))
        approval = {"round": self.number, "task_ids": [t["id"] for t in effects], **view}
        self.update.update(approval=approval, status="awaiting_approval")
        emit(self.write, "approval_needed", **approval)
        return None

    def _resolve(self, tasks: list[Task]) -> tuple[list[Task], dict[str, str]]:
        """`tasks` with their references to done tasks resolved, and why a task's did not.

        Inputs left with no reference are checked against the worker's schema and normalized
        (defaults filled in) as ref-free inputs are at validation, so the board, an approval
        and the payload hold what the worker will get; inputs that do not fit fail the task
        like a reference that does not resolve. References still waiting for a lane
        predecessor are resolved, and the inputs checked, when the task runs (`nodes.lanes`)."""
        results = self.state.get("results") or {}
        out: list[Task] = []
        unresolved: dict[str, str] = {}
        for task in tasks:
            inputs, error = resolve_for_dispatch(task, self.tasks, results)
            if error is None and inputs is not task["inputs"] and not has_refs(inputs):
                spec = self.domain.workers[task["worker"]]
                inputs, error = check_resolved(spec, task["inputs"], inputs)
            if error is not None:
                unresolved[task["id"]] = error
            elif inputs is not task["inputs"]:
                task = {**task, "inputs": inputs}
            out.append(task)
        return out, unresolved


MAX_GOAL_CHARS = 20_000
"""A goal is a sentence or a page, not a payload: a longer one is refused before planning."""


async def _input_problem(domain: Domain, state: OrchestratorState, ctx: Context) -> str | None:
    """Why a new run's input cannot be planned: no goal, or the domain's request check."""
    goal = state.get("goal")
    if not isinstance(goal, str) or not goal.strip():
        return (
            "the input has no goal: send {'goal': '<what to do, in words>', 'request': {...}} "
            "(the domain's structured request, if it has one)"
        )
    if len(goal) > MAX_GOAL_CHARS:
        return f"the goal is {len(goal):,} characters long; at most {MAX_GOAL_CHARS:,} are read"
    if domain.check_request is None:
        return None
    return await asyncio.to_thread(domain.check_request, state.get("request"), ctx)


def make_orchestrate(domain: Domain) -> StateNode:
    async def orchestrate(state: OrchestratorState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        now = time.time()
        number = state.get("round", 0) + 1
        # A finished status here means new input arrived on a thread that already ran: a new
        # run, whose limits count from this round.
        again = state.get("status") in FINAL_STATUSES
        fresh = again or "first_round" not in state
        first_round = number if fresh else state["first_round"]
        if again:
            # A new run plans afresh: the last run's board, results, notes and pending approval
            # stay in the thread's history, not in front of this run's planner (whose notes
            # would say "already booked") nor in its verdict.
            state = cast(OrchestratorState, {**state, **_CLEAN_SLATE})
        info = runtime.execution_info
        annotate_trace(thread_id=info.thread_id if info else None, round=number)
        emit(runtime.stream_writer, "round_started", round=number)

        tasks = board.Board(state.get("tasks") or {})
        this = _Round(
            domain=domain,
            ctx=ctx,
            state=state,
            write=runtime.stream_writer,
            number=number,
            started=now,
            tasks=tasks,
            index=board.IndexKeeper(tasks, state.get("board_index")),
            thread_id=(info.thread_id if info else None) or "",
        )
        finished = board.fold_results(this.tasks, state.get("results") or {}, this.index.open_ids())
        this.apply(finished)
        busy = (0.0 if fresh else state.get("busy_s", 0.0)) + _batch_seconds(finished)
        this.busy = busy
        progressed = any(t["status"] == "done" for t in finished.values())
        idle = 0 if fresh or progressed or not finished else state.get("idle_rounds", 0) + 1
        run_usage = [u for u in state.get("usage") or [] if u["round"] >= first_round]
        this.spent = run_usage
        this.update.update(round=number, first_round=first_round, idle_rounds=idle, dispatch=[])
        if fresh:
            this.update["started_at"] = now
            this.update["run_id"] = uuid.uuid4().hex[:16]

        verdict = _guard(ctx, number - first_round + 1, idle, run_usage, busy)
        problem = await _input_problem(domain, state, ctx) if fresh and verdict is None else None
        if verdict is not None:
            this.log.append(LogEntry(round=number, kind="guard", message=verdict.reason))
        elif problem is not None:
            # Refused before anything is planned or done: the same check the CLI makes.
            this.log.append(LogEntry(round=number, kind="rejected", message=problem))
            verdict = Finish(status="failed", reason=problem)
        else:
            verdict = await this.plan(run_usage)
        if verdict is None:
            verdict = this.dispatch()

        update = this.update
        if verdict is not None:
            update.update(status=_final(verdict.status), reason=verdict.reason, dispatch=[])
            update["claim"] = (this.claim or verdict).model_dump()
        elif "status" not in update:
            update["status"] = "running"
        update["busy_s"] = busy + (time.time() - now)
        if this.changed:
            update["tasks"] = this.changed
        if this.log:
            update["log"] = this.log
        if this.usage:
            update["usage"] = this.usage
        if again:
            update["tasks"] = Overwrite(dict(this.changed))
            update["results"] = Overwrite({})
            update["board_index"] = Overwrite(this.index.full())
            update.setdefault("notes", {})
            update["approval"] = None
        elif (index := this.index.delta()) is not None:
            update["board_index"] = index
        current: Mapping[str, Any] = state
        for key in STEADY_KEYS:
            if key in update and key in current and update[key] == current[key]:
                del update[key]
        return update

    return orchestrate
