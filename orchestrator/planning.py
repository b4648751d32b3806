"""The planner's seat: what a planner sees (`PlanView`) and what it answers (`PlanUpdate`).

A deterministic planner and an LLM planner plug into the orchestrator the same way, through the
`Planner` protocol. Whatever they answer is validated before it touches the board.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from orchestrator.context import Context
from orchestrator.verification import Claim, Verdict
from orchestrator.workers import WorkerRegistry
from state import Answer, LogEntry, Task, TaskResult, Usage

MAX_TASK_ID_CHARS = 80
"""Task ids are names, not payloads: a longer one is refused (the board, the prompt and every
error that names a task stay bounded)."""

TaskId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TASK_ID_CHARS)]


def _none_is_default(value: Any, default: Any) -> Any:
    """A model's `null` for a list or text field means "none": the default, not an error."""
    return default if value is None else value


class NewTask(BaseModel):
    """A task the planner wants added to the board."""

    # Unknown keys are refused, not dropped: "dependencies" for depends_on would otherwise run
    # the task too early without a word.
    model_config = ConfigDict(extra="forbid")

    # The descriptions are what the model reads about each field (the tool schema); the
    # planner's system prompt says how to plan, not what the fields are.
    id: TaskId = Field(description="New and unique, prefixed with the round: 'r2-hotel-1'.")
    worker: str
    inputs: dict[str, Any] = Field(
        description="Arguments matching the worker's input schema. A value may be "
        '{"$ref": "<id in depends_on>", "path": "results.0.url"}: that part of the task\'s '
        "output, filled in when this task runs."
    )
    depends_on: list[TaskId] = Field(
        default_factory=list, description="Ids of tasks (on the board or added now) to do first."
    )
    reason: str = Field(default="", description="Why, in a few words.")

    @field_validator("depends_on", mode="before")
    @classmethod
    def _no_dependencies(cls, value: Any) -> Any:
        return _none_is_default(value, [])

    @field_validator("reason", mode="before")
    @classmethod
    def _no_reason(cls, value: Any) -> Any:
        return _none_is_default(value, "")


class Finish(BaseModel):
    """The planner's verdict that the run is over."""

    status: Literal["completed", "partial", "failed"]
    reason: str


class PlanUpdate(BaseModel):
    """One round's change to the plan."""

    model_config = ConfigDict(extra="forbid")

    add: list[NewTask] = Field(default_factory=list, description="Tasks to add.")
    cancel: list[TaskId] = Field(
        default_factory=list, description="Ids of pending or failed tasks to drop."
    )
    retry: list[TaskId] = Field(
        default_factory=list, description="Ids of failed tasks to run again."
    )
    decisions: list[str] = Field(
        default_factory=list, description="Why the plan changed, a sentence each."
    )
    finish: Finish | None = Field(default=None, description="Ends the run.")
    notes: dict[str, Any] | None = Field(
        default=None, description="Kept for later rounds; omit to keep the last."
    )

    @field_validator("add", "cancel", "retry", "decisions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return _none_is_default(value, [])

    def is_empty(self) -> bool:
        return not (self.add or self.cancel or self.retry or self.finish)


@dataclass(frozen=True)
class PlanView:
    """A read-only picture of the run, handed to the planner each round."""

    goal: str
    request: Mapping[str, Any] | None
    tasks: Mapping[str, Task]
    results: Mapping[str, TaskResult]
    round: int
    notes: Mapping[str, Any]
    workers: WorkerRegistry
    context: Context
    feedback: list[str] = field(default_factory=list)
    """Validation errors of this round's previous attempt; empty on the first attempt."""
    usage: list[Usage] = field(default_factory=list)

    def result_of(self, task_id: str) -> TaskResult | None:
        ref = self.tasks[task_id]["result_ref"] if task_id in self.tasks else None
        return self.results.get(ref) if ref else None

    def output_of(self, task_id: str) -> dict[str, Any] | None:
        result = self.result_of(task_id)
        return result["output"] if result and result["ok"] else None


@dataclass(frozen=True)
class PlanOutcome:
    """A planner's answer plus what it cost (token usage, for LLM planners)."""

    update: PlanUpdate
    usage: list[Usage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Why the answer could not be read (e.g. malformed JSON); re-asked like a rejection."""


class Planner(Protocol):
    """Decides, each round, which tasks to add, cancel or retry, and when the run is over."""

    async def plan(self, view: PlanView) -> PlanOutcome: ...


@dataclass(frozen=True)
class SynthesisView:
    """What a synthesizer reads to write the answer."""

    goal: str
    request: Mapping[str, Any] | None
    tasks: Mapping[str, Task]
    results: Mapping[str, TaskResult]
    log: list[LogEntry]
    usage: list[Usage]
    status: Literal["completed", "partial", "failed"]
    reason: str
    context: Context
    notes: Mapping[str, Any]
    verdict: Verdict | None = None
    """The verifier's verdict (the source of `status` and `reason` when the domain has one);
    its `facts` hold what it read from the world, e.g. the run's bookings."""
    claim: Claim | None = None
    """What the planner or a guard claimed before verification, for the record."""


class Synthesizer(Protocol):
    """Turns the finished board into the run's answer."""

    async def synthesize(self, view: SynthesisView) -> tuple[Answer, list[Usage]]: ...
