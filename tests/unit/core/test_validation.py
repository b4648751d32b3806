"""Plan validation: a bad update is refused whole, logged with its reason, and re-asked."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from orchestrator.context import Context
from orchestrator.planning import NewTask, PlanUpdate
from tests.unit.core.support import add, finish, harness, log_of, sleep, task

GOOD = add(sleep("good", 0))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        pytest.param(
            add(task("x", "teleport", ms=1)),
            "task 'x': unknown worker 'teleport' (workers: sleep)",
            id="unknown-worker",
        ),
        pytest.param(
            add(task("x", "sleep", ms="soon")),
            "task 'x': inputs do not fit worker 'sleep': ms: Input should be a valid integer, "
            "unable to parse string as an integer",
            id="inputs-fail-schema",
        ),
        pytest.param(
            add(task("x", "sleep")),
            "task 'x': inputs do not fit worker 'sleep': ms: Field required",
            id="inputs-missing-field",
        ),
        pytest.param(
            add(sleep("x", deps=["ghost"])),
            "task 'x' depends on 'ghost', which does not exist",
            id="missing-dependency",
        ),
        pytest.param(
            add(sleep("x", deps=["y"]), sleep("y", deps=["x"])),
            "dependency cycle: x -> y -> x",
            id="cycle",
        ),
        pytest.param(
            add(sleep("x", deps=["x"])),
            "dependency cycle: x -> x",
            id="self-dependency",
        ),
        pytest.param(
            add(sleep("x"), sleep("x", 5)),
            "duplicate task id 'x': every task needs a new, unique id",
            id="duplicate-within-update",
        ),
    ],
)
async def test_a_rejected_update_is_logged_and_the_planner_recovers_with_feedback(
    memory_saver: InMemorySaver, bad: PlanUpdate, reason: str
) -> None:
    h = harness([bad, GOOD], checkpointer=memory_saver)

    out = await h.run()

    assert out["status"] == "completed"
    rejected = log_of(await h.values(), "rejected")
    assert len(rejected) == 1
    assert rejected[0]["data"]["errors"] == [reason]
    assert rejected[0]["message"] == f"plan update rejected: {reason}"
    # The second attempt of the same round carries the reasons as feedback.
    first, second = h.planner.views[0], h.planner.views[1]
    assert first.feedback == []
    assert second.feedback == [reason]
    assert second.round == first.round == 1
    # Nothing of the rejected update reached the board or a worker.
    assert h.calls == {"good": 1}
    assert set((await h.values())["tasks"]) == {"good"}


async def test_a_duplicate_of_an_existing_task_id_is_rejected(
    memory_saver: InMemorySaver,
) -> None:
    h = harness([add(sleep("a")), add(sleep("a", 5)), add(sleep("b"))], checkpointer=memory_saver)

    out = await h.run()

    assert out["status"] == "completed"
    rejected = log_of(await h.values(), "rejected")
    assert [e["data"]["errors"] for e in rejected] == [
        ["duplicate task id 'a': every task needs a new, unique id"]
    ]
    assert rejected[0]["round"] == 2
    assert h.calls == {"a": 1, "b": 1}


async def test_one_bad_task_rejects_the_whole_update(memory_saver: InMemorySaver) -> None:
    h = harness([add(sleep("ok"), task("x", "teleport")), GOOD], checkpointer=memory_saver)

    await h.run()

    assert "ok" not in (await h.values())["tasks"]
    assert h.calls == {"good": 1}


async def test_every_problem_of_an_update_is_reported_at_once(
    memory_saver: InMemorySaver,
) -> None:
    bad = PlanUpdate(
        add=[task("x", "teleport"), sleep("y", deps=["ghost"])], cancel=["nope"], retry=["nope"]
    )
    h = harness([bad, GOOD], checkpointer=memory_saver)

    await h.run()

    assert h.planner.views[1].feedback == [
        "task 'x': unknown worker 'teleport' (workers: sleep)",
        "task 'y' depends on 'ghost', which does not exist",
        "cannot cancel 'nope': no such task",
        "cannot retry 'nope': no such task",
    ]


async def test_after_plan_attempts_bad_updates_the_run_ends_failed_with_the_reason(
    memory_saver: InMemorySaver,
) -> None:
    bad = add(NewTask(id="x", worker="teleport", inputs={}))
    h = harness(lambda view: bad, checkpointer=memory_saver)

    out = await h.run(context=Context(plan_attempts=2))

    assert h.planner.calls == 2
    assert out["status"] == "failed"
    assert out["reason"] == (
        "the planner gave no valid plan update in 2 attempts; last errors: "
        "task 'x': unknown worker 'teleport' (workers: sleep)"
    )
    assert out["answer"]["status"] == "failed"
    assert len(log_of(await h.values(), "rejected")) == 2
    assert h.calls == {}


async def test_planner_decisions_are_logged(memory_saver: InMemorySaver) -> None:
    h = harness(
        [add(sleep("a"), decisions=["start with a"]), finish("completed", "a was enough")],
        checkpointer=memory_saver,
    )

    await h.run()

    decisions = log_of(await h.values(), "decision")
    assert [(e["round"], e["message"]) for e in decisions] == [(1, "start with a")]
