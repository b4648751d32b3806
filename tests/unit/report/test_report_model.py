"""The run report's numbers: steps, rounds, critical path, parallelism, totals."""

from __future__ import annotations

import itertools
import random

import pytest

from orchestrator.report.model import Attempt, build_report, critical_path, max_parallel
from tests.unit.report.support import (
    TWO_ROUND_CHECKPOINTS,
    checkpoint,
    result,
    task,
    two_rounds,
    values,
)


def near(expected: object) -> object:
    """Equal to the microsecond: times are offsets from a unix timestamp of 1.7e9 seconds."""
    return pytest.approx(expected, abs=1e-6)


def test_the_critical_path_is_the_slowest_task_of_each_wave() -> None:
    report = build_report(two_rounds(), thread_id="t", checkpoints=TWO_ROUND_CHECKPOINTS)

    assert report.critical_path == ("b#1", "e#1")
    assert report.totals.critical_path_s == near(0.48 + 0.16)
    assert {t.id for t in report.tasks if t.critical} == {"b", "e"}
    assert [a.key for a in report.attempts if a.critical] == ["b#1", "e#1"]


def test_steps_come_from_the_checkpoint_times() -> None:
    report = build_report(two_rounds(), checkpoints=TWO_ROUND_CHECKPOINTS)

    assert [(s.kind, s.round) for s in report.steps] == [
        ("plan", 1),
        ("work", 1),
        ("plan", 2),
        ("work", 2),
        ("plan", 3),
        ("synthesize", 3),
    ]
    plan1 = report.steps[0]
    assert (plan1.start, plan1.end) == near((0.001, 0.010))
    assert report.totals.wall_s == near(0.73)
    assert report.totals.planning_s == near(0.009 + 0.010 + 0.010)
    assert report.totals.approval_wait_s == 0


def test_rounds_hold_their_span_decisions_dispatches_and_tokens() -> None:
    report = build_report(two_rounds(), checkpoints=TWO_ROUND_CHECKPOINTS)

    first, second, third = report.rounds
    assert (first.start, first.end) == near((0.001, 0.520))
    assert first.planning_s == near(0.009)
    assert first.decisions == ("start with a, b and c",)
    assert first.added == ("a", "b", "c")
    assert sorted(first.dispatched) == ["a#1", "b#1", "c#1"]
    assert first.max_parallel == 3
    assert first.tokens == 120
    assert second.decisions == ("d needs a",)
    assert second.dispatched == ("d#1", "e#1")
    assert second.tokens == 55
    assert (third.start, third.end) == near((0.710, 0.730))
    assert third.dispatched == ()


def test_totals_count_tasks_attempts_parallelism_and_tokens() -> None:
    report = build_report(two_rounds(), checkpoints=TWO_ROUND_CHECKPOINTS)

    totals = report.totals
    assert (totals.tasks, totals.attempts, totals.rounds) == (5, 5, 3)
    assert totals.by_status == {"done": 5}
    assert totals.max_parallel == 3
    assert totals.worker_s == near(0.08 + 0.48 + 0.03 + 0.06 + 0.16)
    assert (report.usage.calls, report.usage.tokens) == (2, 175)
    assert report.usage.cost_usd == near(0.001)
    assert report.task("d").depends_on == ("a",)
    assert report.task("b").seconds is None, "the board holds no timings for this hand-made task"


def test_attempt_times_are_relative_to_the_first_checkpoint() -> None:
    report = build_report(two_rounds(), checkpoints=TWO_ROUND_CHECKPOINTS)

    first = report.attempts[0]
    assert first.start == near(0.02)
    assert first.seconds == near(first.end - first.start)  # type: ignore[operator]


def test_without_checkpoints_the_report_still_has_every_attempt() -> None:
    report = build_report(two_rounds())

    assert report.steps == ()
    assert report.totals.planning_s is None and report.totals.approval_wait_s is None
    assert [a.round for a in report.attempts] == [1, 1, 1, 2, 2]
    # The origin is the run's first round (`started_at`), so times shift by a millisecond.
    assert report.attempts[0].start == near(0.019)
    assert report.totals.wall_s == near(0.699)
    assert report.critical_path == ("b#1", "e#1")
    assert (report.rounds[0].start, report.rounds[0].planning_s) == (None, None)


def retried() -> dict[str, object]:
    return values(
        [task("f", round=1, attempts=2)],
        [result("f", 0.02, 0.03, ok=False), result("f", 0.06, 0.09, attempt=2)],
        rounds=3,
    )


def test_each_attempt_of_a_retried_task_is_a_bar_in_the_round_that_sent_it() -> None:
    checkpoints = [
        checkpoint(0.00, ["orchestrate"], 0),
        checkpoint(0.01, ["sleep"], 1, ("f", 1)),
        checkpoint(0.04, ["orchestrate"], 1),
        checkpoint(0.05, ["sleep"], 2, ("f", 2)),
        checkpoint(0.10, ["orchestrate"], 2),
        checkpoint(0.11, ["synthesize"], 3),
        checkpoint(0.12, [], 3),
    ]

    report = build_report(retried(), checkpoints=checkpoints)

    assert [(a.key, a.round, a.ok) for a in report.attempts] == [
        ("f#1", 1, False),
        ("f#2", 2, True),
    ]
    assert report.critical_path == ("f#1", "f#2")
    assert report.rounds[1].dispatched == ("f#2",)
    assert report.task("f").attempts == 2


def test_without_checkpoints_a_retry_is_placed_in_the_round_that_added_the_task() -> None:
    report = build_report(retried())

    assert [a.round for a in report.attempts] == [1, 1]


def test_a_paused_run_has_an_open_approval_and_its_running_tasks_have_no_end() -> None:
    state = values(
        [
            task("s", round=1),
            task("slow", round=1, status="running", span=(0.02, 0.02)),
            task("book", round=2, status="pending"),
        ],
        [result("s", 0.02, 0.04)],
        rounds=2,
        status="awaiting_approval",
    )
    checkpoints = [
        checkpoint(0.00, ["orchestrate"], 0),
        checkpoint(0.01, ["sleep", "sleep"], 1, ("s", 1), ("slow", 1)),
        checkpoint(0.05, ["orchestrate"], 1),
        checkpoint(0.06, ["approve"], 2),
    ]

    report = build_report(state, checkpoints=checkpoints)

    running = next(a for a in report.attempts if a.task_id == "slow")
    assert (running.end, running.ok, running.seconds) == (None, None, None)
    assert report.steps[-1].kind == "approval" and report.steps[-1].end is None
    assert report.totals.max_parallel == 2
    assert report.critical_path == ("s#1",)
    assert report.totals.by_status == {"done": 1, "running": 1, "pending": 1}
    assert report.status == "awaiting_approval"


def test_time_waiting_for_approval_is_counted_apart_from_planning() -> None:
    state = values([task("k", round=1, worker="book")], [result("k", 5.11, 5.12)], rounds=2)
    checkpoints = [
        checkpoint(0.00, ["orchestrate"], 0),
        checkpoint(0.10, ["approve"], 1),
        checkpoint(5.10, ["book"], 1, ("k", 1)),
        checkpoint(5.13, ["orchestrate"], 1),
        checkpoint(5.14, ["synthesize"], 2),
        checkpoint(5.15, [], 2),
    ]

    report = build_report(state, checkpoints=checkpoints)

    assert report.totals.approval_wait_s == near(5.0)
    assert report.totals.planning_s == near(0.11)
    assert report.attempts[0].round == 1


def attempt(key: str, start: float, end: float | None) -> Attempt:
    return Attempt(key, key, "w", 1, 1, start, end, True if end is not None else None, "")


def test_a_chain_beats_a_longer_single_task() -> None:
    attempts = [attempt("x", 0, 1), attempt("z", 0, 1.5), attempt("y", 1, 2)]

    assert critical_path(attempts) == ["x", "y"]


def test_touching_intervals_do_not_overlap() -> None:
    assert max_parallel([attempt("x", 0, 1), attempt("y", 1, 2)]) == 1
    assert max_parallel([attempt("x", 0, 1), attempt("y", 0.5, None)]) == 2
    assert max_parallel([]) == 0
    assert critical_path([]) == []


def _brute_force(attempts: list[Attempt]) -> float:
    best: dict[str, float] = {}
    for a in sorted(attempts, key=lambda a: (a.start, a.end)):
        assert a.end is not None
        before = [best[b.key] for b in attempts if b.key in best and b.end <= a.start]  # type: ignore[operator]
        best[a.key] = (a.end - a.start) + max(before, default=0.0)
    return max(best.values())


def test_the_critical_path_matches_a_brute_force_search() -> None:
    rng = random.Random(7)
    for _ in range(20):
        attempts = []
        for i in range(60):
            start = rng.uniform(0, 10)
            attempts.append(attempt(f"t{i}", start, start + rng.uniform(0, 2)))
        by_key = {a.key: a for a in attempts}

        path = critical_path(attempts)

        chain = [by_key[k] for k in path]
        assert all(p.end <= n.start + 1e-9 for p, n in itertools.pairwise(chain))  # type: ignore[operator]
        length = sum(a.end - a.start for a in chain)  # type: ignore[operator]
        assert length == near(_brute_force(attempts))


def test_the_critical_path_of_thousands_of_attempts_is_quick() -> None:
    rng = random.Random(3)
    attempts = []
    for i in range(5000):
        start = rng.uniform(0, 100)
        attempts.append(attempt(f"t{i}", start, start + rng.uniform(0, 1)))

    path = critical_path(attempts)

    assert len(path) > 10
