"""Worker failures: faults are retried, verdicts are not, and either way the planner sees them.

Several tests here dispatch a fast, healthy sibling next to the failing task. That sibling is what
wakes the orchestrator up after the superstep while the error-handler bug below is open (see
`test_a_run_whose_only_task_crashes_still_ends_through_synthesize`).
"""

from __future__ import annotations

import asyncio
import re

from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.workers import WorkerCall, WorkerSpec
from tests.unit.core.support import add, finish, harness, sleep, task

TIMEOUT_ERROR = re.compile(r"timed out after 0\.1s\b")
"""How a 0.1 s timeout reads in a failed result (an attempt count may follow)."""


async def test_planner_sees_a_failed_task_and_replans_around_it() -> None:
    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return add(sleep("primary", 0, fail=True))
        if "fallback" not in view.tasks:
            failed = view.tasks["primary"]
            assert failed["status"] == "failed"
            assert failed["error"] == "primary failed as asked"
            result = view.result_of("primary")
            assert result is not None and result["ok"] is False
            return add(sleep("fallback", 0), decisions=["primary failed; trying the fallback"])
        return finish("completed", "fallback worked")

    h = harness(script)

    out = await h.run()

    assert out["status"] == "completed"
    assert out["reason"] == "fallback worked"
    assert h.calls == {"primary": 1, "fallback": 1}
    assert h.planner.calls == 3


async def test_a_crashing_worker_is_retried_until_it_succeeds(
    memory_saver: InMemorySaver,
) -> None:
    h = harness([add(sleep("flaky", 0, crash_times=1))], checkpointer=memory_saver)

    out = await h.run()

    assert out["status"] == "completed"
    assert h.calls == {"flaky": 2}
    assert [r.outcome for r in h.domain.call_log.of("flaky")] == ["crashed", "ok"]
    flaky = (await h.values())["tasks"]["flaky"]
    # Node-level retries happen inside one dispatch: the board counts one attempt.
    assert flaky["status"] == "done"
    assert flaky["attempts"] == 1


async def test_a_worker_that_keeps_crashing_becomes_a_failed_result_after_its_retries(
    memory_saver: InMemorySaver,
) -> None:
    h = harness(
        [add(sleep("broken", 0, crash_times=99), sleep("sibling", 20))],
        checkpointer=memory_saver,
        max_attempts=2,
    )

    out = await h.run()

    assert h.calls == {"broken": 2, "sibling": 1}
    assert out["status"] == "partial"
    values = await h.values()
    broken = values["tasks"]["broken"]
    assert broken["status"] == "failed"
    assert broken["error"] == "RuntimeError: broken crashed on call 2 (after 2 attempts)"
    assert values["results"]["broken#1"]["ok"] is False


async def test_a_run_whose_only_task_crashes_still_ends_through_synthesize() -> None:
    h = harness([add(sleep("broken", 0, crash_times=99))], max_attempts=2)

    out = await h.run()

    assert h.calls == {"broken": 2}
    assert out["status"] == "failed", out
    assert out["answer"] is not None


async def test_task_failed_is_not_retried(memory_saver: InMemorySaver) -> None:
    h = harness([add(sleep("no", 0, fail=True))], checkpointer=memory_saver, max_attempts=3)

    out = await h.run()

    assert h.calls == {"no": 1}
    assert out["status"] == "failed"
    assert (await h.values())["tasks"]["no"]["error"] == "no failed as asked"


async def test_a_worker_slower_than_its_timeout_becomes_a_failed_result(
    memory_saver: InMemorySaver,
) -> None:
    h = harness(
        [add(sleep("slow", 300), sleep("sibling", 0))],
        checkpointer=memory_saver,
        timeout_s=0.1,
        max_attempts=1,
    )

    out = await h.run()

    assert out["status"] == "partial"
    slow = (await h.values())["tasks"]["slow"]
    assert slow["status"] == "failed"
    assert TIMEOUT_ERROR.match(slow["error"]), slow["error"]
    assert [r.outcome for r in h.domain.call_log.of("slow")] == ["cancelled"]


async def test_a_run_whose_only_task_times_out_still_ends_through_synthesize() -> None:
    h = harness([add(sleep("slow", 300))], timeout_s=0.1, max_attempts=1)

    out = await h.run()

    assert out["status"] == "failed", out
    assert TIMEOUT_ERROR.search(out["answer"]["summary"])


async def test_context_worker_timeout_overrides_the_workers_own_timeout(
    memory_saver: InMemorySaver,
) -> None:
    h = harness(
        [add(sleep("slow", 300), sleep("sibling", 0))],
        checkpointer=memory_saver,
        timeout_s=30.0,
        max_attempts=1,
    )

    out = await h.run(context=Context(worker_timeout_s=0.1))

    assert out["status"] == "partial"
    slow = (await h.values())["tasks"]["slow"]
    assert slow["status"] == "failed"
    assert TIMEOUT_ERROR.match(slow["error"]), slow["error"]


async def test_without_the_context_override_the_same_task_succeeds() -> None:
    h = harness([add(sleep("slow", 300))], timeout_s=30.0, max_attempts=1)

    out = await h.run()

    assert out["status"] == "completed"


async def test_a_longer_context_worker_timeout_lets_a_slow_task_finish() -> None:
    # The worker's own 0.1 s would fail it; the run's 2 s override lets it finish (the node's
    # TimeoutPolicy backstop sits at 4x the worker's own timeout, 0.4 s, above the 0.3 s sleep).
    h = harness([add(sleep("slow", 300))], timeout_s=0.1, max_attempts=1)

    out = await h.run(context=Context(worker_timeout_s=2.0))

    assert out["status"] == "completed"
    assert [r.outcome for r in h.domain.call_log.of("slow")] == ["ok"]


async def test_context_worker_attempts_lowers_the_workers_retry_count() -> None:
    h = harness([add(sleep("broken", 0, crash_times=99), sleep("sibling", 0))], max_attempts=3)

    await h.run(context=Context(worker_attempts=1))

    assert h.calls["broken"] == 1


async def test_context_worker_attempts_raises_the_workers_retry_count() -> None:
    h = harness([add(sleep("flaky", 0, crash_times=1))], max_attempts=1)

    out = await h.run(context=Context(worker_attempts=2))

    assert out["status"] == "completed"
    assert h.calls == {"flaky": 2}


class StubbornInput(BaseModel):
    ms: int


class StubbornOutput(BaseModel):
    slept_ms: int


def stubborn_worker(calls: list[int]) -> WorkerSpec[StubbornInput, StubbornOutput]:
    """A worker that ignores the first cancellation of its sleep (its own timeout) once."""

    async def run(inputs: StubbornInput, call: WorkerCall) -> StubbornOutput:
        calls.append(call.attempt)
        try:
            await asyncio.sleep(inputs.ms / 1000)
        except asyncio.CancelledError:
            await asyncio.sleep(inputs.ms / 1000)
        return StubbornOutput(slept_ms=inputs.ms)

    return WorkerSpec(
        name="stubborn",
        description="Ignores its timeout.",
        input_model=StubbornInput,
        output_model=StubbornOutput,
        run=run,
        timeout_s=0.05,
        max_attempts=1,
    )


async def test_a_worker_that_ignores_its_timeout_is_not_retried_past_its_attempts() -> None:
    calls: list[int] = []
    h = harness(
        [add(task("s", "stubborn", ms=300), sleep("sibling", 0))],
        extra_workers=[stubborn_worker(calls)],
    )

    async with asyncio.timeout(3):
        out = await h.run()

    assert out["status"] == "partial"
    assert len(calls) == 1
