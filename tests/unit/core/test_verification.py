"""The verifier seat: a planner's `completed` is a claim that the domain's verifier may refuse."""

from __future__ import annotations

from dataclasses import replace

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from graph import build_graph
from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.verification import Claim, Verdict, VerificationView
from tests.unit.core.support import NOTHING, add, finish, harness, log_of, sleep


async def test_a_false_completion_is_refused_and_re_asked_with_the_unmet_list() -> None:
    h = harness(
        lambda view: finish("completed", "all done, trust me"), checkpointer=InMemorySaver()
    )

    out = await h.run(context=Context(plan_attempts=3))

    assert out["status"] == "failed"
    assert out["reason"] == "no task was done"
    assert h.planner.calls == 3  # asked, then re-asked twice with the refusal
    feedback = h.planner.views[1].feedback
    assert feedback[0].startswith("finish 'completed' refused")
    assert feedback[1:] == ["unmet: no task was done"]
    assert len(log_of(await h.values(), "rejected")) == 3


async def test_a_planner_that_fixes_what_was_unmet_is_then_believed() -> None:
    def script(view: PlanView) -> PlanUpdate:
        if view.feedback:
            return add(sleep("a"))
        if "a" in view.tasks and view.tasks["a"]["status"] == "done":
            return finish("completed", "a is done")
        return finish("completed", "nothing needed")

    h = harness(script)

    out = await h.run()

    assert out["status"] == "completed"
    assert out["reason"] == "a is done"
    assert h.calls == {"a": 1}


async def test_the_verdict_is_the_final_status_whatever_the_planner_claims() -> None:
    claims: list[Claim | None] = []

    class Strict:
        async def verify(self, view: VerificationView) -> Verdict:
            claims.append(view.claim)
            return Verdict(status="partial", reason="computed: 1 of 2", unmet=["the second one"])

    h = harness([add(sleep("a")), finish("partial", "the planner's own words")], then=NOTHING)
    strict = replace(h.domain, verifier=lambda _ctx: Strict())  # the same domain, stricter
    graph = build_graph(strict, checkpointer=InMemorySaver())
    config = RunnableConfig(configurable={"thread_id": "t"})

    out = await graph.ainvoke({"goal": "g"}, config, context=Context())

    assert (out["status"], out["reason"]) == ("partial", "computed: 1 of 2")
    assert out["answer"]["status"] == "partial"
    assert claims[-1] == Claim(status="partial", reason="the planner's own words")
    log = (await graph.aget_state(config)).values["log"]
    [verified] = [e for e in log if e["message"].startswith("verified:")]
    assert verified["data"] == {
        "verdict": {"status": "partial", "reason": "computed: 1 of 2", "unmet": ["the second one"]},
        "claim": "partial",
    }


def test_a_verdict_with_unmet_requirements_cannot_be_completed() -> None:
    with pytest.raises(ValueError, match="cannot be `completed`"):
        Verdict(status="completed", reason="x", unmet=["y"])
