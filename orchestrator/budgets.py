"""Bounded delegation: what a delegating task may hand down, and its sub-run's limits.

A run's budgets are `Context.token_budget`, `cost_budget_usd`, `max_tasks` and `deadline_s`.
When the orchestrator dispatches tasks of a worker that delegates (`WorkerSpec.delegates`: a
`delegate_worker` or a `remote_worker`), it gives each one a share of what the run has left
(`attach`): tokens, money and tasks split between the delegating tasks of the dispatch (whole
tokens and tasks as evenly as they divide, the first tasks dispatched getting one more of what
is left over), and the seconds of work left before the deadline. The worker turns its share into
its sub-run's context (`sub_run_limits`): the budgets, `depth` + 1, and the run's `max_depth`
and `max_fanout`. A sub-run would be deeper than `max_depth`, or has nothing left to spend: the
task fails at once (`TaskFailed`), with the reason, and the planner sees it.

What a sub-run spent is charged to its delegating task (`charge_sub_run`: its usage records,
checked, summed per model, under the role `sub-run`), so the run's own guards count it: its
spending counts against the budget it was carved from, as well as the one it was given. A
sub-run that reports usage that is not valid (negative, absurd, not numbers) fails its task. A
sub-run that runs out ends `partial` through its own synthesis, like any run that hits a limit,
and its reason comes back in the delegating task's error.

Tasks are bounded per run, and not charged back: `max_tasks` counts the tasks on a run's own
board. A sub-run may create up to its share of the tasks its parent had left at dispatch, but
what it creates is not added to its parent's count, so a tree of runs can hold more than
`max_tasks` tasks in all (each run of it at most `max_tasks`); tokens, money, time and
`max_depth` bound the tree as a whole.

Bounds hold between rounds: a run checks its budgets before each round, so what a round's
workers spend can overshoot a budget by that round's spending, never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableSequence, Sequence
from dataclasses import replace
from typing import Any

from orchestrator.context import Context
from orchestrator.llm.usage import UsageTotals, usage_totals
from orchestrator.metering import charge, checked_usage
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
    """The first of `ways` shares of what the run has left (`shares`)."""
    return shares(ctx, spent=spent, board_size=board_size, busy_s=busy_s, ways=ways)[0]


def shares(
    ctx: Context,
    *,
    spent: Sequence[Mapping[str, Any]],
    board_size: int,
    busy_s: float,
    ways: int = 1,
) -> list[Budget]:
    """`ways` shares of what the run has left: tokens and tasks split as evenly as whole numbers
    allow (the first shares get one more each of what does not divide evenly, so 2 tasks left
    for 3 delegating tasks are 1, 1 and 0, not 0 for all), money in equal parts, and every share
    has all the seconds left."""
    ways = max(1, ways)
    tokens: list[int | None] = [None] * ways
    if ctx.token_budget is not None:
        tokens = list(_split(max(0, ctx.token_budget - tokens_spent(spent)), ways))
    cost = None
    if ctx.cost_budget_usd is not None:
        cost = round(max(0.0, ctx.cost_budget_usd - cost_spent(spent)) / ways, 8)
    tasks = _split(max(0, ctx.max_tasks - board_size), ways)
    seconds = round(max(0.0, ctx.deadline_s - busy_s), 3)
    return [
        Budget(tokens=tokens[i], cost_usd=cost, tasks=tasks[i], seconds=seconds)
        for i in range(ways)
    ]


def _split(total: int, ways: int) -> list[int]:
    """`total` in `ways` whole parts, the first ones larger by one when it does not divide."""
    each, extra = divmod(total, ways)
    return [each + (1 if i < extra else 0) for i in range(ways)]


def attach(
    payloads: MutableSequence[WorkerPayload],
    workers: Mapping[str, WorkerSpec[Any, Any]],
    ctx: Context,
    *,
    spent: Sequence[Mapping[str, Any]],
    board_size: int,
    busy_s: float,
) -> None:
    """Gives each payload of a delegating worker its share of the run's budget (in place), in
    dispatch order: a share left empty (fewer tasks or tokens left than delegating tasks) is
    refused when its task runs."""
    delegating = [p for p in payloads if (s := workers.get(p["worker"])) and s.delegates]
    if not delegating:
        return
    parts = shares(ctx, spent=spent, board_size=board_size, busy_s=busy_s, ways=len(delegating))
    for payload, budget in zip(delegating, parts, strict=True):
        payload["budget"] = budget


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
    """The usage records of a sub-run's latest run, from its state values, each one checked
    (`orchestrator.metering.checked_usage`): a sub-run, a remote one above all, is not trusted
    to report only what can be charged. Its `first_round` (where its latest run started) counts
    only up to its `round`, and without a `round` every record counts: a `first_round` beyond
    the sub-run's rounds cannot make its spending vanish.

    Raises `TaskFailed` when the records, `first_round` or `round` are not valid."""
    try:
        usage = checked_usage(values.get("usage") or [])
        first = _round_of(values, "first_round")
        last = _round_of(values, "round")
    except ValueError as exc:
        raise TaskFailed(f"the sub-run reported usage that is not valid: {exc}") from None
    first = 0 if last is None else min(first or 0, last)
    return [u for u in usage if u["round"] >= first]


def _round_of(values: Mapping[str, Any], key: str) -> int | None:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} is {value!r}, not a whole number from 0")
    return value


def charge_sub_run(values: Mapping[str, Any], *, charged: bool = True) -> UsageTotals:
    """What the sub-run spent, charged to the delegating task's attempt unless `charged` is
    False (another attempt has been charged already).

    Raises `TaskFailed` when the sub-run reported usage that is not valid (`sub_run_usage`)."""
    usage = sub_run_usage(values)
    if charged:
        charge(usage)
    return usage_totals(usage)
