"""The typed state every node shares, the narrow payload a worker receives, and the reducers.

Everything here is JSON-native (TypedDicts of plain values) so checkpoints deserialize without
registered types. The growing parts of the state (the task board, the results and the event log)
live in `DeltaChannel`s: a checkpoint stores only what a step wrote, never the whole collection
again, which keeps checkpoint storage linear in the work done (see DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired, get_args

from langgraph.channels import DeltaChannel
from pydantic import ConfigDict, with_config

# pydantic builds JSON schemas only from `typing_extensions.TypedDict` on Python < 3.12; with
# `typing.TypedDict` the server's /assistants/{id}/schemas come back empty and Studio has no form.
from typing_extensions import TypedDict

# Studio shows these docstrings as the input form's field help.
_FIELD_DOCS = ConfigDict(use_attribute_docstrings=True)

TaskStatus = Literal["pending", "running", "done", "failed", "cancelled"]
RunStatus = Literal["running", "awaiting_approval", "completed", "partial", "failed"]
FinalStatus = Literal["completed", "partial", "failed"]
FINAL_STATUSES: frozenset[str] = frozenset(get_args(FinalStatus))

TERMINAL_TASK_STATUSES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class Task(TypedDict):
    """One entry of the task board: what to do, who does it, and how it went."""

    id: str
    worker: str
    inputs: dict[str, Any]
    depends_on: list[str]
    status: TaskStatus
    attempts: int
    """How many times the task was dispatched."""
    failures: int
    """How many of those attempts ended in a failed result."""
    round: int
    """The orchestrator round that added the task."""
    reason: str
    """Why the planner added it; shown in reports and history."""
    result_ref: str | None
    """Key of the task's latest result in `OrchestratorState.results`."""
    started_at: float | None
    ended_at: float | None
    error: str | None


class TaskResult(TypedDict):
    """What a worker reports back for one task attempt."""

    task_id: str
    worker: str
    ok: bool
    output: dict[str, Any] | None
    error: str | None
    summary: str
    """A compact, human-readable digest of the output; planners read this, not raw payloads."""
    attempt: int
    started_at: float
    ended_at: float
    inputs: NotRequired[dict[str, Any]]
    """The inputs the attempt ran with, when references were filled in as it started (a lane
    task): the board's task takes them, so it shows the values used, not the references."""


class LogEntry(TypedDict):
    """One line of the run's decision log: plan changes, rejections, guards, approvals."""

    round: int
    kind: Literal["decision", "rejected", "guard", "approval", "usage", "info"]
    message: str
    data: NotRequired[dict[str, Any]]


class Usage(TypedDict):
    """Token usage of model calls: one planning or synthesis call, or a worker attempt's calls
    to one model (`calls` of them), attributed to its task."""

    round: int
    """The round that made the call: the planning round, or the one that dispatched the task."""
    role: str
    """`planner`, `synthesizer`, `worker` (a worker's own calls) or `sub-run` (what a delegated
    sub-orchestration spent, charged to the delegating task)."""
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    model: NotRequired[str]
    calls: NotRequired[int]
    """Model calls the record sums (1 when absent)."""
    task_id: NotRequired[str]
    worker: NotRequired[str]
    attempt: NotRequired[int]


class Budget(TypedDict):
    """What a delegating task may hand down to its sub-orchestration: its share of the run's
    budget left at dispatch (`orchestrator.budgets`)."""

    tokens: int | None
    cost_usd: float | None
    tasks: int
    seconds: float
    """Seconds of work left before the run's deadline (`Context.deadline_s`)."""


class Answer(TypedDict):
    """The synthesized outcome of a run."""

    status: FinalStatus
    reason: str
    summary: str
    data: dict[str, Any]


class GrowingDeltaChannel(DeltaChannel[Any]):
    """A `DeltaChannel` for collections that only grow, tuned for boards of 10,000+ tasks.

    - **Snapshots at a doubling**, not every N updates: `snapshot_frequency` (here a floor) is
      raised to the number of updates after which the collection has about doubled since the
      last snapshot, estimated from its growth per update in this process. With a fixed N the
      snapshots of a board of n tasks add up to n²/N entries (bench B3: bytes per task grew
      1.6x from 1,000 to 20,000 tasks); at a doubling they add up to about 2n, whatever n is.
      Capped, so a read never replays more than `MAX_UPDATES_BETWEEN_SNAPSHOTS` writes.
    - **`copy()` shares the value**: the reducers of this module never mutate the collection
      they are given (each returns a new one), so a copy need not duplicate it. LangGraph copies
      every channel to evaluate a conditional edge (`local_read(fresh=True)`), which copied the
      whole board and all results at every round (bench B1: 0.1 ms per round at 3,000 tasks).
    """

    MAX_UPDATES_BETWEEN_SNAPSHOTS = 2000
    """Below LangGraph's own cap (`LANGGRAPH_DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT`, 5,000
    supersteps), and about 2 supersteps per round."""

    __slots__ = ("_floor", "_seen_len", "_seen_updates")

    def __init__(
        self,
        reducer: Any,
        typ: Any = None,
        *,
        snapshot_frequency: int = 50,
    ) -> None:
        self._floor = snapshot_frequency
        self._seen_len = -1
        self._seen_updates = 0
        if typ is None:
            super().__init__(reducer, snapshot_frequency=snapshot_frequency)
        else:
            super().__init__(reducer, typ, snapshot_frequency=snapshot_frequency)

    @property
    def snapshot_frequency(self) -> int:
        value = self.value
        if self._seen_updates == 0 or not isinstance(value, dict | list):
            return self._floor
        growth = (len(value) - self._seen_len) / self._seen_updates
        if growth <= 0:
            return self.MAX_UPDATES_BETWEEN_SNAPSHOTS
        at_double = int(len(value) / (2 * growth))
        return min(max(self._floor, at_double), self.MAX_UPDATES_BETWEEN_SNAPSHOTS)

    @snapshot_frequency.setter
    def snapshot_frequency(self, value: int) -> None:
        self._floor = value

    def _fresh(self) -> GrowingDeltaChannel:
        new = self.__class__(self.reducer, self.typ, snapshot_frequency=self._floor)
        new.key = self.key
        return new

    def copy(self) -> GrowingDeltaChannel:
        new = self._fresh()
        new.value = self.value  # shared: see the class docstring
        new._seen_len, new._seen_updates = self._seen_len, self._seen_updates
        return new

    def from_checkpoint(self, checkpoint: Any) -> GrowingDeltaChannel:
        new = super().from_checkpoint(checkpoint)
        new._floor = self._floor
        return new

    def update(self, values: Sequence[Any]) -> bool:
        if self._seen_len < 0:
            value = self.value
            self._seen_len = len(value) if isinstance(value, dict | list) else 0
        changed = super().update(values)
        if changed:
            self._seen_updates += 1
        return changed


def merge_by_id(current: dict[str, Any], writes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Reducer for keyed maps: each write replaces the entries it names.

    Batching-invariant, as `DeltaChannel` requires: applying two batches one after the other
    gives the same map as applying their concatenation.
    """
    merged = dict(current)
    for write in writes:
        merged.update(write)
    return merged


def append_all(current: list[Any], writes: Sequence[Sequence[Any]]) -> list[Any]:
    """Reducer for append-only logs (batching-invariant concatenation)."""
    merged = list(current)
    for write in writes:
        merged.extend(write)
    return merged


class BoardIndex(TypedDict):
    """What a round needs to know about the board without scanning it, kept by the orchestrator
    from its own writes (`orchestrator.board.IndexKeeper`). Written as deltas."""

    size: int
    """How many tasks the board held when the index was last written: a board of another size
    (a thread from before the index, or tasks written by someone else) has the index rebuilt."""
    open: dict[str, int]
    """The pending and running tasks, each with its position on the board (`None` in a write
    removes one)."""
    failed: NotRequired[dict[str, int]]
    """Failed attempts per work signature (`orchestrator.validation.task_signature`)."""


def merge_index(current: Mapping[str, Any], writes: Sequence[Mapping[str, Any]]) -> BoardIndex:
    """Reducer of the board index. Batching-invariant, as `DeltaChannel` requires: `size` is the
    last one written, `open` entries are replaced or (with `None`) removed, `failed` replaced."""
    open_: dict[str, int] = dict(current.get("open") or {})
    failed: dict[str, int] = current.get("failed") or {}
    size = current.get("size", 0)
    copied = False
    for write in writes:
        size = write.get("size", size)
        for key, value in (write.get("open") or {}).items():
            if value is None:
                open_.pop(key, None)
            else:
                open_[key] = value
        if more := write.get("failed"):
            if not copied:
                failed, copied = dict(failed), True
            failed.update(more)
    return BoardIndex(size=size, open=open_, failed=failed)


@with_config(_FIELD_DOCS)
class InputState(TypedDict):
    """What a caller passes to start a run."""

    goal: str
    """The high-level goal, in words."""
    request: NotRequired[dict[str, Any] | None]
    """Optional structured form of the goal, e.g. a trip request; the domain's planner reads it."""
    scope: NotRequired[str]
    """Where this run sits under a managing orchestrator ('' at the top). Part of every side
    effect's idempotency key, so sub-runs on one thread never share a booking."""


@with_config(_FIELD_DOCS)
class OutputState(TypedDict):
    """What a finished run returns."""

    status: RunStatus
    """`completed`, `partial` or `failed` once finished; `awaiting_approval` while paused."""
    reason: str
    """Why the run ended the way it did, in one sentence."""
    answer: Answer | None
    """The synthesized answer: status, reason, a readable summary and structured data."""


class OrchestratorState(TypedDict):
    """The whole shared state. Written by the orchestrator; workers write only `results`, and
    `usage` when they called a model."""

    goal: str
    request: NotRequired[dict[str, Any] | None]
    scope: NotRequired[str]
    run_id: NotRequired[str]
    """Names one run of the thread (a new one for each new input on it, kept across resumes).
    Part of every side effect's idempotency key, so a second trip on a thread can never be
    handed the first trip's bookings."""
    tasks: Annotated[dict[str, Task], GrowingDeltaChannel(merge_by_id)]
    results: Annotated[dict[str, TaskResult], GrowingDeltaChannel(merge_by_id)]
    log: Annotated[list[LogEntry], GrowingDeltaChannel(append_all)]
    usage: Annotated[list[Usage], GrowingDeltaChannel(append_all)]
    board_index: Annotated[BoardIndex, GrowingDeltaChannel(merge_index)]
    """Open tasks and failure counts, so a round costs what changed, not the board's size."""
    round: int
    first_round: int
    """The round the current run started at: a thread can hold several runs, one after another."""
    idle_rounds: int
    """Consecutive rounds in which no task succeeded (the stall guard's counter)."""
    started_at: float
    busy_s: float
    """Seconds the run has spent working: planning, plus each batch's slowest task. Waiting for
    an approval or a resume does not count; `Context.deadline_s` bounds this."""
    dispatch: list[WorkerPayload]
    """What goes to the workers in this superstep: one payload per task, ready to `Send`."""
    notes: dict[str, Any]
    """The planner's own small scratchpad, kept between rounds."""
    approval: NotRequired[dict[str, Any] | None]
    """A batch of side-effecting tasks waiting for a human decision."""
    status: RunStatus
    reason: str
    claim: NotRequired[dict[str, Any] | None]
    """What ended the run before verification, as the planner (or a guard) put it:
    `{"status", "reason"}`. `synthesize` hands it to the verifier, which alone decides."""
    answer: Answer | None


class RouteView(TypedDict):
    """All a route function reads. Narrow on purpose: LangGraph reads (and copies) exactly the
    channels a route's input type names, and the board need not be copied to route."""

    status: RunStatus
    dispatch: list[WorkerPayload]


class WorkerPayload(TypedDict):
    """The only thing a worker node receives: its task, never the whole state."""

    task_id: str
    worker: str
    inputs: dict[str, Any]
    attempt: int
    scope: str
    run_id: NotRequired[str]
    """The run the task belongs to (`OrchestratorState.run_id`)."""
    round: NotRequired[int]
    """The orchestrator round that dispatched this attempt; traces carry it as metadata."""
    after: NotRequired[list[str]]
    """Tasks of the same lane this one starts after (their results come in the same step)."""
    not_after: NotRequired[float]
    """A lane task does not start after this wall-clock time (`Context.deadline_s`): the
    orchestrator, which checks the deadline between rounds, is not asked between lane tasks."""
    budget: NotRequired[Budget]
    """For a worker that delegates (`WorkerSpec.delegates`): what its sub-run may spend."""
    ref_error: NotRequired[str]
    """Why a reference in the inputs to another task's output did not resolve
    (`orchestrator.refs`): the worker is not called, the task fails with this error."""
    resolved: NotRequired[bool]
    """Its references were filled in when it ran, in a lane (`orchestrator.refs`): its result
    carries the inputs it ran with, for the board."""


class LanePayload(TypedDict):
    """What the `lanes` node receives: tasks of which some wait for others, in board order.

    Each task starts as soon as the tasks it waits for (`WorkerPayload.after`) have succeeded,
    not at the next superstep (see `nodes.lanes`)."""

    lane: list[WorkerPayload]
