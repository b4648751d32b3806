"""`Context.max_fanout`: at most that many tasks are dispatched per round; the other ready tasks
wait for the next round (never failed), lane followers included."""

from __future__ import annotations

from collections import Counter
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from domains.synthetic import ScriptedPlanner, synthetic_domain
from graph.builder import build_graph
from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.runner import drive, run_config
from tests.unit.core.support import NOTHING, add, sleep


async def run(plan: Any, ctx: Context) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    domain = synthetic_domain(ScriptedPlanner(plan))
    outcome = await drive(
        build_graph(domain, checkpointer=InMemorySaver()),
        {"goal": "fan out"},
        config=run_config("fanout", ctx),
        context=ctx,
        on_event=events.append,
    )
    return outcome.values, events


def per_round(events: list[dict[str, Any]]) -> dict[int, int]:
    return dict(Counter(e["round"] for e in events if e["event"] == "task_dispatched"))


def seven_at_once(view: PlanView) -> PlanUpdate:
    if not view.tasks:
        return add(*(sleep(f"t{i}", 20) for i in range(7)))
    return NOTHING


async def test_ready_tasks_beyond_the_cap_wait_for_the_next_round() -> None:
    values, events = await run(seven_at_once, Context(max_fanout=3))

    assert per_round(events) == {1: 3, 2: 3, 3: 1}
    assert values["status"] == "completed", values["reason"]
    assert {t["status"] for t in values["tasks"].values()} == {"done"}
    assert all(t["attempts"] == 1 for t in values["tasks"].values())


async def test_without_a_cap_every_ready_task_goes_at_once() -> None:
    _, events = await run(seven_at_once, Context())

    assert per_round(events) == {1: 7}


def chain_and_one(view: PlanView) -> PlanUpdate:
    if not view.tasks:
        return add(
            sleep("a", 20), sleep("b", 20, deps=["a"]), sleep("c", 20, deps=["b"]), sleep("x", 20)
        )
    return NOTHING


async def test_lane_followers_count_against_the_cap() -> None:
    values, events = await run(chain_and_one, Context(max_fanout=3))

    # a and x are ready; b follows a in its lane and fits; c (after b) does not, and waits.
    assert per_round(events) == {1: 3, 2: 1}
    dispatched = [e["task_id"] for e in events if e["event"] == "task_dispatched"]
    assert sorted(dispatched[:3]) == ["a", "b", "x"] and dispatched[3] == "c"
    assert values["status"] == "completed", values["reason"]
