"""Recursive delegation: a worker that runs a whole sub-orchestration as a nested subgraph."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from domains.synthetic import CallLog, ScriptedPlanner, SyntheticDomain, synthetic_domain
from graph.builder import build_graph
from graph.persistence import open_checkpointer
from orchestrator.context import Context
from orchestrator.delegate import delegate_worker
from orchestrator.planning import PlanUpdate, PlanView
from tests.unit.core.support import NOTHING, add, finish, sleep, sqlite_rows, task

THREAD: RunnableConfig = {"configurable": {"thread_id": "top"}}


def sub_plan(view: PlanView) -> PlanUpdate:
    """Two parallel sleeps named after the sub-goal, then a verdict that quotes the goal."""
    if not view.tasks:
        return add(sleep(f"{view.goal}-1", 100), sleep(f"{view.goal}-2", 100))
    return finish("completed", f"{view.goal} answered")


def top_plan(view: PlanView) -> PlanUpdate:
    if not view.tasks:
        return add(
            task("d-north", "delegate", goal="north"),
            task("d-south", "delegate", goal="south"),
        )
    return NOTHING


def domains(
    sub_script: Callable[[PlanView], PlanUpdate] = sub_plan,
) -> tuple[SyntheticDomain, SyntheticDomain]:
    """The managing domain (sleep + delegate) and the sub-domain, sharing one call log."""
    calls = CallLog()
    sub = synthetic_domain(ScriptedPlanner(sub_script), call_log=calls, name="sub")
    top = synthetic_domain(
        ScriptedPlanner(top_plan), call_log=calls, extra_workers=[delegate_worker(sub)]
    )
    return top, sub


async def test_two_sub_orchestrations_run_in_parallel_and_both_answers_come_back(
    sqlite_path: str,
) -> None:
    top, _ = domains()
    async with open_checkpointer(sqlite_path) as saver:
        out = await build_graph(top, checkpointer=saver).ainvoke(
            {"goal": "cover both regions"}, THREAD, context=Context()
        )

    assert out["status"] == "completed"
    outputs = out["answer"]["data"]["outputs"]
    assert set(outputs) == {"d-north", "d-south"}
    assert outputs["d-north"]["status"] == "completed"
    assert outputs["d-north"]["reason"] == "north answered"
    assert outputs["d-south"]["reason"] == "south answered"
    assert set(outputs["d-north"]["data"]["outputs"]) == {"north-1", "north-2"}
    assert set(outputs["d-south"]["data"]["outputs"]) == {"south-1", "south-2"}
    # Each sub-orchestrator ran its own plan; the four sleeps overlapped in time.
    records = top.call_log.records
    assert sorted(r.task_id for r in records) == ["north-1", "north-2", "south-1", "south-2"]
    assert max(r.started for r in records) < min(r.ended or 0.0 for r in records)


async def test_sub_run_checkpoints_nest_under_the_parent_thread(sqlite_path: str) -> None:
    top, _ = domains()
    async with open_checkpointer(sqlite_path) as saver:
        await build_graph(top, checkpointer=saver).ainvoke(
            {"goal": "cover both regions"}, THREAD, context=Context()
        )

    rows = sqlite_rows(
        sqlite_path,
        "SELECT thread_id, checkpoint_ns, COUNT(*) FROM checkpoints GROUP BY 1, 2 ORDER BY 2",
    )
    assert {thread for thread, _, _ in rows} == {"top"}
    namespaces = [ns for _, ns, _ in rows]
    assert namespaces[0] == ""
    nested = namespaces[1:]
    assert len(nested) == 2
    assert all(ns.startswith("delegate:") for ns in nested)
    assert all(count > 0 for _, _, count in rows)


async def test_a_sub_orchestration_that_does_not_complete_is_a_failed_task() -> None:
    def gives_up(view: PlanView) -> PlanUpdate:
        if view.goal == "south":
            return finish("failed", "south is unreachable")
        return sub_plan(view)

    top, _ = domains(gives_up)

    out = await build_graph(top).ainvoke({"goal": "cover both"}, context=Context())

    assert out["status"] == "partial"
    assert set(out["answer"]["data"]["outputs"]) == {"d-north"}
    assert (
        "d-south [delegate] failed: sub-orchestrator ended failed: south is unreachable"
        in (out["answer"]["summary"])
    )


async def test_sibling_sub_orchestrations_get_distinct_idempotency_keys() -> None:
    def same_ids(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return add(sleep("book-1", 0))
        return finish("completed", "booked")

    top, _ = domains(same_ids)

    async with open_checkpointer(":memory:") as saver:
        out = await build_graph(top, checkpointer=saver).ainvoke(
            {"goal": "book twice"}, THREAD, context=Context()
        )

    assert out["status"] == "completed"
    # Both sub-runs named their task 'book-1' on the same thread: the delegating task's id
    # keeps their side-effect keys apart.
    keys = sorted(r.idempotency_key for r in top.call_log.records)
    assert sorted(_without_run(k) for k in keys) == ["top:d-north/book-1", "top:d-south/book-1"]
    # Each sub-run is a run of its own: its run id is in its keys too.
    assert len({k.split(":")[1] for k in keys}) == 2


async def test_a_sub_orchestrations_approval_pause_bubbles_up_to_the_caller(
    sqlite_path: str,
) -> None:
    def sub_books(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return add(task("book-1", "commit", ms=0))
        return NOTHING

    calls = CallLog()
    sub = synthetic_domain(ScriptedPlanner(sub_books), call_log=calls, side_effects=True)
    top = synthetic_domain(
        ScriptedPlanner(top_plan), call_log=calls, extra_workers=[delegate_worker(sub)]
    )
    ask = Context(approval="ask")

    async with open_checkpointer(sqlite_path) as saver:
        graph = build_graph(top, checkpointer=saver)
        paused = await graph.ainvoke({"goal": "book both"}, THREAD, context=ask)
        assert calls.counts() == {}
        questions = paused["__interrupt__"]
        assert sorted(q.value["task_ids"][0] for q in questions) == ["book-1", "book-1"]

        resume = {q.id: "approve" for q in questions}
        out = await graph.ainvoke(Command(resume=resume), THREAD, context=ask)

    assert out["status"] == "completed"
    keys = sorted(r.idempotency_key for r in calls.records)
    assert sorted(_without_run(k) for k in keys) == ["top:d-north/book-1", "top:d-south/book-1"]


def _without_run(key: str) -> str:
    """`thread:run:scope+task` -> `thread:scope+task` (run ids are random per run)."""
    thread, run, rest = key.split(":", 2)
    assert len(run) == 16, key
    return f"{thread}:{rest}"
