"""Lanes: tasks already planned after others start when those finish, not a superstep later."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from orchestrator.board import lanes_of
from orchestrator.context import Context
from state import WorkerPayload
from tests.unit.core.support import add, harness, sleep, task


def _payload(task_id: str, after: list[str] | None = None) -> WorkerPayload:
    out = WorkerPayload(task_id=task_id, worker="sleep", inputs={}, attempt=1, scope="")
    if after:
        out["after"] = after
    return out


def test_a_dispatch_splits_into_lone_tasks_and_connected_lanes() -> None:
    payloads = [
        _payload("a1"),
        _payload("b1"),
        _payload("c1"),
        _payload("a2", ["a1"]),
        _payload("j", ["a2", "c1"]),
    ]
    alone, lanes = lanes_of(payloads)
    assert [p["task_id"] for p in alone] == ["b1"]
    assert [[p["task_id"] for p in lane] for lane in lanes] == [["a1", "c1", "a2", "j"]]
    assert lanes_of(payloads[:3]) == (payloads[:3], [])


async def test_a_chain_planned_up_front_runs_without_waiting_for_a_slow_sibling() -> None:
    h = harness([add(sleep("a1", 10), sleep("a2", 10, deps=["a1"]), sleep("slow", 400))])
    out = await h.run()
    assert out["status"] == "completed", out["reason"]
    log = h.domain.call_log
    (a2,) = log.of("a2")
    (slow,) = log.of("slow")
    assert slow.ended is not None
    assert a2.started < slow.ended - 0.2  # a2 did not wait for the barrier at the slow task
    assert h.planner.calls == 2  # one round planned, one round saw everything done


async def test_a_failed_task_leaves_what_waits_for_it_pending_for_the_planner() -> None:
    h = harness(
        [add(sleep("a1", 0, fail=True), sleep("a2", 0, deps=["a1"]), sleep("b", 0))],
        checkpointer=InMemorySaver(),
    )
    events: list[dict[str, Any]] = []
    async for chunk in h.graph.astream(
        {"goal": "g"}, h.config, context=Context(), stream_mode="custom"
    ):
        events.append(chunk)
    values = await h.values()
    tasks = values["tasks"]
    assert tasks["a1"]["status"] == "failed"
    assert tasks["a2"]["status"] == "pending" and tasks["a2"]["attempts"] == 0
    assert tasks["b"]["status"] == "done"
    assert h.calls.get("a2", 0) == 0
    assert values["status"] == "partial"
    dispatched = [e.get("task_id") for e in events if e.get("event") == "task_dispatched"]
    assert "a2" not in dispatched and {"a1", "b"} <= set(dispatched)


async def test_lane_tasks_announce_their_start_and_share_the_parallel_cap() -> None:
    h = harness(
        [
            add(
                sleep("a1", 20),
                sleep("a2", 20, deps=["a1"]),
                sleep("a3", 20, deps=["a2"]),
                sleep("b1", 20),
                sleep("b2", 20, deps=["b1"]),
            )
        ],
        checkpointer=InMemorySaver(),
    )
    events: list[dict[str, Any]] = []
    async for chunk in h.graph.astream(
        {"goal": "g"}, h.config, context=Context(max_parallel=1), stream_mode="custom"
    ):
        events.append(chunk)
    values = await h.values()
    assert values["status"] == "completed", values["reason"]
    assert h.domain.call_log.max_active == 1
    kinds = {(e.get("event"), e.get("task_id")) for e in events}
    for task_id in ("a1", "a2", "a3", "b1", "b2"):
        assert ("task_dispatched", task_id) in kinds
        assert ("task_done", task_id) in kinds
    assert values["round"] == 2  # one round dispatched all five, the next settled the run


async def test_side_effects_never_run_in_a_lane_they_wait_for_approval() -> None:
    h = harness(
        [add(sleep("s", 0), task("c", "commit", deps=["s"], ms=0))],
        checkpointer=InMemorySaver(),
        side_effects=True,
    )
    out = await h.run(context=Context(approval="ask"))
    assert out["status"] == "awaiting_approval"
    values = await h.values()
    assert values["tasks"]["s"]["status"] == "done"
    assert values["tasks"]["c"]["status"] == "pending"


async def test_a_lane_task_does_not_start_once_the_run_deadline_has_passed() -> None:
    h = harness([add(sleep("a1", 300), sleep("a2", 0, deps=["a1"]))], checkpointer=InMemorySaver())
    out = await h.run(context=Context(deadline_s=0.1))
    values = await h.values()
    assert values["tasks"]["a1"]["status"] == "done"
    assert values["tasks"]["a2"]["status"] == "pending"
    assert h.calls.get("a2", 0) == 0
    assert out["status"] == "partial" and "deadline" in out["reason"], out["reason"]
