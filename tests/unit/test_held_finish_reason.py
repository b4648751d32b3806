"""A finish whose reason was written before the results (the LLM planner's held finish): the
board verifier computes the run's reason, and keeps the planner's words only when it has
nothing of its own to say."""

from __future__ import annotations

import pytest

from orchestrator.context import Context
from orchestrator.verification import (
    PLANNED_BEFORE_RESULTS,
    BoardVerifier,
    Claim,
    VerificationView,
    said_after_results,
)
from state import Task, TaskStatus


def view(claim: Claim, *statuses: TaskStatus) -> VerificationView:
    tasks = {
        f"t{i}": Task(id=f"t{i}", worker="w", inputs={}, status=s, depends_on=[])  # type: ignore[typeddict-item]
        for i, s in enumerate(statuses)
    }
    return VerificationView(
        goal="g",
        request=None,
        tasks=tasks,
        results={},
        notes={},
        context=Context(),
        thread_id="t",
        run_id="",
        scope="",
        claim=claim,
    )


@pytest.mark.parametrize(
    ("claim", "statuses", "status", "reason"),
    [
        (Claim("completed", "all booked"), ("done", "done"), "completed", "all booked"),
        (
            Claim("completed", f"{PLANNED_BEFORE_RESULTS}all booked"),
            ("done", "done"),
            "completed",
            "2 tasks done",
        ),
        (
            Claim("completed", f"{PLANNED_BEFORE_RESULTS}all booked"),
            ("done", "pending"),
            "partial",
            "1 task still pending or running",
        ),
        (
            Claim("partial", f"{PLANNED_BEFORE_RESULTS}half of it"),
            ("done", "done"),
            "partial",
            f"{PLANNED_BEFORE_RESULTS}half of it",
        ),
    ],
)
async def test_a_reason_written_before_the_results_gives_way_to_the_boards(
    claim: Claim, statuses: tuple[TaskStatus, ...], status: str, reason: str
) -> None:
    verdict = await BoardVerifier().verify(view(claim, *statuses))

    assert (verdict.status, verdict.reason) == (status, reason)


def test_said_after_results() -> None:
    assert said_after_results("done") == "done"
    assert said_after_results(f"{PLANNED_BEFORE_RESULTS}done") == ""
