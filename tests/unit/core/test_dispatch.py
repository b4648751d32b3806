"""Dispatch: every ready task goes out in one superstep, and a finished task never goes again."""

from __future__ import annotations

import time

from langgraph.checkpoint.memory import InMemorySaver

from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from tests.unit.core.support import add, finish, harness, sleep


async def test_twenty_independent_tasks_run_in_parallel_in_one_superstep(
    memory_saver: InMemorySaver,
) -> None:
    h = harness([add(*(sleep(f"t{i}", 50) for i in range(20)))], checkpointer=memory_saver)

    worker_steps: set[int] = set()
    started = time.monotonic()
    async for event in h.graph.astream(
        {"goal": "fan out"}, h.config, context=Context(), stream_mode="debug"
    ):
        if event["type"] == "task" and event["payload"]["name"] == "sleep":
            worker_steps.add(event["step"])
    wall = time.monotonic() - started

    records = h.domain.call_log.records
    assert len(records) == 20
    first_start = min(r.started for r in records)
    last_end = max(r.ended or 0.0 for r in records)
    # One after the other this would take 20 x 50 ms = 1 s.
    assert last_end - first_start < 0.6
    assert wall < 1.0
    assert len(worker_steps) == 1
    assert h.domain.call_log.max_active == min(20, Context().max_parallel)
    values = await h.values()
    assert values["status"] == "completed"
    assert {t["round"] for t in values["tasks"].values()} == {1}
    # Round 1 planned and dispatched all 20, round 2 found nothing left: two rounds in all.
    assert values["round"] == 2
    assert h.planner.calls == 2


async def test_a_task_that_succeeded_is_never_dispatched_again() -> None:
    def script(view: PlanView) -> PlanUpdate:
        if view.round == 1:
            return add(sleep("a", 5), sleep("b", 5))
        if view.round == 2:
            return add(sleep("c", 5, deps=["a"]))
        if view.round == 3:
            return add(sleep("d", 5, deps=["b", "c"]))
        return finish()

    h = harness(script)

    out = await h.run()

    assert out["status"] == "completed"
    assert h.calls == {"a": 1, "b": 1, "c": 1, "d": 1}
    assert h.planner.calls == 4


async def test_asking_to_retry_a_done_task_is_rejected_and_it_does_not_run_again(
    memory_saver: InMemorySaver,
) -> None:
    h = harness(
        [add(sleep("a")), PlanUpdate(retry=["a"]), finish()], checkpointer=memory_saver, then=None
    )

    out = await h.run()

    assert out["status"] == "completed"
    assert h.calls == {"a": 1}
    rejected = [e for e in (await h.values())["log"] if e["kind"] == "rejected"]
    assert [e["data"]["errors"] for e in rejected] == [["cannot retry 'a': it is done, not failed"]]
