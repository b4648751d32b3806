"""The delegation limits on a server: a caller may lower them freely, never raise them past the
operator's caps, and cannot pick the workers' model (a deployment setting)."""

from __future__ import annotations

import pytest

from orchestrator.context import ContextRefused, ServerContext, caller_context_problems


def test_a_caller_sets_depth_and_budgets_within_the_caps() -> None:
    fine = {"depth": 2, "max_depth": 5, "max_fanout": 8, "cost_budget_usd": 0.5, "max_tasks": 40}
    assert caller_context_problems(fine) is None
    ctx = ServerContext(**fine)
    assert (ctx.depth, ctx.max_depth, ctx.max_fanout, ctx.cost_budget_usd) == (2, 5, 8, 0.5)


def test_above_a_cap_or_below_zero_is_a_bad_request(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = caller_context_problems({"max_depth": 11, "depth": -1, "max_fanout": 0})
    assert refused is not None and not refused.forbidden
    text = str(refused)
    assert "max_depth=11 is above this server's cap of 10 (ORCHESTRATOR_CAP_MAX_DEPTH)" in text
    monkeypatch.setenv("ORCHESTRATOR_CAP_MAX_FANOUT", "4")
    monkeypatch.setenv("ORCHESTRATOR_CAP_COST_BUDGET_USD", "2.5")
    assert "max_fanout=9 is above this server's cap of 4" in str(
        caller_context_problems({"max_fanout": 9})
    )
    assert "must be 0 or more" in str(caller_context_problems({"depth": -1}))
    assert "must be at least 1" in str(caller_context_problems({"max_fanout": 0}))


def test_a_server_run_without_a_limit_gets_the_operators_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_CAP_MAX_FANOUT", "4")
    monkeypatch.setenv("ORCHESTRATOR_CAP_COST_BUDGET_USD", "2.5")
    ctx = ServerContext()
    assert ctx.max_fanout == 4 and ctx.cost_budget_usd == 2.5
    assert ServerContext(max_fanout=2).max_fanout == 2  # lower is the caller's to choose
    # The second line of defence: a context built around the check is brought under the caps.
    assert ServerContext(max_depth=50).max_depth == 10


def test_the_workers_model_is_the_deployments() -> None:
    refused = caller_context_problems({"worker_model": "gpt-4o"})
    assert isinstance(refused, ContextRefused) and refused.forbidden
