"""SIGKILL a run halfway through a lane, resume it: only the lane's unfinished tasks run again.

The plan, given whole in round 1: a chain a1 -> a2 -> a3 -> a4 (a lane, `nodes.lanes`) and an
independent b1. The run is killed while a3 (slow) runs, after a1 and a2 have finished inside the
same superstep. The resumed run must not run a1 or a2 again (their results were checkpointed as
they finished), must run a3 again and then a4, and must end `completed` with every result.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[3]
PLAN = {
    "a1": (50, []),
    "a2": (50, ["a1"]),
    "a3": (2500, ["a2"]),
    "a4": (50, ["a3"]),
    "b1": (50, []),
}


class StepIn(BaseModel):
    ms: int


class StepOut(BaseModel):
    ms: int


def _domain(log: Path):  # type: ignore[no-untyped-def]
    from orchestrator.domain import Domain
    from orchestrator.planning import NewTask, PlanOutcome, PlanUpdate, PlanView
    from orchestrator.synthesis import TemplateSynthesizer
    from orchestrator.workers import WorkerCall, WorkerRegistry, WorkerSpec

    def note(line: str) -> None:
        with log.open("a") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

    async def run(inputs: StepIn, call: WorkerCall) -> StepOut:
        note(f"start {call.task_id}")
        await asyncio.sleep(inputs.ms / 1000)
        note(f"end {call.task_id}")
        return StepOut(ms=inputs.ms)

    class Whole:
        async def plan(self, view: PlanView) -> PlanOutcome:
            if view.tasks:
                return PlanOutcome(PlanUpdate())
            return PlanOutcome(
                PlanUpdate(
                    add=[
                        NewTask(id=i, worker="step", inputs={"ms": ms}, depends_on=deps)
                        for i, (ms, deps) in PLAN.items()
                    ]
                )
            )

    spec = WorkerSpec(
        name="step",
        description="Sleeps `ms` and notes its start and end in a file.",
        input_model=StepIn,
        output_model=StepOut,
        run=run,
        timeout_s=10.0,
    )
    return Domain(
        name="lane-resume",
        description="A chain and a single task.",
        workers=WorkerRegistry.of(spec),
        planner=lambda _ctx: Whole(),
        synthesizer=lambda _ctx: TemplateSynthesizer(),
    )


async def _child(target: str, thread: str, log: Path, resume: bool) -> None:
    from graph.builder import build_graph
    from graph.persistence import open_checkpointer
    from orchestrator.context import Context
    from orchestrator.runner import run_config

    context = Context(planner="rules", approval="auto")
    async with open_checkpointer(target) as saver:
        graph = build_graph(_domain(log), checkpointer=saver)
        config = run_config(thread, context)
        start = None if resume else {"goal": "a lane and a task"}
        out = await graph.ainvoke(start, config, context=context)
        state = await graph.aget_state(config)
    tasks = state.values["tasks"]
    print(
        json.dumps({"status": out["status"], "tasks": {i: t["status"] for i, t in tasks.items()}})
    )


def child_main() -> None:
    target, thread, log, mode = sys.argv[1:5]
    asyncio.run(_child(target, thread, Path(log), mode == "resume"))


def _command(target: str, thread: str, log: Path, mode: str) -> list[str]:
    code = "from tests.integration.durability.test_lane_resume import child_main; child_main()"
    return [sys.executable, "-c", code, target, thread, str(log), mode]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.slow
def test_a_lane_killed_halfway_resumes_only_its_unfinished_tasks(
    tmp_path: Path, checkpointer_target: str
) -> None:
    log = tmp_path / "calls.log"
    thread = f"lane-{time.time_ns()}"
    proc = subprocess.Popen(
        _command(checkpointer_target, thread, log, "start"),
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while "start a3" not in _lines(log):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "a3 never started"
        time.sleep(0.02)
    time.sleep(0.3)  # a3 runs for 2.5 s: the kill lands inside it
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    before = _lines(log)
    assert {"end a1", "end a2"} <= set(before) and "end a3" not in before, before

    done = subprocess.run(
        _command(checkpointer_target, thread, log, "resume"),
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed", result
    assert set(result["tasks"].values()) == {"done"}, result

    after = Counter(_lines(log)[len(before) :])
    assert after["start a1"] == after["start a2"] == 0, after  # checkpointed as they finished
    assert after["start a3"] == after["end a3"] == 1, after  # the interrupted one, again
    assert after["start a4"] == after["end a4"] == 1, after  # then what waited for it
    ends = Counter(line for line in _lines(log) if line.startswith("end "))
    assert all(ends[f"end {i}"] == 1 for i in PLAN), ends  # every task finished exactly once
