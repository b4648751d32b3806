"""A finish sent with the last tasks: the run ends once they succeed, without another model call,
with the verifier's reason (the planner's was written before the results); if one fails, the
planner is asked again and the held finish is dropped."""

from __future__ import annotations

from domains.synthetic import SLEEP
from orchestrator import board
from orchestrator.context import Context
from orchestrator.llm.planner import FINISH_WHEN_DONE, settle_deferred
from orchestrator.planning import NewTask, PlanView
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from orchestrator.verification import PLANNED_BEFORE_RESULTS
from state import Task, TaskStatus
from tests.integration.llm.support import (
    add,
    finish,
    llm_context,
    prompt_of,
    run,
    sleep_domain,
    sleep_graph,
)
from tests.integration.llm.support import task as new


async def test_a_finish_with_the_last_tasks_ends_the_run_when_they_succeed(
    server: ScriptedOpenAI,
) -> None:
    server.script(
        add(new("r1-a", SLEEP, ms=1), notes={"kept": 1}),
        add(new("r2-b", SLEEP, ms=1), **finish("completed", "both slept")),
    )
    values = (await run(sleep_graph(), llm_context(server))).values

    assert server.calls == 2, "no call to hear the finish again"
    assert server.left == 0 and not server.errors
    assert values["status"] == "completed"
    # "both slept" was written before r2-b ran: the verifier's reason, from the board, stands;
    # the planner's words stay in the claim, marked as written before the results.
    assert values["reason"] == "2 tasks done"
    assert values["claim"] == {
        "status": "completed",
        "reason": f"{PLANNED_BEFORE_RESULTS}both slept",
    }
    assert values["tasks"]["r2-b"]["status"] == "done", "the tasks ran before the run ended"
    assert values["notes"] == {"kept": 1}, "the held finish leaves no trace in the notes"
    assert "A finish sent with new tasks" in prompt_of(server.requests[0]), "the model is told"


async def test_a_failed_task_brings_the_planner_back_and_drops_the_held_finish(
    server: ScriptedOpenAI,
) -> None:
    server.script(
        add(new("r1-a", SLEEP, ms=1)),
        add(
            new("r2-b", SLEEP, ms=1, fail=True),
            new("r2-c", SLEEP, ms=1),
            **finish("completed", "all slept"),
        ),
        finish("partial", "r2-b failed"),
    )
    values = (await run(sleep_graph(), llm_context(server))).values

    assert server.calls == 3, "asked again after the failure"
    round3 = prompt_of(server.requests[2])
    assert '"id":"r2-b"' in round3 and '"status":"failed"' in round3
    assert FINISH_WHEN_DONE not in round3, "the held finish is the planner's, not the model's"
    assert values["status"] == "partial" and values["reason"] == "r2-b failed"
    assert FINISH_WHEN_DONE not in (values.get("notes") or {})


def _view(tasks: dict[str, Task], notes: dict[str, object]) -> PlanView:
    return PlanView(
        goal="g",
        request=None,
        tasks=tasks,
        results={},
        round=3,
        notes=notes,
        workers=sleep_domain().workers,
        context=Context(),
    )


def test_a_held_finish_waits_for_tasks_still_to_run_and_gives_way_to_a_blocked_one() -> None:
    def task(task_id: str, status: TaskStatus, deps: tuple[str, ...] = ()) -> Task:
        made = board.new_task(
            NewTask(id=task_id, worker=SLEEP, inputs={"ms": 1}, depends_on=list(deps)), 2
        )
        made["status"] = status
        return made

    held = {FINISH_WHEN_DONE: {"status": "completed", "reason": "r", "tasks": ["b", "c"]}}
    ready = {"b": task("b", "done"), "c": task("c", "pending", ("b",))}
    waiting = settle_deferred(_view(ready, held))
    assert waiting is not None and waiting.is_empty(), "c can still run: no call, no finish"

    done = {"b": task("b", "done"), "c": task("c", "done")}
    settled = settle_deferred(_view(done, {**held, "mine": 1}))
    assert settled is not None and settled.finish is not None
    assert settled.finish.reason == f"{PLANNED_BEFORE_RESULTS}r" and settled.notes == {"mine": 1}

    blocked = {"b": task("b", "failed"), "c": task("c", "pending", ("b",))}
    assert settle_deferred(_view(blocked, held)) is None, "the model decides what now"
    assert settle_deferred(_view(done, {})) is None, "nothing held, nothing to settle"
