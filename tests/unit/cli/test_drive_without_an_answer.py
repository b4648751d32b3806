"""`drive` with an approver that gives no answer (end of input, Ctrl-C): the run stays paused."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from domains.synthetic import COMMIT
from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.runner import drive
from tests.unit.core.support import NOTHING, add, harness, task

ASK = Context(approval="ask")


def two_commits(view: PlanView) -> PlanUpdate:
    if not view.tasks:
        return add(task("c1", COMMIT, ms=0), task("c2", COMMIT, ms=0))
    return NOTHING


async def test_no_answer_leaves_the_run_paused_and_writes_nothing() -> None:
    saver = InMemorySaver()
    h = harness(two_commits, checkpointer=saver, side_effects=True)
    asked: list[dict[str, Any]] = []

    async def nobody(question: dict[str, Any]) -> dict[str, str] | None:
        asked.append(question)
        if len(asked) > 1:  # asked again: stop the loop, the assertions below will fail
            return {"decision": "reject", "reason": "asked twice"}
        return None

    first = await drive(h.graph, {"goal": "book"}, config=h.config, context=ASK, approver=nobody)
    checkpoints = [c async for c in h.graph.aget_state_history(h.config)]

    assert len(asked) == 1  # asked once, not again and again
    assert not first.finished and first.paused[0]["value"]["task_ids"] == ["c1", "c2"]
    assert first.values["status"] == "awaiting_approval"
    assert (await h.graph.aget_state(h.config)).next == ("approve",)
    assert h.calls == {}
    assert "cancelled" not in {t["status"] for t in first.values["tasks"].values()}

    async def approve(question: dict[str, Any]) -> str:
        return "approve"

    # Nothing was written by the unanswered question: the next answer resumes the same pause.
    assert [c async for c in h.graph.aget_state_history(h.config)] == checkpoints
    final = await drive(h.graph, None, config=h.config, context=ASK, approver=approve)

    assert final.finished and final.values["status"] == "completed"
    assert h.calls == {"c1": 1, "c2": 1}
