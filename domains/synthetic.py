"""A synthetic domain for tests, benchmarks and notebooks: a `sleep` worker and scripted planners.

Nothing here touches the world. The `sleep` worker waits a given number of milliseconds and can be
told to fail (`TaskFailed`), to crash the first N times it is called for a task (a fault the
node's `RetryPolicy` retries), or to carry a payload of a given size. Every call is recorded in a
`CallLog`, so a test can count how often each task really ran, in what order, and how many ran
at once.

The planners are deterministic: `ScriptedPlanner` replays a list of updates or asks a function,
and `FanOutPlanner` adds independent sleep tasks round after round (used to measure dispatch cost
and checkpoint growth).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from pydantic import BaseModel, Field

from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.planning import Finish, NewTask, Planner, PlanOutcome, PlanUpdate, PlanView
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.verification import BoardVerifier
from orchestrator.workers import TaskFailed, WorkerCall, WorkerRegistry, WorkerSpec

SLEEP = "sleep"
"""Name of the side-effect-free sleep worker."""
COMMIT = "commit"
"""Name of the side-effecting sleep worker (present when `side_effects=True`)."""


class SleepInput(BaseModel):
    """What a sleep task is told to do."""

    ms: int = Field(ge=0, description="Milliseconds to sleep.")
    fail: bool = Field(default=False, description="Raise TaskFailed after sleeping.")
    crash_times: int = Field(
        default=0, ge=0, description="Raise RuntimeError on the first N calls for this task."
    )
    payload: str = Field(default="", description="Echoed back, to grow results on purpose.")


class SleepOutput(BaseModel):
    """What a sleep task did."""

    task_id: str
    slept_ms: int
    call: int
    """Which call for this task produced the output (1 for the first call)."""
    payload: str = ""


@dataclass(frozen=True)
class CallRecord:
    """One call of a synthetic worker, with `time.monotonic()` timings."""

    task_id: str
    worker: str
    thread_id: str
    idempotency_key: str
    """`WorkerCall.idempotency_key` as the worker saw it."""
    attempt: int
    call: int
    started: float
    ended: float | None = None
    outcome: str = "running"
    """`ok`, `failed` (TaskFailed), `crashed` (RuntimeError) or `cancelled`."""


@dataclass
class CallLog:
    """Every call of the synthetic workers: counts per task id, order, and concurrency."""

    records: list[CallRecord] = field(default_factory=list)
    active: int = 0
    """Calls running right now."""
    max_active: int = 0
    """The most calls that ever ran at once."""

    def calls(self, task_id: str) -> int:
        """How many times the task was called (first calls, retries and re-runs)."""
        return sum(1 for r in self.records if r.task_id == task_id)

    def counts(self) -> dict[str, int]:
        """Calls per task id, in first-call order."""
        out: dict[str, int] = {}
        for record in self.records:
            out[record.task_id] = out.get(record.task_id, 0) + 1
        return out

    def of(self, task_id: str) -> list[CallRecord]:
        return [r for r in self.records if r.task_id == task_id]

    def begin(self, call: WorkerCall, worker: str) -> int:
        """Records the start of a call; returns its index for `end`."""
        index = len(self.records)
        self.records.append(
            CallRecord(
                task_id=call.task_id,
                worker=worker,
                thread_id=call.thread_id,
                idempotency_key=call.idempotency_key,
                attempt=call.attempt,
                call=self.calls(call.task_id) + 1,
                started=time.monotonic(),
            )
        )
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        return index

    def end(self, index: int, outcome: str) -> None:
        """Records how the call at `index` ended."""
        self.active -= 1
        record = self.records[index]
        self.records[index] = replace(record, ended=time.monotonic(), outcome=outcome)

    def reset(self) -> None:
        self.records.clear()
        self.active = 0
        self.max_active = 0


def sleep_worker(
    call_log: CallLog,
    *,
    name: str = SLEEP,
    side_effects: bool = False,
    timeout_s: float = 30.0,
    max_attempts: int = 3,
) -> WorkerSpec[SleepInput, SleepOutput]:
    """A worker that sleeps `ms`, then succeeds, fails or crashes as its inputs say."""

    async def run(inputs: SleepInput, call: WorkerCall) -> SleepOutput:
        index = call_log.begin(call, name)
        number = call_log.records[index].call
        outcome = "cancelled"
        try:
            await asyncio.sleep(inputs.ms / 1000)
            if number <= inputs.crash_times:
                outcome = "crashed"
                raise RuntimeError(f"{call.task_id} crashed on call {number}")
            if inputs.fail:
                outcome = "failed"
                raise TaskFailed(f"{call.task_id} failed as asked")
            outcome = "ok"
            return SleepOutput(
                task_id=call.task_id, slept_ms=inputs.ms, call=number, payload=inputs.payload
            )
        finally:
            call_log.end(index, outcome)

    return WorkerSpec(
        name=name,
        description="Sleeps for `ms` milliseconds; can fail, crash or echo a payload on request.",
        input_model=SleepInput,
        output_model=SleepOutput,
        run=run,
        side_effects=side_effects,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        summarize=lambda out: f"{out.task_id} slept {out.slept_ms} ms (call {out.call})",
    )


PlanStep = PlanUpdate | PlanOutcome


def _outcome(step: PlanStep) -> PlanOutcome:
    return step if isinstance(step, PlanOutcome) else PlanOutcome(step)


class ScriptExhausted(RuntimeError):
    """A `ScriptedPlanner` built from a list was asked more often than the list is long."""


class ScriptedPlanner:
    """A planner that replays a script: a function of the view, or a list of answers in order.

    Every view it was shown is kept in `views`, so a test can check what the planner saw
    (failed tasks, validation feedback, usage so far). A list script raises `ScriptExhausted`
    when asked once too often, unless `then` gives the answer for every call after the list.
    """

    def __init__(
        self,
        script: Callable[[PlanView], PlanStep] | Sequence[PlanStep],
        *,
        then: PlanStep | None = None,
    ) -> None:
        self._script = script
        self._then = then
        self._calls = 0
        self.views: list[PlanView] = []

    @property
    def calls(self) -> int:
        return self._calls

    async def plan(self, view: PlanView) -> PlanOutcome:
        self.views.append(view)
        self._calls += 1
        if callable(self._script):
            return _outcome(self._script(view))
        if self._calls > len(self._script):
            if self._then is not None:
                return _outcome(self._then)
            raise ScriptExhausted(
                f"the script has {len(self._script)} plan updates; call {self._calls} has none"
            )
        return _outcome(self._script[self._calls - 1])


class FanOutPlanner:
    """Adds `per_round` independent sleep tasks per round until `n_tasks` were added.

    It reads only the board, so it plans the same after a resume. It finishes `completed` once
    every task is done, `partial` if any failed.
    """

    def __init__(self, n_tasks: int, per_round: int, ms: int = 0, payload: str = "") -> None:
        if n_tasks < 1 or per_round < 1:
            raise ValueError("n_tasks and per_round must be at least 1")
        self.n_tasks = n_tasks
        self.per_round = per_round
        self.ms = ms
        self.payload = payload

    async def plan(self, view: PlanView) -> PlanOutcome:
        added = len(view.tasks)
        if added < self.n_tasks:
            batch = range(added, min(added + self.per_round, self.n_tasks))
            return PlanOutcome(
                PlanUpdate(
                    add=[
                        NewTask(
                            id=f"t{i:05d}",
                            worker=SLEEP,
                            inputs={"ms": self.ms, "payload": self.payload},
                        )
                        for i in batch
                    ]
                )
            )
        failed = [t for t in view.tasks.values() if t["status"] == "failed"]
        if failed:
            return PlanOutcome(
                PlanUpdate(finish=Finish(status="partial", reason=f"{len(failed)} tasks failed"))
            )
        return PlanOutcome(
            PlanUpdate(finish=Finish(status="completed", reason=f"all {added} tasks done"))
        )


@dataclass(frozen=True)
class SyntheticDomain(Domain):
    """A `Domain` that also holds the `CallLog` its workers write to."""

    call_log: CallLog = field(default_factory=CallLog)


def synthetic_domain(
    planner: Planner | Callable[[Context], Planner],
    *,
    call_log: CallLog | None = None,
    side_effects: bool = False,
    timeout_s: float = 30.0,
    max_attempts: int = 3,
    extra_workers: Iterable[WorkerSpec[Any, Any]] = (),
    name: str = "synthetic",
) -> SyntheticDomain:
    """A domain with a `sleep` worker (and a side-effecting `commit` one if `side_effects`).

    `planner` is a planner instance, used for every round of every run, or a factory that builds
    one from the run's `Context` (called once per round, like any domain's planner factory).
    """
    log = call_log if call_log is not None else CallLog()
    specs = [sleep_worker(log, timeout_s=timeout_s, max_attempts=max_attempts)]
    if side_effects:
        specs.append(
            sleep_worker(
                log,
                name=COMMIT,
                side_effects=True,
                timeout_s=timeout_s,
                max_attempts=max_attempts,
            )
        )
    specs.extend(extra_workers)
    factory: Callable[[Context], Planner]
    if callable(getattr(planner, "plan", None)):
        instance = cast(Planner, planner)
        factory = lambda _ctx: instance  # noqa: E731
    else:
        factory = cast(Callable[[Context], Planner], planner)
    return SyntheticDomain(
        name=name,
        description="Synthetic sleep tasks for tests and benchmarks.",
        workers=WorkerRegistry.of(*specs),
        planner=factory,
        synthesizer=lambda _ctx: TemplateSynthesizer(),
        verifier=lambda _ctx: BoardVerifier(),
        call_log=log,
    )
