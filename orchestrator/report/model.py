"""The run report: what a run did, when, how much ran at once, and what bounded its wall time.

Pure: built from a run's state values plus, optionally, the times its checkpoints were written
(`Checkpoint`, read from the thread's history by `orchestrator.report.load`). Nothing here
touches a graph, a file or a terminal, so every number is tested directly.

Times are seconds since the run started. Two facts the state alone does not hold come from the
checkpoints: when each orchestrator round ran (a checkpoint is written after every superstep),
and which round dispatched each attempt of a task. Without checkpoints the report still has every
task attempt (from the results) and takes the round that added a task as its dispatch round.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from langgraph.graph import START

from orchestrator.board import result_key
from orchestrator.llm.usage import UsageTotals, usage_totals
from orchestrator.report.cost import CostBreakdown, cost_breakdown

ORCHESTRATOR_NODES = frozenset({"orchestrate", "approve", "synthesize"})
"""Every other node of the graph (`__start__` aside) is a worker."""

StepKind = Literal["plan", "approval", "work", "synthesize", "input"]


@dataclass(frozen=True)
class Checkpoint:
    """What the report needs from one checkpoint of the thread (give them oldest first)."""

    at: float
    """Unix time the checkpoint was written."""
    next: tuple[str, ...]
    """The nodes that run from this checkpoint (empty at the end of the run)."""
    round: int
    dispatch: tuple[tuple[str, int], ...] = ()
    """(task id, attempt) of every task sent to a worker from this checkpoint."""


@dataclass(frozen=True)
class Step:
    """One superstep: the node(s) that ran, in which round, from when to when."""

    kind: StepKind
    round: int
    start: float
    end: float | None
    """None while it is still open, e.g. an approval nobody has answered yet."""
    nodes: tuple[str, ...]

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True)
class Attempt:
    """One execution of a task by its worker: one bar of the timeline."""

    key: str
    """`task_id#attempt`, the key of its result in the state."""
    task_id: str
    worker: str
    attempt: int
    round: int
    """The orchestrator round that dispatched it."""
    start: float
    end: float | None
    """None while it runs (a paused or interrupted run)."""
    ok: bool | None
    """None while it runs."""
    summary: str
    critical: bool = False

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True)
class TaskNode:
    """A task of the plan: one node of the dependency graph."""

    id: str
    worker: str
    status: str
    round: int
    """The round that added it."""
    depends_on: tuple[str, ...]
    attempts: int
    reason: str
    summary: str
    """Its latest result's summary, or its error."""
    seconds: float | None
    """Its latest attempt's duration."""
    critical: bool = False


@dataclass(frozen=True)
class RoundSummary:
    """One orchestrator round: when it ran, what it decided, what it sent to workers."""

    round: int
    start: float | None
    end: float | None
    """The next round's start (or the run's end): the round's whole span, workers included."""
    planning_s: float | None
    """How long the orchestrator node itself took (planning, validation, dispatch)."""
    decisions: tuple[str, ...]
    added: tuple[str, ...]
    dispatched: tuple[str, ...]
    """Keys (`task#attempt`) of the attempts this round sent to workers."""
    max_parallel: int
    tokens: int


@dataclass(frozen=True)
class Totals:
    tasks: int
    by_status: dict[str, int]
    attempts: int
    rounds: int
    wall_s: float
    """From the run's first checkpoint (or first round) to its last."""
    worker_s: float
    """Sum of every finished attempt's duration."""
    planning_s: float | None
    """Time in the orchestrator node, summed over rounds (None without checkpoint times)."""
    approval_wait_s: float | None
    """Time paused for a human decision (None without checkpoint times)."""
    max_parallel: int
    """The most attempts that ran at the same moment."""
    critical_path_s: float
    """Worker time along the critical path."""


@dataclass(frozen=True)
class RunReport:
    """Everything `orchestrator show` prints or draws about one run."""

    thread_id: str
    goal: str
    status: str
    reason: str
    tasks: tuple[TaskNode, ...]
    attempts: tuple[Attempt, ...]
    """In start order."""
    rounds: tuple[RoundSummary, ...]
    steps: tuple[Step, ...]
    critical_path: tuple[str, ...]
    """Attempt keys, first to last."""
    totals: Totals
    usage: UsageTotals
    log: tuple[dict[str, Any], ...] = field(default=())
    cost: CostBreakdown | None = None
    """The usage per task, per worker and per round."""
    planner_said: str = ""
    """The planner's own reason when its claim differs from the verdict (`status`/`reason`
    are the verifier's), e.g. "over budget: the cheapest plan costs $2,584"."""

    def task(self, task_id: str) -> TaskNode:
        return next(t for t in self.tasks if t.id == task_id)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["usage"] = self.usage.as_dict()
        data["cost"] = self.cost.as_dict() if self.cost else None
        return data


def build_report(
    values: Mapping[str, Any],
    *,
    thread_id: str = "",
    checkpoints: Sequence[Checkpoint] = (),
) -> RunReport:
    """The report of a run from its state values (and its checkpoints' times, when known)."""
    tasks: Mapping[str, Mapping[str, Any]] = values.get("tasks") or {}
    results: Mapping[str, Mapping[str, Any]] = values.get("results") or {}
    log: list[dict[str, Any]] = list(values.get("log") or [])
    usage: list[Any] = list(values.get("usage") or [])

    dispatch_round = {pair: c.round for c in checkpoints for pair in c.dispatch}
    raw = list(_raw_attempts(tasks, results, dispatch_round))
    origin = _origin(values, checkpoints, raw)
    steps = tuple(_steps(checkpoints, origin))
    end_abs = checkpoints[-1].at if checkpoints else None
    attempts = [
        Attempt(
            key=a["key"],
            task_id=a["task_id"],
            worker=a["worker"],
            attempt=a["attempt"],
            round=a["round"],
            start=a["start"] - origin,
            end=None if a["end"] is None else a["end"] - origin,
            ok=a["ok"],
            summary=a["summary"],
        )
        for a in raw
    ]
    attempts.sort(key=lambda a: (a.start, a.end if a.end is not None else a.start, a.key))
    path = critical_path(attempts)
    on_path = set(path)
    attempts = [_with(a, critical=a.key in on_path) for a in attempts]

    ends = [a.end for a in attempts if a.end is not None]
    step_ends = [s.end for s in steps if s.end is not None]
    wall = (end_abs - origin) if end_abs is not None else max([0.0, *ends, *step_ends])
    round_count = int(values.get("round") or 0)
    nodes = tuple(_task_nodes(tasks, results, {a.task_id for a in attempts if a.critical}))
    by_status: dict[str, int] = {}
    for node in nodes:
        by_status[node.status] = by_status.get(node.status, 0) + 1
    plan_steps = [s for s in steps if s.kind == "plan"]
    wait_steps = [s for s in steps if s.kind == "approval"]
    totals = Totals(
        tasks=len(nodes),
        by_status=by_status,
        attempts=len(attempts),
        rounds=round_count,
        wall_s=wall,
        worker_s=sum(a.seconds or 0.0 for a in attempts),
        planning_s=sum(s.seconds or 0.0 for s in plan_steps) if steps else None,
        approval_wait_s=(
            sum((s.end if s.end is not None else wall) - s.start for s in wait_steps)
            if steps
            else None
        ),
        max_parallel=max_parallel(attempts),
        critical_path_s=sum(a.seconds or 0.0 for a in attempts if a.critical),
    )
    return RunReport(
        thread_id=thread_id,
        goal=str(values.get("goal") or ""),
        status=str(values.get("status") or "unknown"),
        reason=str(values.get("reason") or ""),
        tasks=nodes,
        attempts=tuple(attempts),
        rounds=tuple(_rounds(round_count, steps, attempts, nodes, log, usage, wall)),
        steps=steps,
        critical_path=tuple(path),
        totals=totals,
        usage=usage_totals(usage),
        log=tuple(log),
        cost=cost_breakdown(usage),
        planner_said=_planner_said(values),
    )


def _planner_said(values: Mapping[str, Any]) -> str:
    claim = values.get("claim")
    said = str(claim.get("reason") or "") if isinstance(claim, Mapping) else ""
    return said if said and said != values.get("reason") else ""


def _with(attempt: Attempt, *, critical: bool) -> Attempt:
    if attempt.critical == critical:
        return attempt
    return Attempt(**{**asdict(attempt), "critical": critical})


def _raw_attempts(
    tasks: Mapping[str, Mapping[str, Any]],
    results: Mapping[str, Mapping[str, Any]],
    dispatch_round: Mapping[tuple[str, int], int],
) -> Iterable[dict[str, Any]]:
    """Every attempt that has a result, plus the attempt of each task still running."""
    for key, result in results.items():
        task = tasks.get(result["task_id"])
        pair = (result["task_id"], int(result["attempt"]))
        yield {
            "key": key,
            "task_id": result["task_id"],
            "worker": result["worker"],
            "attempt": pair[1],
            "round": dispatch_round.get(pair, int(task["round"]) if task else 0),
            "start": float(result["started_at"]),
            "end": float(result["ended_at"]),
            "ok": bool(result["ok"]),
            "summary": str(result.get("summary") or result.get("error") or ""),
        }
    for task in tasks.values():
        key = result_key(task["id"], int(task["attempts"]))
        if task["status"] != "running" or key in results or task.get("started_at") is None:
            continue
        pair = (task["id"], int(task["attempts"]))
        yield {
            "key": key,
            "task_id": task["id"],
            "worker": task["worker"],
            "attempt": pair[1],
            "round": dispatch_round.get(pair, int(task["round"])),
            "start": float(task["started_at"]),
            "end": None,
            "ok": None,
            "summary": "running",
        }


def _origin(
    values: Mapping[str, Any], checkpoints: Sequence[Checkpoint], raw: list[dict[str, Any]]
) -> float:
    candidates = [c.at for c in checkpoints[:1]]
    if values.get("started_at"):
        candidates.append(float(values["started_at"]))
    candidates.extend(a["start"] for a in raw)
    return min(candidates, default=0.0)


def _kind(nodes: tuple[str, ...]) -> StepKind:
    if "orchestrate" in nodes:
        return "plan"
    if "approve" in nodes:
        return "approval"
    if "synthesize" in nodes:
        return "synthesize"
    if START in nodes:
        return "input"
    return "work"


def _steps(checkpoints: Sequence[Checkpoint], origin: float) -> Iterable[Step]:
    """A step between each pair of checkpoints; a last step left open if the run is paused."""
    for i, before in enumerate(checkpoints):
        if not before.next:
            continue
        after = checkpoints[i + 1] if i + 1 < len(checkpoints) else None
        kind = _kind(before.next)
        if kind == "input":
            continue
        # The round a step belongs to: what orchestrate wrote, or the round it ran in.
        round_no = after.round if after is not None and kind == "plan" else before.round
        if kind == "plan" and after is None:
            round_no = before.round + 1
        yield Step(
            kind=kind,
            round=round_no,
            start=before.at - origin,
            end=None if after is None else after.at - origin,
            nodes=before.next,
        )


def critical_path(attempts: Sequence[Attempt]) -> list[str]:
    """The chain of finished attempts, each ending before the next starts, with most worker time.

    Under LangGraph's superstep barrier a round's slowest task holds back the next round, so
    this chain is the slowest attempt of each wave; add one planning call per round and it is
    the floor of the run's wall time. Explicit dependencies are part of it too: a dependency
    always ends before its dependent starts. O(n log n), via a prefix-max Fenwick tree over end
    times.
    """
    done = [a for a in attempts if a.end is not None]
    if not done:
        return []
    ends = sorted({a.end for a in done if a.end is not None})
    tree = _PrefixMax(len(ends))
    best: dict[str, float] = {}
    previous: dict[str, str | None] = {}
    order = sorted(done, key=lambda a: (a.start, a.end, a.key))
    for a in order:
        assert a.end is not None
        upto = bisect.bisect_right(ends, a.start + 1e-9)
        length, pred = tree.query(upto)
        best[a.key] = length + (a.end - a.start)
        previous[a.key] = pred
        tree.update(bisect.bisect_left(ends, a.end), best[a.key], a.key)
    last: str | None = max(order, key=lambda a: (best[a.key], a.end or 0.0)).key
    path: list[str] = []
    while last is not None:
        path.append(last)
        last = previous[last]
    return path[::-1]


class _PrefixMax:
    """Fenwick tree: the best (value, key) among positions < i."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.value = [0.0] * (size + 1)
        self.key: list[str | None] = [None] * (size + 1)

    def update(self, position: int, value: float, key: str) -> None:
        i = position + 1
        while i <= self.size:
            if value > self.value[i] or self.key[i] is None:
                self.value[i], self.key[i] = value, key
            i += i & -i

    def query(self, count: int) -> tuple[float, str | None]:
        best, key, i = 0.0, None, count
        while i > 0:
            if self.key[i] is not None and (key is None or self.value[i] > best):
                best, key = self.value[i], self.key[i]
            i -= i & -i
        return best, key


def max_parallel(attempts: Iterable[Attempt]) -> int:
    """The most attempts running at one moment; one that ends as another starts does not overlap."""
    events: list[tuple[float, int]] = []
    for a in attempts:
        events.append((a.start, 1))
        events.append((a.end if a.end is not None else float("inf"), -1))
    running = peak = 0
    for _time, delta in sorted(events):  # at equal times, ends (-1) sort before starts (+1)
        running += delta
        peak = max(peak, running)
    return peak


def _task_nodes(
    tasks: Mapping[str, Mapping[str, Any]],
    results: Mapping[str, Mapping[str, Any]],
    critical: set[str],
) -> Iterable[TaskNode]:
    for task in tasks.values():
        result = results.get(task.get("result_ref") or "")
        summary = str(result.get("summary") or "") if result else ""
        seconds = None
        if task.get("started_at") is not None and task.get("ended_at") is not None:
            seconds = float(task["ended_at"]) - float(task["started_at"])
        yield TaskNode(
            id=task["id"],
            worker=task["worker"],
            status=task["status"],
            round=int(task["round"]),
            depends_on=tuple(task.get("depends_on") or ()),
            attempts=int(task["attempts"]),
            reason=str(task.get("reason") or ""),
            summary=summary or str(task.get("error") or ""),
            seconds=seconds,
            critical=task["id"] in critical,
        )


def _rounds(
    count: int,
    steps: Sequence[Step],
    attempts: Sequence[Attempt],
    nodes: Sequence[TaskNode],
    log: Sequence[Mapping[str, Any]],
    usage: Sequence[Mapping[str, Any]],
    wall: float,
) -> Iterable[RoundSummary]:
    plan_at = {s.round: s for s in steps if s.kind == "plan"}
    for n in range(1, count + 1):
        plan = plan_at.get(n)
        following = plan_at.get(n + 1)
        in_round = [a for a in attempts if a.round == n]
        yield RoundSummary(
            round=n,
            start=plan.start if plan else None,
            end=following.start if following else (wall if plan else None),
            planning_s=plan.seconds if plan else None,
            decisions=tuple(
                str(e["message"])
                for e in log
                if e["round"] == n and e["kind"] in ("decision", "rejected", "guard", "approval")
            ),
            added=tuple(t.id for t in nodes if t.round == n),
            dispatched=tuple(a.key for a in in_round),
            max_parallel=max_parallel(in_round),
            tokens=sum(
                int(u["prompt_tokens"]) + int(u["completion_tokens"])
                for u in usage
                if u["round"] == n
            ),
        )
