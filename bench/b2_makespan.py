"""B2 Makespan against the critical path: simulated async workers with set latencies.

Each DAG is planned whole in round 1 by the shipped `domains.synthetic.ScriptedPlanner` (no hint
about the DAG's parts), on the default graph (`build_graph`). LangGraph ends every superstep at a
barrier, so dispatching level after level cannot beat the sum of each level's slowest task (the
per-level bound); the physical floor is the critical path. The orchestrator sends the tasks
planned after the ready ones along with them, as lanes (`nodes.lanes`), where each task starts
the moment its dependencies end: the target is the critical path. For comparison, each
independent part (a chain, a trip's leg) also runs as its own sub-orchestration
(`orchestrator.delegate.delegate_worker`, one `Send` to a compiled subgraph per part), which a
planner has to be told about.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench.common import Check, Report, Settings, Stopwatch, Table, median, ms, prose, ratio
from bench.workload import (
    Dag,
    DelegatingPlanner,
    Step,
    dag_domain,
    dag_tasks,
    nap_pool,
    request_of,
    wide_context,
)
from domains.synthetic import ScriptedPlanner
from graph.builder import build_graph
from orchestrator.delegate import delegate_worker
from orchestrator.domain import Domain
from orchestrator.planning import PlanUpdate
from orchestrator.runner import run_config

KEY = "B2"
TITLE = "Makespan against the critical path"
CRITICAL_PATH_FACTOR, CRITICAL_PATH_SLACK_S = 1.05, 0.020
"""The default graph's target: makespan ≤ 1.05× the critical path + 20 ms."""
CRITICAL_FACTOR = 1.1
"""The sub-orchestrations' (for comparison)."""
REPETITIONS = 5
"""Runs per DAG; the median is reported (a split run varies by a few ms from one to the next)."""


def _chain(prefix: str, latencies: list[int]) -> list[Step]:
    return [
        Step(f"{prefix}{n}", lat, (f"{prefix}{n - 1}",) if n > 1 else ())
        for n, lat in enumerate(latencies, 1)
    ]


def _leg(n: int, flight: int, hotel: int | None, car: int | None, book: int) -> list[Step]:
    """Flight search, then hotel and car searches for its dates, then the booking."""
    steps = [Step(f"leg{n}-flight", flight)]
    if hotel is not None:
        steps.append(Step(f"leg{n}-hotel", hotel, (f"leg{n}-flight",)))
    if car is not None:
        steps.append(Step(f"leg{n}-car", car, (f"leg{n}-flight",)))
    waits = tuple(s.id for s in steps)
    steps.append(Step(f"leg{n}-book", book, waits))
    return steps


def dags(smoke: bool) -> list[Dag]:
    scale = 0.1 if smoke else 1.0

    def lat(values: list[int]) -> list[int]:
        return [max(1, round(v * scale)) for v in values]

    fan_sizes = (1, 10) if smoke else (1, 10, 100)
    out = [
        Dag(
            f"fan-out of {n}",
            tuple(Step(f"t{i:03d}", lat([20 + (i * 37) % 181])[0]) for i in range(n))
            if n > 1
            else (Step("t000", lat([100])[0]),),
        )
        for n in fan_sizes
    ]
    fast, slow = _chain("a", lat([50, 50])), _chain("b", lat([100]))
    out.append(
        Dag(
            "2 chains: 50+50 ms vs 100 ms",
            (*fast, *slow),
            groups=(tuple(s.id for s in fast), tuple(s.id for s in slow)),
        )
    )
    chains = [_chain("a", lat([40] * 4)), _chain("b", lat([120, 120])), _chain("c", lat([200]))]
    out.append(
        Dag(
            "3 chains: 4×40, 2×120, 1×200 ms",
            tuple(s for c in chains for s in c),
            groups=tuple(tuple(s.id for s in c) for c in chains),
        )
    )
    legs = [
        _leg(1, *lat([60, 120, 50, 30])),  # SFO->JFK: hotel and car in New York
        _leg(2, *lat([160, 40, 40, 30])),  # JFK->CDG: a slow search, hotel and car in Paris
        [Step("leg3-flight", lat([90])[0]), Step("leg3-book", lat([30])[0], ("leg3-flight",))],
    ]
    out.append(
        Dag(
            "three-leg trip (flight → hotel + car → book)",
            tuple(s for leg in legs for s in leg),
            groups=tuple(tuple(s.id for s in leg) for leg in legs),
        )
    )
    return out


def _flat_domain(dag: Dag) -> Domain:
    """The DAG given whole in round 1 by a shipped planner, nothing more afterwards."""
    planner = ScriptedPlanner([PlanUpdate(add=dag_tasks(dag.steps))], then=PlanUpdate())
    return nap_pool(planner, name="bench-dag")


def _delegating_domain() -> Domain:
    part = delegate_worker(dag_domain("bench-part"), name="delegate")
    return nap_pool(DelegatingPlanner("delegate"), extra_workers=[part], name="bench-parts")


async def _makespan(dag: Dag, *, split: bool, thread: str) -> float:
    domain = _delegating_domain() if split else _flat_domain(dag)
    context = wide_context(len(dag.steps))
    request = (
        {"groups": [request_of(dag.group(ids).steps) for ids in dag.groups]}
        if split
        else request_of(dag.steps)
    )
    graph = build_graph(domain)
    with Stopwatch() as sw:
        out = await graph.ainvoke(
            {"goal": dag.name, "request": request}, run_config(thread, context), context=context
        )
    assert out["status"] == "completed", out["reason"]
    return sw.timing.wall


async def _asyncio_floor(dag: Dag, *, barrier: bool) -> float:
    """The same latencies scheduled by plain asyncio: the floor on this machine right now.

    With `barrier`, one `gather` per level (the best a superstep barrier allows); without, each
    task starts the moment its dependencies end (the critical path).
    """
    with Stopwatch() as sw:
        if barrier:
            for level in dag.levels():
                await asyncio.gather(*(asyncio.sleep(s.ms / 1000) for s in level))
        else:
            ends: dict[str, asyncio.Task[None]] = {}

            async def step(s: Step) -> None:
                await asyncio.gather(*(ends[d] for d in s.deps))
                await asyncio.sleep(s.ms / 1000)

            for s in dag.steps:  # steps are listed after their dependencies
                ends[s.id] = asyncio.create_task(step(s))
            await asyncio.gather(*ends.values())
    return sw.timing.wall


@dataclass
class Measured:
    dag: Dag
    flat: list[float]
    split: list[float]
    level_floor: list[float]
    critical_floor: list[float]


async def measure(settings: Settings) -> list[Measured]:
    reps = settings.pick(REPETITIONS, 1)
    found = [Measured(d, [], [], [], []) for d in dags(settings.smoke)]
    await _makespan(found[0].dag, split=False, thread="warm-up")
    for rep in range(reps):
        for m in found:
            m.level_floor.append(await _asyncio_floor(m.dag, barrier=True))
            m.critical_floor.append(await _asyncio_floor(m.dag, barrier=False))
            m.flat.append(await _makespan(m.dag, split=False, thread=f"flat-{rep}"))
            if m.dag.groups:
                m.split.append(await _makespan(m.dag, split=True, thread=f"split-{rep}"))
        settings.progress(f"  {KEY}: repetition {rep + 1}/{reps} done")
    return found


def run(settings: Settings) -> Report:
    found = asyncio.run(measure(settings))
    rows = []
    flat_ok, split_ok = [], []
    for m in found:
        level_s = m.dag.level_bound_ms() / 1000
        critical_s = m.dag.critical_path_ms() / 1000
        allowed = CRITICAL_PATH_FACTOR * critical_s + CRITICAL_PATH_SLACK_S
        flat = median(m.flat)
        flat_ok.append((flat <= allowed, flat / critical_s, m.dag.name))
        rows.append(
            [
                m.dag.name,
                "whole plan, default graph",
                str(len(m.dag.steps)),
                ms(critical_s, 0),
                ms(level_s, 0),
                ms(flat, 1),
                ratio(flat / level_s, 3),
                f"**{ratio(flat / critical_s, 3)}**",
                ms(median(m.critical_floor), 1),
                ratio(flat / median(m.critical_floor), 3),
                "PASS" if flat <= allowed else "MISS",
            ]
        )
        if m.split:
            split = median(m.split)
            split_ok.append((split <= CRITICAL_FACTOR * critical_s, split / critical_s, m.dag.name))
            rows.append(
                [
                    "",
                    f"one sub-orchestration per part ({len(m.dag.groups)})",
                    str(len(m.dag.steps)),
                    ms(critical_s, 0),
                    ms(level_s, 0),
                    ms(split, 1),
                    ratio(split / level_s, 3),
                    ratio(split / critical_s, 3),
                    ms(median(m.critical_floor), 1),
                    ratio(split / median(m.critical_floor), 3),
                    "PASS" if split <= CRITICAL_FACTOR * critical_s else "MISS",
                ]
            )
    worst_flat = max(flat_ok, key=lambda t: t[1])
    worst_split = max(split_ok, key=lambda t: t[1])
    reps = settings.pick(REPETITIONS, 1)
    return Report(
        key=KEY,
        title=TITLE,
        method=prose(
            """
            Workers that sleep a set latency (`bench.workload.nap_worker`, async) on fixed task
            DAGs. The whole DAG is planned in round 1 by the shipped `ScriptedPlanner`, on the
            default graph; the orchestrator dispatches every ready task, and the tasks planned after
            them as lanes, in one superstep. *Per-level bound* = the sum over dependency levels of
            each level's slowest task (what LangGraph's superstep barrier allows at best); *critical
            path* = the longest chain of latencies (the floor with no barrier). The makespan is the
            wall time of the whole `ainvoke`, planning and synthesis included, with no checkpointer
            and `max_parallel` ≥ the DAG's width. The split plan runs each independent part (a
            chain, a leg) as its own sub-orchestrator through
            `orchestrator.delegate.delegate_worker`: one `Send` to a compiled subgraph per part, all
            parts in one superstep.
            """
        ),
        tables=[
            Table(
                headers=[
                    "DAG",
                    "plan",
                    "tasks",
                    "critical path",
                    "per-level bound",
                    "makespan",
                    "÷ per-level bound",
                    "÷ critical path",
                    "plain asyncio, same schedule",
                    "÷ asyncio",
                    "target",
                ],
                rows=rows,
                caption=(
                    f"Median of {reps} runs. Target for the default graph: makespan ≤ "
                    f"{CRITICAL_PATH_FACTOR}× critical path + "
                    f"{CRITICAL_PATH_SLACK_S * 1000:.0f} ms; for sub-orchestrations per part: ≤ "
                    f"{CRITICAL_FACTOR}× critical path. *Plain asyncio, same schedule*: the same "
                    "sleeps run by bare asyncio in the same run, each starting when its "
                    "dependencies end: the floor this machine allowed at that moment (timer "
                    "wake-ups are late when other jobs hold the cores)."
                ),
            )
        ],
        checks=[
            Check(
                target=(
                    f"default graph, shipped planner: makespan ≤ {CRITICAL_PATH_FACTOR}× critical "
                    f"path + {CRITICAL_PATH_SLACK_S * 1000:.0f} ms (all {len(flat_ok)} DAGs)"
                ),
                measured=(
                    f"{sum(ok for ok, _, _ in flat_ok)}/{len(flat_ok)} within; worst "
                    f"{ratio(worst_flat[1], 3)} ({worst_flat[2]})"
                ),
                passed=all(ok for ok, _, _ in flat_ok),
            ),
            Check(
                target=(
                    f"for comparison, one sub-orchestration per part (a planner told the parts): "
                    f"makespan ≤ {CRITICAL_FACTOR}× critical path ({len(split_ok)} DAGs)"
                ),
                measured=(
                    f"{sum(ok for ok, _, _ in split_ok)}/{len(split_ok)} within; worst "
                    f"{ratio(worst_split[1], 3)} ({worst_split[2]})"
                ),
                # For comparison: the design a planner had to be told about, before lanes.
                passed=None,
            ),
        ],
    )
