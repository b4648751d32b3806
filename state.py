"""The typed state every node shares, the narrow payload a worker receives, and the reducers.

Everything here is JSON-native (TypedDicts of plain values) so checkpoints deserialize without
registered types. The growing parts of the state (the task board, the results and the event log)
live in `DeltaChannel`s: a checkpoint stores only what a step wrote, never the whole collection
again, which keeps checkpoint storage linear in the work done (see DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired

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


class LogEntry(TypedDict):
    """One line of the run's decision log: plan changes, rejections, guards, approvals."""

    round: int
    kind: Literal["decision", "rejected", "guard", "approval", "usage", "info"]
    message: str
    data: NotRequired[dict[str, Any]]


class Usage(TypedDict):
    """Token usage of one planning or synthesis call."""

    round: int
    role: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


class Answer(TypedDict):
    """The synthesized outcome of a run."""

    status: FinalStatus
    reason: str
    summary: str
    data: dict[str, Any]


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
    """The whole shared state. Written by the orchestrator, workers write only `results`."""

    goal: str
    request: NotRequired[dict[str, Any] | None]
    scope: NotRequired[str]
    run_id: NotRequired[str]
    """Names one run of the thread (a new one for each new input on it, kept across resumes).
    Part of every side effect's idempotency key, so a second trip on a thread can never be
    handed the first trip's bookings."""
    tasks: Annotated[dict[str, Task], DeltaChannel(merge_by_id, snapshot_frequency=500)]
    results: Annotated[dict[str, TaskResult], DeltaChannel(merge_by_id, snapshot_frequency=500)]
    log: Annotated[list[LogEntry], DeltaChannel(append_all, snapshot_frequency=500)]
    usage: Annotated[list[Usage], DeltaChannel(append_all, snapshot_frequency=500)]
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
