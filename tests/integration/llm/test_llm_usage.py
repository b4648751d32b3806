"""Token usage per round in the state, costs from the price table, and the token budget guard."""

from __future__ import annotations

import pytest

from domains.synthetic import SLEEP
from orchestrator.llm.usage import cost_usd, price_of, usage_totals
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import add, finish, llm_context, run, sleep_graph, task


async def test_usage_is_recorded_per_round_with_its_cost(server: ScriptedOpenAI) -> None:
    server.usage = (1000, 200)
    server.script(add(task("r1-a", SLEEP, ms=1)), add(task("r2-b", SLEEP, ms=1)), finish())
    values = (await run(sleep_graph(), llm_context(server, planner_model="gpt-4o-mini"))).values

    assert values["status"] == "completed"
    per_call = (1000 * 0.15 + 200 * 0.60) / 1e6
    assert values["usage"] == [
        {
            "round": n,
            "role": "planner",
            "prompt_tokens": 1000,
            "completion_tokens": 200,
            "cost_usd": pytest.approx(per_call),
            "model": "gpt-4o-mini",
        }
        for n in (1, 2, 3)
    ]
    totals = usage_totals(values["usage"])
    assert (totals.calls, totals.prompt_tokens, totals.completion_tokens) == (3, 3000, 600)
    assert totals.cost_usd == pytest.approx(3 * per_call)
    assert "3,600 tokens, cost $0.0008" in totals.describe()


async def test_the_token_budget_ends_the_run_partial(server: ScriptedOpenAI) -> None:
    server.usage = (1000, 100)
    server.script(*[add(task(f"r{n}-a", SLEEP, ms=1)) for n in range(1, 10)])
    values = (await run(sleep_graph(), llm_context(server, token_budget=2500))).values

    assert values["status"] == "partial"
    assert values["reason"] == "token budget spent: 3300 of 2500 (Context.token_budget)"
    assert server.calls == 3
    # The budget section saw the usage grow, round by round.
    for n, used in enumerate((0, 1100, 2200)):
        left = f'"tokens_used":{used},"tokens_left":{2500 - used}'
        assert left in server.requests[n]["messages"][1]["content"]


def test_prices_match_dated_snapshots_and_leave_unknown_models_unpriced() -> None:
    assert price_of("gpt-4o-mini-2024-07-18") == price_of("gpt-4o-mini")
    assert price_of("gpt-4o-2024-08-06") == price_of("gpt-4o")
    assert price_of("llama3.1:8b") is None
    assert cost_usd("my-local-model", 10_000, 10_000) is None
    assert usage_totals([]).describe().endswith("cost unknown (no price for this model)")
