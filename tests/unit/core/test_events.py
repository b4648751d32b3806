"""Custom stream events (`stream_mode="custom"`): the run's progress, as it happens."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from orchestrator.context import Context
from tests.unit.core.support import Harness, add, harness, sleep, task


async def custom_events(h: Harness, context: Context | None = None) -> list[dict[str, Any]]:
    return [
        event
        async for event in h.graph.astream(
            {"goal": "stream"}, context=context or Context(), stream_mode="custom"
        )
    ]


async def test_a_run_streams_its_progress_in_order() -> None:
    h = harness([add(sleep("ok", 0), sleep("bad", 0, fail=True))])

    events = await custom_events(h)

    names = [e["event"] for e in events]
    assert names[0] == "round_started"
    assert names[-1] == "run_finished"
    assert names.count("run_finished") == 1
    assert names.index("plan_changed") < names.index("task_dispatched")
    assert names.index("task_dispatched") < names.index("task_done")
    assert set(names) == {
        "round_started",
        "plan_changed",
        "task_dispatched",
        "task_done",
        "task_failed",
        "run_finished",
    }


async def test_events_carry_the_round_the_task_and_the_outcome() -> None:
    h = harness([add(sleep("ok", 0), sleep("bad", 0, fail=True))])

    events = await custom_events(h)

    by_name: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_name.setdefault(event["event"], []).append(event)
    assert [e["round"] for e in by_name["round_started"]] == [1, 2]
    (changed,) = by_name["plan_changed"]
    assert changed["round"] == 1
    assert changed["added"] == ["ok", "bad"]
    dispatched = {(e["task_id"], e["worker"], e["round"]) for e in by_name["task_dispatched"]}
    assert dispatched == {("ok", "sleep", 1), ("bad", "sleep", 1)}
    (done,) = by_name["task_done"]
    assert (done["task_id"], done["attempt"], done["summary"]) == (
        "ok",
        1,
        "ok slept 0 ms (call 1)",
    )
    (failed,) = by_name["task_failed"]
    assert (failed["task_id"], failed["summary"]) == ("bad", "bad failed as asked")
    (finished,) = by_name["run_finished"]
    assert finished["status"] == "partial"
    assert finished["reason"] == "nothing more can run: 1 done, 1 failed, 0 cancelled"


async def test_an_approval_pause_is_announced(memory_saver: InMemorySaver) -> None:
    h = harness([add(task("c1", "commit", ms=0))], checkpointer=memory_saver, side_effects=True)

    events = [
        event
        async for event in h.graph.astream(
            {"goal": "book"}, h.config, context=Context(approval="ask"), stream_mode="custom"
        )
    ]

    needed = [e for e in events if e["event"] == "approval_needed"]
    assert len(needed) == 1
    assert needed[0]["task_ids"] == ["c1"]
    assert needed[0]["round"] == 1
    assert "run_finished" not in [e["event"] for e in events]


async def test_a_rejected_plan_update_is_announced() -> None:
    h = harness([add(task("x", "teleport")), add(sleep("ok"))])

    events = await custom_events(h)

    rejected = [e for e in events if e["event"] == "plan_rejected"]
    assert len(rejected) == 1
