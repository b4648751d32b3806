"""A run's input is checked before its first round plans, from Python as from the CLI: no goal,
a goal too long, a malformed trip, an unknown airport each end the run `failed` with one line
(kept as the claim, shown in the answer) and nothing planned; a good trip is not delayed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from domains.synthetic import ScriptedPlanner, synthetic_domain
from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from graph import build_graph
from nodes.orchestrate import MAX_GOAL_CHARS
from orchestrator.context import Context
from orchestrator.runner import run_config


def _trip(inventory: Inventory, **leg: Any) -> dict[str, Any]:
    day = inventory.window()[0] + timedelta(days=30)
    first = {"origin": "SFO", "destination": "CDG", "date": day.isoformat(), **leg}
    return {"goal": "Paris", "request": {"legs": [first], "travelers": 1}}


async def _run(data_dir: Path, start: dict[str, Any], domain: Any = None) -> dict[str, Any]:
    graph = build_graph(domain or travel_domain(), checkpointer=InMemorySaver())
    context = Context(data_dir=str(data_dir), approval="auto")
    config = run_config("checked", context)
    await graph.ainvoke(start, config, context=context)
    return dict((await graph.aget_state(config)).values)


@pytest.mark.parametrize(
    ("start", "said"),
    [
        ({}, "the input has no goal"),
        ({"goal": "   ", "request": None}, "the input has no goal"),
        ({"goal": "x" * (MAX_GOAL_CHARS + 1)}, f"at most {MAX_GOAL_CHARS:,} are read"),
        ({"goal": "Paris", "request": {"legs": []}}, "no valid trip request: legs:"),
        ({"goal": "Paris", "request": {"travelers": 2}}, "no valid trip request: legs: Field"),
    ],
    ids=["empty", "blank-goal", "long-goal", "no-legs", "legs-missing"],
)
async def test_input_that_cannot_be_planned_ends_the_run_before_planning(
    data_dir: Path, start: dict[str, Any], said: str
) -> None:
    values = await _run(data_dir, start)
    assert values["status"] == "failed"
    assert said in values["claim"]["reason"], values["claim"]
    assert values["tasks"] == {} and values["round"] == 1
    assert values["log"][0]["kind"] == "rejected"


async def test_an_unknown_airport_is_refused_and_a_good_trip_books(
    data_dir: Path, inventory: Inventory
) -> None:
    refused = await _run(data_dir, _trip(inventory, origin="ZZZ"))
    assert "unknown airport 'ZZZ'" in refused["claim"]["reason"]
    assert "unknown airport 'ZZZ'" in refused["answer"]["summary"]
    assert refused["tasks"] == {}

    booked = await _run(data_dir, {**_trip(inventory), "goal": "Paris again"})
    assert booked["status"] == "completed", booked["reason"]


async def test_a_domain_without_a_request_check_still_needs_a_goal(data_dir: Path) -> None:
    domain = synthetic_domain(lambda _ctx: ScriptedPlanner([]))
    values = await _run(data_dir, {"request": {"anything": 1}}, domain)
    assert values["status"] == "failed" and "the input has no goal" in values["reason"]
