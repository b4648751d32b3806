"""Approval: side effects wait for a human decision (`Context(approval="ask")`), or not ("auto")."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from domains.synthetic import COMMIT, ScriptedPlanner, synthetic_domain
from graph.builder import build_graph
from graph.persistence import open_checkpointer
from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from tests.unit.core.support import NOTHING, Harness, add, harness, log_of, task

ASK = Context(approval="ask")


def two_commits(view: PlanView) -> PlanUpdate:
    if not view.tasks:
        return add(task("c1", COMMIT, ms=0), task("c2", COMMIT, ms=0, payload="two"))
    return NOTHING


def paused_harness(saver: InMemorySaver) -> Harness:
    return harness(two_commits, checkpointer=saver, side_effects=True)


async def pause(h: Harness) -> dict[str, Any]:
    out = await h.run(context=ASK)
    assert out["status"] == "awaiting_approval"
    (question,) = out["__interrupt__"]
    value: dict[str, Any] = question.value
    return value


async def resume(h: Harness, decision: Any) -> Any:
    return await h.graph.ainvoke(Command(resume=decision), h.config, context=ASK)


async def test_ask_pauses_before_side_effects_and_lists_the_tasks(
    memory_saver: InMemorySaver,
) -> None:
    h = paused_harness(memory_saver)

    question = await pause(h)

    assert question["kind"] == "approval"
    assert question["task_ids"] == ["c1", "c2"]
    assert [(i["task_id"], i["worker"], i["inputs"]["payload"]) for i in question["items"]] == [
        ("c1", "commit", ""),
        ("c2", "commit", "two"),
    ]
    assert "error" not in question
    state = await h.graph.aget_state(h.config)
    assert state.next == ("approve",)
    assert h.calls == {}


async def test_approve_runs_the_side_effects(memory_saver: InMemorySaver) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    out = await resume(h, "approve")

    assert out["status"] == "completed"
    assert h.calls == {"c1": 1, "c2": 1}
    approvals = log_of(await h.values(), "approval")
    assert [e["message"] for e in approvals] == ["approved: c1, c2"]


async def test_reject_cancels_the_side_effects_and_logs_the_reason(
    memory_saver: InMemorySaver,
) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    await resume(h, {"decision": "reject", "reason": "too expensive"})

    assert h.calls == {}
    values = await h.values()
    assert {t["status"] for t in values["tasks"].values()} == {"cancelled"}
    assert [e["message"] for e in log_of(values, "approval")] == ["rejected by user: too expensive"]
    # The orchestrator got the board back and re-planned with the cancellations in view.
    last_view = h.planner.views[-1]
    assert last_view.round == 2
    assert last_view.tasks["c1"]["status"] == "cancelled"


async def test_rejecting_every_side_effect_does_not_end_the_run_completed(
    memory_saver: InMemorySaver,
) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    out = await resume(h, {"decision": "reject", "reason": "too expensive"})

    # Nothing was achieved, so the verifier's verdict is `failed`, whatever the planner says.
    assert out["status"] == "failed", out["reason"]
    assert "no task was done" in out["reason"]


async def test_edit_can_drop_a_task(memory_saver: InMemorySaver) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    await resume(h, {"decision": "edit", "drop": ["c2"]})

    assert h.calls == {"c1": 1}
    values = await h.values()
    assert values["tasks"]["c1"]["status"] == "done"
    assert values["tasks"]["c2"]["status"] == "cancelled"
    assert [e["message"] for e in log_of(values, "approval")] == ["approved: c1; dropped: c2"]


async def test_edit_can_change_inputs(memory_saver: InMemorySaver) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    await resume(h, {"decision": "edit", "inputs": {"c2": {"payload": "edited"}}})

    assert h.calls == {"c1": 1, "c2": 1}
    values = await h.values()
    assert values["tasks"]["c2"]["inputs"]["payload"] == "edited"
    assert values["results"]["c2#1"]["output"]["payload"] == "edited"


async def test_an_edit_naming_an_unknown_task_asks_again_with_an_error(
    memory_saver: InMemorySaver,
) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    out = await resume(h, {"decision": "edit", "drop": ["nope"]})

    assert out["status"] == "awaiting_approval"
    (question,) = out["__interrupt__"]
    assert question.value["error"] == "not in this approval: nope (choose from ['c1', 'c2'])"
    assert question.value["task_ids"] == ["c1", "c2"]
    assert (await h.graph.aget_state(h.config)).next == ("approve",)
    assert h.calls == {}

    # The run is still paused on the same question, and a valid answer goes through.
    out = await resume(h, "approve")
    assert out["status"] == "completed"
    assert h.calls == {"c1": 1, "c2": 1}


async def test_an_edit_with_invalid_inputs_asks_again_with_an_error(
    memory_saver: InMemorySaver,
) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    out = await resume(h, {"decision": "edit", "inputs": {"c1": {"ms": -5}}})

    (question,) = out["__interrupt__"]
    assert question.value["error"].startswith("c1: ")
    assert "greater than or equal to 0" in question.value["error"]
    assert h.calls == {}


async def test_an_unreadable_decision_asks_again_with_an_error(
    memory_saver: InMemorySaver,
) -> None:
    h = paused_harness(memory_saver)
    await pause(h)

    out = await resume(h, {"decision": "maybe"})

    (question,) = out["__interrupt__"]
    assert question.value["error"].startswith("unreadable decision: ")
    assert h.calls == {}


async def test_auto_runs_side_effects_without_pausing_after_the_plain_tasks(
    memory_saver: InMemorySaver,
) -> None:
    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return add(task("c1", COMMIT, ms=0), task("search", "sleep", ms=20))
        return NOTHING

    h = harness(script, checkpointer=memory_saver, side_effects=True)

    out = await h.run(context=Context(approval="auto"))

    assert out["status"] == "completed"
    assert "__interrupt__" not in out
    assert [r.task_id for r in h.domain.call_log.records] == ["search", "c1"]
    approvals = [e["message"] for e in log_of(await h.values(), "approval")]
    assert approvals == ["approved automatically (Context.approval=auto): c1"]


async def test_a_pause_survives_reopening_the_checkpointer(sqlite_path: str) -> None:
    domain = synthetic_domain(ScriptedPlanner(two_commits), side_effects=True)
    thread: RunnableConfig = {"configurable": {"thread_id": "paused"}}
    async with open_checkpointer(sqlite_path) as saver:
        out = await build_graph(domain, checkpointer=saver).ainvoke(
            {"goal": "book"}, thread, context=ASK
        )
    assert out["status"] == "awaiting_approval"

    async with open_checkpointer(sqlite_path) as saver:
        graph = build_graph(domain, checkpointer=saver)
        out = await graph.ainvoke(Command(resume="approve"), thread, context=ASK)

    assert out["status"] == "completed"
    assert domain.call_log.counts() == {"c1": 1, "c2": 1}
