"""Bounded delegation, locally: an orchestrator that delegates to clones of itself stops at
`Context.max_depth`; a clone runs within its share of the caller's token budget, ends `partial`
through its own synthesis when it runs out, and the caller sees why and is charged for it.

Every model call is real HTTP to the scripted loopback server, which reports 120 tokens a call.
"""

from __future__ import annotations

from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.report.cost import cost_breakdown
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.budgets.support import (
    clone_domain,
    context,
    run,
    settle,
    think_forever,
    tokens,
)
from tests.unit.core.support import add, task


def recurse(view: PlanView) -> PlanUpdate:
    """Every run thinks once and hands the same goal to a clone of itself: without a cap, for
    ever."""
    if not view.tasks:
        depth = view.context.depth
        return add(
            task("think", "think", prompt=f"at depth {depth}"),
            task("deeper", "delegate", goal=view.goal),
        )
    return settle(view)


def prompts(server: ScriptedOpenAI) -> list[str]:
    return sorted(str(r["messages"][-1]["content"]) for r in server.requests)


async def test_recursive_delegation_stops_at_max_depth_with_the_reason(
    server: ScriptedOpenAI,
) -> None:
    values, _ = await run(clone_domain(recurse), context(server, max_depth=2))

    # The top run and its clones at depths 1 and 2 each thought once; none ran at depth 3.
    assert prompts(server) == ["at depth 0", "at depth 1", "at depth 2"]
    assert values["status"] == "partial"
    error = values["tasks"]["deeper"]["error"]
    # The chain of sub-runs comes back up: each ended partial because the one below did.
    assert error.count("sub-orchestrator ended partial") == 2
    assert error.endswith(
        "deeper failed: delegation refused: the sub-run would be at depth 3, beyond "
        "max_depth=2 (Context.max_depth); do this part here instead of delegating it"
    )
    # What the clones spent is charged to the task that delegated to them.
    cost = cost_breakdown(values["usage"])
    assert cost.by_task["think"].calls == 1
    assert cost.by_task["deeper"].calls == 2
    assert cost.by_worker["delegate"].tokens == 2 * 120
    assert cost.total.tokens == server.prompt_tokens + server.completion_tokens == 3 * 120


async def test_the_default_depth_cap_is_three(server: ScriptedOpenAI) -> None:
    values, _ = await run(clone_domain(recurse), context(server))

    assert prompts(server) == [f"at depth {d}" for d in range(4)]
    assert "beyond max_depth=3" in values["tasks"]["deeper"]["error"]


def spend_then_delegate(view: PlanView) -> PlanUpdate:
    """The top run thinks once, then delegates; a clone thinks until its budget stops it."""
    if view.context.depth > 0:
        return think_forever(view)
    if not view.tasks:
        return add(task("think", "think", prompt="first"))
    if "deeper" not in view.tasks:
        return add(task("deeper", "delegate", goal="keep thinking"))
    return settle(view)


async def test_a_clone_runs_within_what_is_left_of_the_token_budget(
    server: ScriptedOpenAI,
) -> None:
    values, _ = await run(clone_domain(spend_then_delegate), context(server, token_budget=1000))

    # The clone was given 1000 - 120 tokens, spent them 120 at a time, and stopped at the first
    # round over its budget: partial, through its own synthesis, and the caller says why.
    error = values["tasks"]["deeper"]["error"]
    assert values["tasks"]["deeper"]["status"] == "failed"
    assert error == (
        "sub-orchestrator ended partial: token budget spent: 960 of 880 (Context.token_budget)"
    )
    # The caller counts what the clone spent: its own guard stops it too.
    assert values["status"] == "partial"
    assert values["reason"] == "token budget spent: 1080 of 1000 (Context.token_budget)"
    cost = cost_breakdown(values["usage"])
    assert cost.by_task["deeper"].tokens == 960 and cost.by_task["deeper"].calls == 8
    assert tokens(values["usage"]) == server.prompt_tokens + server.completion_tokens == 1080
    assert server.calls == 9


def two_at_once(view: PlanView) -> PlanUpdate:
    if view.context.depth > 0:
        return think_forever(view)
    if not view.tasks:
        return add(task("left", "delegate", goal="left"), task("right", "delegate", goal="right"))
    return settle(view)


async def test_clones_dispatched_together_share_what_is_left(server: ScriptedOpenAI) -> None:
    values, _ = await run(clone_domain(two_at_once), context(server, token_budget=1000))

    # 500 tokens each, not 1000 each: together they cannot spend the budget twice over.
    for task_id in ("left", "right"):
        assert values["tasks"][task_id]["error"] == (
            "sub-orchestrator ended partial: token budget spent: 600 of 500 (Context.token_budget)"
        )
    assert tokens(values["usage"]) == server.prompt_tokens + server.completion_tokens == 1200


async def test_a_cost_budget_stops_a_run_on_a_priced_model(server: ScriptedOpenAI) -> None:
    def alone(view: PlanView) -> PlanUpdate:
        return think_forever(view)

    ctx = context(server, worker_model="gpt-4o-mini", cost_budget_usd=0.0001)
    values, _ = await run(clone_domain(alone), ctx)

    # gpt-4o-mini: 100 prompt tokens at $0.15/M and 20 completion tokens at $0.60/M a call.
    assert values["status"] == "partial"
    assert values["reason"] == "cost budget spent: $0.000108 of $0.0001 (Context.cost_budget_usd)"
    cost = cost_breakdown(values["usage"])
    assert cost.total.calls == server.calls == 4
    assert cost.total.cost_usd == round(4 * (100 * 0.15 + 20 * 0.60) / 1e6, 8)
    assert {r["model"] for r in server.requests} == {"gpt-4o-mini"}


async def test_no_delegation_when_nothing_is_left_to_hand_down(server: ScriptedOpenAI) -> None:
    def late(view: PlanView) -> PlanUpdate:
        if view.context.depth > 0:
            return think_forever(view)
        if not view.tasks:
            return add(task("think", "think", prompt="expensive"))
        if "deeper" not in view.tasks:
            return add(task("deeper", "delegate", goal="more"))
        return settle(view)

    values, _ = await run(clone_domain(late), context(server, token_budget=120))

    assert values["tasks"]["deeper"]["error"] == (
        "delegation refused: this run has no tokens (Context.token_budget) left to hand to a "
        "sub-run"
    )
    assert server.calls == 1
