"""A worker's model calls are attributed to its task however the attempt ends: done, failed
(`TaskFailed`), retried after a fault (the failed try's calls count too), or run in a lane."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from domains.synthetic import ScriptedPlanner, synthetic_domain
from orchestrator.adapters import chat_model_for
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.report.cost import cost_breakdown
from orchestrator.testing.scripted_openai import ScriptedOpenAI, scripted_openai
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec
from tests.integration.budgets.support import context, run, scripted, think_worker
from tests.unit.core.support import NOTHING, add, task


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with scripted_openai() as state:
        yield scripted(state)


class Ask(BaseModel):
    prompt: str
    then: str = "ok"
    """`ok`, `fail` (TaskFailed) or `crash-once` (a fault on the first try, then ok)."""


class Answer(BaseModel):
    text: str


def asking_worker() -> WorkerSpec[Ask, Answer]:
    tries: dict[str, int] = {}

    async def run(inputs: Ask, call: WorkerCall) -> Answer:
        async with chat_model_for(call) as model:
            reply = await model.ainvoke(inputs.prompt)
        tries[call.task_id] = tries.get(call.task_id, 0) + 1
        if inputs.then == "fail":
            raise TaskFailed("the answer was no use")
        if inputs.then == "crash-once" and tries[call.task_id] == 1:
            raise RuntimeError("the worker fell over after asking")
        return Answer(text=reply.text)

    return WorkerSpec(
        name="ask",
        description="Asks the model, then succeeds, fails or crashes once.",
        input_model=Ask,
        output_model=Answer,
        run=run,
        max_attempts=2,
    )


def plan(view: PlanView) -> PlanUpdate:
    if not view.tasks:
        return add(
            task("fine", "ask", prompt="a"),
            task("no-use", "ask", prompt="b", then="fail"),
            task("flaky", "ask", prompt="c", then="crash-once"),
            task("first", "think", prompt="d"),
            task("second", "think", ["first"], prompt="e"),  # runs in first's lane
        )
    return NOTHING


async def test_every_attempt_is_charged_to_its_task(server: ScriptedOpenAI) -> None:
    workers = [asking_worker(), think_worker()]
    domain = synthetic_domain(ScriptedPlanner(plan), extra_workers=workers)
    values, events = await run(domain, context(server))

    lane = [e for e in events if e["event"] == "task_dispatched" and e["task_id"] == "second"]
    assert lane and lane[0]["round"] == 1, "second ran in first's lane, in round 1"
    assert values["tasks"]["no-use"]["status"] == "failed"
    assert values["tasks"]["flaky"]["status"] == "done"
    cost = cost_breakdown(values["usage"])
    calls = {k: t.calls for k, t in cost.by_task.items()}
    assert calls == {"fine": 1, "no-use": 1, "flaky": 2, "first": 1, "second": 1}
    assert cost.total.calls == server.calls == 6
    assert cost.total.tokens == server.prompt_tokens + server.completion_tokens
    assert {(u["task_id"], u["attempt"], u["round"]) for u in values["usage"]} == {
        ("fine", 1, 1),
        ("no-use", 1, 1),
        ("flaky", 1, 1),
        ("first", 1, 1),
        ("second", 1, 1),
    }
    assert cost.by_worker.keys() == {"ask", "think"}
