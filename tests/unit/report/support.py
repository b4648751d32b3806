"""Hand-made run states for the report tests: tasks, results and checkpoints on a known clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import START

from orchestrator.report.model import Checkpoint

T0 = 1_700_000_000.0
"""The run's first checkpoint, in unix seconds; every time below is an offset from it."""


def task(
    task_id: str,
    *,
    round: int,
    status: str = "done",
    worker: str = "sleep",
    deps: Sequence[str] = (),
    attempts: int = 1,
    span: tuple[float, float] | None = None,
) -> dict[str, Any]:
    started, ended = span if span else (None, None)
    return {
        "id": task_id,
        "worker": worker,
        "inputs": {},
        "depends_on": list(deps),
        "status": status,
        "attempts": attempts,
        "failures": 0,
        "round": round,
        "reason": f"because {task_id}",
        "result_ref": f"{task_id}#{attempts}" if status in ("done", "failed") else None,
        "started_at": None if started is None else T0 + started,
        "ended_at": None if ended is None else T0 + ended,
        "error": None,
    }


def result(
    task_id: str,
    start: float,
    end: float,
    *,
    attempt: int = 1,
    ok: bool = True,
    worker: str = "sleep",
) -> tuple[str, dict[str, Any]]:
    return f"{task_id}#{attempt}", {
        "task_id": task_id,
        "worker": worker,
        "ok": ok,
        "output": {} if ok else None,
        "error": None if ok else "boom",
        "summary": f"{task_id} {'ok' if ok else 'failed'}",
        "attempt": attempt,
        "started_at": T0 + start,
        "ended_at": T0 + end,
    }


def values(
    tasks: Sequence[dict[str, Any]],
    results: Sequence[tuple[str, dict[str, Any]]],
    *,
    rounds: int,
    log: Sequence[dict[str, Any]] = (),
    usage: Sequence[dict[str, Any]] = (),
    status: str = "completed",
) -> dict[str, Any]:
    return {
        "goal": "test goal",
        "tasks": {t["id"]: t for t in tasks},
        "results": dict(results),
        "log": list(log),
        "usage": list(usage),
        "round": rounds,
        "started_at": T0 + 0.001,
        "status": status,
        "reason": "all done",
    }


def checkpoint(at: float, nxt: Sequence[str], round: int, *dispatch: tuple[str, int]) -> Checkpoint:
    return Checkpoint(at=T0 + at, next=tuple(nxt), round=round, dispatch=tuple(dispatch))


def two_rounds() -> dict[str, Any]:
    """Round 1 sends a, b (slow), c; round 2 sends d (after a) and e; round 3 finishes."""
    return values(
        [
            task("a", round=1),
            task("b", round=1),
            task("c", round=1),
            task("d", round=2, deps=["a"]),
            task("e", round=2),
        ],
        [
            result("a", 0.02, 0.10),
            result("b", 0.02, 0.50),
            result("c", 0.02, 0.05),
            result("d", 0.54, 0.60),
            result("e", 0.54, 0.70),
        ],
        rounds=3,
        log=[
            {"round": 1, "kind": "decision", "message": "start with a, b and c"},
            {"round": 2, "kind": "decision", "message": "d needs a"},
            {"round": 2, "kind": "info", "message": "not a decision"},
        ],
        usage=[
            {
                "round": 1,
                "role": "planner",
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "cost_usd": 0.001,
            },
            {
                "round": 2,
                "role": "planner",
                "prompt_tokens": 50,
                "completion_tokens": 5,
                "cost_usd": None,
            },
        ],
    )


TWO_ROUND_CHECKPOINTS = [
    checkpoint(0.000, [START], 0),
    checkpoint(0.001, ["orchestrate"], 0),
    checkpoint(0.010, ["sleep", "sleep", "sleep"], 1, ("a", 1), ("b", 1), ("c", 1)),
    checkpoint(0.520, ["orchestrate"], 1),
    checkpoint(0.530, ["sleep", "sleep"], 2, ("d", 1), ("e", 1)),
    checkpoint(0.710, ["orchestrate"], 2),
    checkpoint(0.720, ["synthesize"], 3),
    checkpoint(0.730, [], 3),
]
