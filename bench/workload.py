"""Bench-only workers and planners: a worker that does nothing, task DAGs with set latencies.

`domains/synthetic.py` serves the tests; what the benchmarks need on top of it lives here, so the
tests' domain can change without moving the benchmarks' figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.planning import Finish, NewTask, Planner, PlanOutcome, PlanUpdate, PlanView
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.workers import WorkerCall, WorkerRegistry, WorkerSpec

NAP = "nap"


class NapInput(BaseModel):
    ms: int = Field(default=0, ge=0, description="Milliseconds to sleep; 0 returns at once.")
    n: int = Field(default=0, description="Any number; echoed back.")


class NapOutput(BaseModel):
    n: int


async def _nap(inputs: NapInput, call: WorkerCall) -> NapOutput:
    if inputs.ms:
        await asyncio.sleep(inputs.ms / 1000)
    return NapOutput(n=inputs.n)


def nap_worker() -> WorkerSpec[NapInput, NapOutput]:
    """Sleeps `ms` and returns; at 0 ms it does nothing, so a round is pure orchestration.

    Unlike the synthetic `sleep` worker it keeps no call log, whose per-call lookup grows with
    the number of calls and would bill the workload's bookkeeping to the orchestrator.
    """
    return WorkerSpec(
        name=NAP,
        description="Sleeps for `ms` milliseconds (0: returns at once).",
        input_model=NapInput,
        output_model=NapOutput,
        run=_nap,
        summarize=lambda out: f"nap {out.n}",
    )


class FanOut:
    """Adds `per_round` independent tasks for `worker` per round until `n_tasks` were added.

    Like `domains.synthetic.FanOutPlanner`, but for any worker and with constant-time rounds:
    it counts the board instead of scanning it (the scan is the orchestrator's to pay).
    """

    def __init__(
        self, n_tasks: int, per_round: int, worker: str, inputs: Mapping[str, Any]
    ) -> None:
        self.n_tasks = n_tasks
        self.per_round = per_round
        self.worker = worker
        self.inputs = dict(inputs)

    async def plan(self, view: PlanView) -> PlanOutcome:
        added = len(view.tasks)
        if added >= self.n_tasks:
            return PlanOutcome(
                PlanUpdate(finish=Finish(status="completed", reason=f"{added} tasks added"))
            )
        batch = range(added, min(added + self.per_round, self.n_tasks))
        return PlanOutcome(
            PlanUpdate(
                add=[NewTask(id=f"t{i:05d}", worker=self.worker, inputs=self.inputs) for i in batch]
            )
        )


def nap_pool(
    planner: Planner, *, extra_workers: Sequence[WorkerSpec[Any, Any]] = (), name: str = "bench-nap"
) -> Domain:
    """A domain with the `nap` worker (and any others), planned by `planner` every round."""
    return Domain(
        name=name,
        description="Bench workload: naps of set lengths.",
        workers=WorkerRegistry.of(nap_worker(), *extra_workers),
        planner=lambda _ctx: planner,
        synthesizer=lambda _ctx: TemplateSynthesizer(),
    )


def nap_domain(n_tasks: int, per_round: int, ms: int = 0) -> Domain:
    """`per_round` naps of `ms` per round until `n_tasks` were added, then finish."""
    return nap_pool(FanOut(n_tasks, per_round, NAP, {"ms": ms}))


# Task DAGs with set latencies (B2) --------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One task of a DAG: its id, how long its worker sleeps, what it waits for."""

    id: str
    ms: int
    deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dag:
    name: str
    steps: tuple[Step, ...]
    groups: tuple[tuple[str, ...], ...] = ()
    """Independent parts (chains, legs) that may each run as their own sub-orchestration."""

    def levels(self) -> list[list[Step]]:
        """Steps by depth: what a superstep barrier runs together."""
        depth: dict[str, int] = {}
        by_id = {s.id: s for s in self.steps}

        def level_of(step: Step) -> int:
            if step.id not in depth:
                depth[step.id] = 1 + max((level_of(by_id[d]) for d in step.deps), default=-1)
            return depth[step.id]

        out: list[list[Step]] = []
        for step in self.steps:
            n = level_of(step)
            while len(out) <= n:
                out.append([])
            out[n].append(step)
        return out

    def level_bound_ms(self) -> int:
        """The makespan a barrier per level allows at best: the sum of each level's slowest."""
        return sum(max(s.ms for s in level) for level in self.levels())

    def critical_path_ms(self) -> int:
        """The longest chain of latencies: the makespan with no barrier at all."""
        by_id = {s.id: s for s in self.steps}
        finish: dict[str, int] = {}

        def end_of(step: Step) -> int:
            if step.id not in finish:
                finish[step.id] = step.ms + max((end_of(by_id[d]) for d in step.deps), default=0)
            return finish[step.id]

        return max(end_of(s) for s in self.steps)

    def group(self, ids: Sequence[str]) -> Dag:
        wanted = set(ids)
        return Dag(name=self.name, steps=tuple(s for s in self.steps if s.id in wanted))


def dag_tasks(steps: Sequence[Step]) -> list[NewTask]:
    return [
        NewTask(id=s.id, worker=NAP, inputs={"ms": s.ms}, depends_on=list(s.deps)) for s in steps
    ]


def steps_of(request: Mapping[str, Any] | None) -> list[Step]:
    raw = (request or {}).get("steps", [])
    return [Step(id=r["id"], ms=int(r["ms"]), deps=tuple(r["deps"])) for r in raw]


def request_of(steps: Sequence[Step]) -> dict[str, Any]:
    return {"steps": [{"id": s.id, "ms": s.ms, "deps": list(s.deps)} for s in steps]}


class DagPlanner:
    """Round 1: the whole DAG from the run's request; later rounds change nothing.

    With nothing left to run, the orchestrator settles the run by itself, so the rounds are
    exactly the DAG's levels plus one.
    """

    async def plan(self, view: PlanView) -> PlanOutcome:
        if view.tasks:
            return PlanOutcome(PlanUpdate())
        return PlanOutcome(PlanUpdate(add=dag_tasks(steps_of(view.request))))


class DelegatingPlanner:
    """Round 1: one `delegate` task per group of the DAG in the request, all at once."""

    def __init__(self, worker: str) -> None:
        self.worker = worker

    async def plan(self, view: PlanView) -> PlanOutcome:
        if view.tasks:
            return PlanOutcome(PlanUpdate())
        groups = (view.request or {}).get("groups", [])
        return PlanOutcome(
            PlanUpdate(
                add=[
                    NewTask(
                        id=f"part-{n}",
                        worker=self.worker,
                        inputs={"goal": f"part {n}", "request": group},
                    )
                    for n, group in enumerate(groups, 1)
                ]
            )
        )


def dag_domain(name: str = "bench-dag") -> Domain:
    """The `nap` pool, planned from the DAG in the run's request."""
    return nap_pool(DagPlanner(), name=name)


def wide_context(width: int, **fields: Any) -> Context:
    """A context whose limits never get in a benchmark's way (and `planner='rules'`)."""
    values: dict[str, Any] = {
        "planner": "rules",
        "max_parallel": max(16, width),
        "max_tasks": 100_000,
        "max_rounds": 100_000,
        "max_idle_rounds": 100_000,
        "approval": "auto",
    }
    values.update(fields)
    return Context(**values)
