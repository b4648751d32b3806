"""Guards: every limit ends the run through synthesize with an honest status and its reason.

The planners here never stop on their own, so without the guard under test each run would go on
until LangGraph's own recursion limit (about 10,000 steps) raised `GraphRecursionError`.
"""

from __future__ import annotations

import asyncio
import time
from itertools import count
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

import nodes.work as work
from orchestrator.context import Context
from orchestrator.planning import PlanOutcome, PlanUpdate, PlanView
from state import Usage
from tests.unit.core.support import Harness, add, finish, harness, log_of, sleep, task


def forever(ms: int = 0, **inputs: Any) -> Any:
    """A planner script that adds one new sleep task every round and never finishes."""
    ids = count(1)

    def script(view: PlanView) -> PlanUpdate:
        return add(sleep(f"t{next(ids)}", ms, **inputs))

    return script


async def assert_ended_by_guard(h: Harness, out: dict[str, Any], status: str, reason: str) -> None:
    assert out["status"] == status
    assert out["reason"] == reason
    assert out["answer"] is not None
    assert out["answer"]["status"] == status
    assert out["answer"]["reason"] == reason
    guards = log_of(await h.values(), "guard")
    assert [g["message"] for g in guards] == [reason]


async def test_max_rounds_ends_the_run_partial(memory_saver: InMemorySaver) -> None:
    h = harness(forever(), checkpointer=memory_saver)

    out = await h.run(context=Context(max_rounds=3))

    await assert_ended_by_guard(h, out, "partial", "stopped after 3 rounds (Context.max_rounds)")
    assert h.planner.calls == 3
    assert h.calls == {"t1": 1, "t2": 1, "t3": 1}
    assert (await h.values())["round"] == 4


async def test_max_tasks_refuses_an_update_that_would_exceed_it(
    memory_saver: InMemorySaver,
) -> None:
    ids = count(1)

    def three_more(view: PlanView) -> PlanUpdate:
        return add(*(sleep(f"t{next(ids)}") for _ in range(3)))

    h = harness(three_more, checkpointer=memory_saver)

    out = await h.run(context=Context(max_tasks=5, plan_attempts=2))

    # Wanting more work than the run may create is a limit reached, not a broken planner.
    assert out["status"] == "partial"
    assert out["reason"] == (
        "the update would bring the run to 6 tasks, over the limit of 5 (Context.max_tasks)"
    )
    assert out["answer"]["status"] == "partial"
    assert len((await h.values())["tasks"]) == 3
    assert sum(h.calls.values()) == 3


async def test_a_planner_that_respects_max_tasks_feedback_finishes_normally(
    memory_saver: InMemorySaver,
) -> None:
    ids = count(1)

    def three_more(view: PlanView) -> PlanUpdate:
        if any("Context.max_tasks" in f for f in view.feedback):
            return finish("partial", "task budget reached")
        return add(*(sleep(f"t{next(ids)}") for _ in range(3)))

    h = harness(three_more, checkpointer=memory_saver)

    out = await h.run(context=Context(max_tasks=5))

    assert out["status"] == "partial"
    assert out["reason"] == "task budget reached"
    assert len((await h.values())["tasks"]) == 3


async def test_max_concurrency_caps_the_workers_running_at_once() -> None:
    h = harness([add(*(sleep(f"t{i}", 30) for i in range(9)))])

    out = await h.run(config={"max_concurrency": 3})

    assert out["status"] == "completed"
    assert h.domain.call_log.max_active == 3
    assert sum(h.calls.values()) == 9


async def test_without_a_cap_all_ready_tasks_run_at_once() -> None:
    h = harness([add(*(sleep(f"t{i}", 30) for i in range(9)))])

    await h.run()

    assert h.domain.call_log.max_active == 9


async def test_context_max_parallel_caps_the_workers_running_at_once() -> None:
    h = harness([add(*(sleep(f"t{i}", 30) for i in range(9)))])

    await h.run(context=Context(max_parallel=3))

    assert h.domain.call_log.max_active <= 3


async def test_idle_runs_slots_are_forgotten_but_a_busy_runs_never_are() -> None:
    busy = work._run_slots("busy-thread", "", 2)
    await work._take_slot(busy, lambda: None)  # a run in the middle of a task

    for n in range(work.KEEP_IDLE_SLOTS * 2):
        slots = work._run_slots(f"thread-{n}", "", 2)
        await work._take_slot(slots, lambda: None)
        work._give_slot(slots)

    cached = getattr(asyncio.get_running_loop(), work.LOOP_ATTRIBUTE)  # this loop's slots
    assert len(cached) <= work.KEEP_IDLE_SLOTS
    assert cached[("busy-thread", "", 2)] is busy
    work._give_slot(busy)


async def test_deadline_ends_the_run_partial(memory_saver: InMemorySaver) -> None:
    h = harness(forever(ms=60), checkpointer=memory_saver)

    started = time.monotonic()
    out = await h.run(context=Context(deadline_s=0.15))
    wall = time.monotonic() - started

    assert out["status"] == "partial"
    assert out["reason"].startswith("deadline of 0.15s passed after ")
    assert out["reason"].endswith("s of work (Context.deadline_s)")
    assert [g["message"] for g in log_of(await h.values(), "guard")] == [out["reason"]]
    # Rounds of 60 ms: the guard trips in the third or fourth round, not much later.
    assert 2 <= h.planner.calls <= 4
    assert wall < 1.0


async def test_time_paused_for_approval_does_not_count_against_the_deadline(
    memory_saver: InMemorySaver,
) -> None:
    h = harness([add(task("c1", "commit", ms=0))], checkpointer=memory_saver, side_effects=True)
    ask = Context(approval="ask", deadline_s=0.2)

    paused = await h.run(context=ask)
    await asyncio.sleep(0.3)  # the human takes longer than the whole deadline
    out = await h.graph.ainvoke(Command(resume="approve"), h.config, context=ask)

    assert paused["status"] == "awaiting_approval"
    assert out["status"] == "completed", out["reason"]
    assert h.calls == {"c1": 1}


async def test_a_task_identical_to_one_that_failed_too_often_is_refused(
    memory_saver: InMemorySaver,
) -> None:
    ids = count(1)

    def stubborn(view: PlanView) -> PlanUpdate:
        if view.feedback:
            return finish("failed", "the same work keeps failing")
        return add(sleep(f"t{next(ids)}", 0, fail=True))

    h = harness(stubborn, checkpointer=memory_saver)

    out = await h.run(context=Context(max_identical_failures=2))

    assert out["status"] == "failed"
    assert h.calls == {"t1": 1, "t2": 1}
    rejected = log_of(await h.values(), "rejected")
    assert [e["data"]["errors"] for e in rejected] == [
        [
            "task 't3' repeats work that already failed 2 times (sleep with the same inputs); "
            "change the inputs or give up on it"
        ]
    ]


async def test_retrying_a_task_that_failed_too_often_is_refused(
    memory_saver: InMemorySaver,
) -> None:
    h = harness(
        [
            add(sleep("a", 0, fail=True)),
            PlanUpdate(retry=["a"]),
            PlanUpdate(retry=["a"]),
            finish("failed", "gave up on a"),
        ],
        checkpointer=memory_saver,
        then=None,
    )

    out = await h.run(context=Context(max_identical_failures=2))

    assert out["status"] == "failed"
    assert h.calls == {"a": 2}
    values = await h.values()
    assert values["tasks"]["a"]["attempts"] == 2
    assert values["tasks"]["a"]["failures"] == 2
    assert values["tasks"]["a"]["result_ref"] == "a#2"
    assert [e["data"]["errors"] for e in log_of(values, "rejected")] == [
        ["cannot retry 'a': it already failed 2 times; change the inputs or give up on it"]
    ]


async def test_rounds_without_a_successful_task_stop_the_run(
    memory_saver: InMemorySaver,
) -> None:
    # Every task has new inputs, so the identical-failure guard never trips: only idleness does.
    ids = count(1)

    def hopeless(view: PlanView) -> PlanUpdate:
        n = next(ids)
        return add(sleep(f"t{n}", n, fail=True))

    h = harness(hopeless, checkpointer=memory_saver)

    out = await h.run(context=Context(max_idle_rounds=3))

    await assert_ended_by_guard(
        h, out, "failed", "no task succeeded in 3 consecutive rounds (Context.max_idle_rounds)"
    )
    assert h.calls == {"t1": 1, "t2": 1, "t3": 1}


async def test_a_successful_task_resets_the_idle_counter(memory_saver: InMemorySaver) -> None:
    ids = count(1)

    def alternating(view: PlanView) -> PlanUpdate:
        n = next(ids)
        if n > 6:
            return finish("partial", "enough")
        return add(sleep(f"t{n}", n, fail=n % 2 == 1))

    h = harness(alternating, checkpointer=memory_saver)

    out = await h.run(context=Context(max_idle_rounds=2))

    assert out["status"] == "partial"
    assert out["reason"] == "enough"
    assert log_of(await h.values(), "guard") == []


def usage(round_no: int, tokens: int) -> Usage:
    return Usage(
        round=round_no,
        role="planner",
        prompt_tokens=tokens - 100,
        completion_tokens=100,
        cost_usd=None,
    )


async def test_token_budget_ends_the_run_partial(memory_saver: InMemorySaver) -> None:
    ids = count(1)

    def costly(view: PlanView) -> PlanOutcome:
        return PlanOutcome(add(sleep(f"t{next(ids)}")), usage=[usage(view.round, 600)])

    h = harness(costly, checkpointer=memory_saver)

    out = await h.run(context=Context(token_budget=1000))

    await assert_ended_by_guard(
        h, out, "partial", "token budget spent: 1200 of 1000 (Context.token_budget)"
    )
    assert h.planner.calls == 2
    # The planner saw the usage so far, and every call's usage is kept in state.
    assert [sum(u["prompt_tokens"] for u in v.usage) for v in h.planner.views] == [0, 500]
    assert len((await h.values())["usage"]) == 2
