"""Bounded delegation: what a delegating task may hand down, and its sub-run's limits.

A run's budgets are `Context.token_budget`, `cost_budget_usd`, `max_tasks` and `deadline_s`.
When the orchestrator dispatches tasks of a worker that delegates (`WorkerSpec.delegates`: a
`delegate_worker` or a `remote_worker`), it gives each one an equal share of what the run has
left (`attach`): tokens, money and tasks split between the delegating tasks of the dispatch,
and the seconds of work left before the deadline. The worker turns its share into its sub-run's
context (`sub_run_limits`): the budgets, `depth` + 1, and the run's `max_depth` and `max_fanout`.
A sub-run would be deeper than `max_depth`, or has nothing left to spend: the task fails at
once (`TaskFailed`), with the reason, and the planner sees it.

What a sub-run spent is charged to its delegating task (`charge_sub_run`: its usage records,
summed per model, under the role `sub-run`), so the run's own guards count it: its spending
counts against the budget it was carved from, as well as the one it was given. A sub-run that
runs out ends `partial` through its own synthesis, like any run that hits a limit, and its
reason comes back in the delegating task's error.

Bounds hold between rounds: a run checks its budgets before each round, so what a round's
workers spend can overshoot a budget by that round's spending, never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableSequence, Sequence
from dataclasses import replace
from typing import Any

from orchestrator.context import Context
from orchestrator.llm.usage import UsageTotals, usage_totals
from orchestrator.metering import charge
from orchestrator.workers import TaskFailed, WorkerSpec
from state import Budget, Usage, WorkerPayload

SUB_RUN_FIELDS = (
    "depth",
    "max_depth",
    "max_fanout",
    "token_budget",
    "cost_budget_usd",
    "deadline_s",
    "max_tasks",
)
"""The `Context` fields a delegating worker sets for its sub-run."""


def tokens_spent(usage: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(u["prompt_tokens"]) + int(u["completion_tokens"]) for u in usage)


def cost_spent(usage: Iterable[Mapping[str, Any]]) -> float:
    return sum(float(u["cost_usd"]) for u in usage if u.get("cost_usd") is not None)


def share(
    ctx: Context,
    *,
    spent: Sequence[Mapping[str, Any]],
    board_size: int,
    busy_s: float,
    ways: int = 1,
) -> Budget:
    """One of `ways` equal shares of what the run has left."""
    ways = max(1, ways)
    tokens = None
    if ctx.token_budget is not None:
        tokens = max(0, ctx.token_budget - tokens_spent(spent)) // ways
    cost = None
    if ctx.cost_budget_usd is not None:
        cost = round(max(0.0, ctx.cost_budget_usd - cost_spent(spent)) / ways, 8)
    return Budget(
        tokens=tokens,
        cost_usd=cost,
        tasks=max(0, ctx.max_tasks - board_size) // ways,
        seconds=round(max(0.0, ctx.deadline_s - busy_s), 3),
    )


def attach(
    payloads: MutableSequence[WorkerPayload],
    workers: Mapping[str, WorkerSpec[Any, Any]],
    ctx: Context,
    *,
    spent: Sequence[Mapping[str, Any]],
    board_size: int,
    busy_s: float,
) -> None:
    """Gives each payload of a delegating worker its share of the run's budget (in place)."""
    delegating = [p for p in payloads if (s := workers.get(p["worker"])) and s.delegates]
    if not delegating:
        return
    budget = share(ctx, spent=spent, board_size=board_size, busy_s=busy_s, ways=len(delegating))
    for payload in delegating:
        payload["budget"] = Budget(**budget)


def sub_run_limits(ctx: Context, budget: Budget | None) -> dict[str, Any]:
    """The sub-run's context fields (`SUB_RUN_FIELDS`) from the delegating run's `ctx` and the
    task's share (`budget`; None, as when a worker is called outside a run: all of `ctx`'s).

    Raises `TaskFailed` when the sub-run would be deeper than `ctx.max_depth`, or its share of
    some budget is empty."""
    depth = ctx.depth + 1
    if depth > ctx.max_depth:
        raise TaskFailed(
            f"delegation refused: the sub-run would be at depth {depth}, beyond max_depth="
            f"{ctx.max_depth} (Context.max_depth); do this part here instead of delegating it"
        )
    budget = budget or share(ctx, spent=(), board_size=0, busy_s=0.0)
    empty = []
    if budget["tokens"] is not None and budget["tokens"] <= 0:
        empty.append("no tokens (Context.token_budget)")
    if budget["cost_usd"] is not None and budget["cost_usd"] <= 0:
        empty.append("no money (Context.cost_budget_usd)")
    if budget["tasks"] < 1:
        empty.append("no tasks (Context.max_tasks)")
    if budget["seconds"] <= 0:
        empty.append("no time (Context.deadline_s)")
    if empty:
        raise TaskFailed(
            f"delegation refused: this run has {', '.join(empty)} left to hand to a sub-run"
        )
    limits: dict[str, Any] = {
        "depth": depth,
        "max_depth": ctx.max_depth,
        "deadline_s": budget["seconds"],
        "max_tasks": budget["tasks"],
    }
    if ctx.max_fanout is not None:
        limits["max_fanout"] = ctx.max_fanout
    if budget["tokens"] is not None:
        limits["token_budget"] = budget["tokens"]
    if budget["cost_usd"] is not None:
        limits["cost_budget_usd"] = budget["cost_usd"]
    return limits


def sub_context(ctx: Context, budget: Budget | None) -> Context:
    """`ctx` for a local sub-run: the same settings, with `sub_run_limits`."""
    return replace(ctx, **sub_run_limits(ctx, budget))


def sub_run_usage(values: Mapping[str, Any]) -> list[Usage]:
    """The usage records of a sub-run's latest run, from its state values."""
    first = int(values.get("first_round") or 0)
    return [u for u in values.get("usage") or [] if int(u.get("round", 0)) >= first]


def charge_sub_run(values: Mapping[str, Any], *, charged: bool = True) -> UsageTotals:
    """What the sub-run spent, charged to the delegating task's attempt unless `charged` is
    False (another attempt has been charged already)."""
    usage = sub_run_usage(values)
    if charged:
        charge(usage)
    return usage_totals(usage)
