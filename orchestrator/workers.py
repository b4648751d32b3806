"""Worker specs and the registry: what each worker is, what it takes, what it returns.

A worker is an async function from a validated pydantic input to a pydantic output. It knows
nothing of the plan, the board or the other workers; the orchestrator hands it one task at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from orchestrator.context import Context
from state import Budget

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class TaskFailed(Exception):
    """A worker's typed, expected failure (sold out, no results...). Never retried.

    Raise it from a worker to report that the task cannot succeed as asked; the orchestrator sees
    the message and can plan around it. Any other exception is treated as a fault and retried.
    """


@dataclass(frozen=True)
class WorkerCall:
    """What a worker may know about the call besides its inputs."""

    task_id: str
    thread_id: str
    attempt: int
    context: Context
    scope: str = ""
    """The path of delegating tasks above this run ('' at the top, e.g. 'trip-1/' below)."""
    run_id: str = ""
    """Names this run of the thread; a new input on a finished thread starts another run."""
    budget: Budget | None = None
    """For a worker that delegates (`WorkerSpec.delegates`): what its sub-run may spend, its
    share of what the run had left at dispatch. None when called outside a run."""

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and resumes of the same task, and different for any other run,
        thread or task: use it to key side effects. A replay with this key must get the same
        effect; the same key naming a different item is a conflict, never a silent return."""
        run = f"{self.run_id}:" if self.run_id else ""
        return f"{self.thread_id}:{run}{self.scope}{self.task_id}"


@dataclass(frozen=True)
class WorkerSpec(Generic[In, Out]):
    """One kind of worker. The registry turns each spec into one graph node."""

    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    run: Callable[[In, WorkerCall], Awaitable[Out]]
    side_effects: bool = False
    """True when the worker changes the world (books, cancels); such tasks need approval."""
    timeout_s: float = 30.0
    """Wall-clock seconds one attempt may take."""
    max_attempts: int = 3
    """Attempts on unexpected errors before the task becomes a failed result."""
    summarize: Callable[[Out], str] | None = None
    """A compact digest of an output for planners and logs; defaults to a truncated dump."""
    delegates: bool = False
    """True when the worker hands its task to a sub-orchestrator (`delegate_worker`,
    `remote_worker`): it is given a share of the run's budget to hand down (`WorkerCall.budget`)."""

    def summary_of(self, output: Out) -> str:
        if self.summarize is not None:
            return self.summarize(output)
        text = output.model_dump_json()
        return text if len(text) <= 200 else text[:197] + "..."

    def input_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()


@dataclass(frozen=True)
class WorkerRegistry(Mapping[str, WorkerSpec[Any, Any]]):
    """The pool of workers a graph is built with, by name."""

    specs: dict[str, WorkerSpec[Any, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, *specs: WorkerSpec[Any, Any]) -> WorkerRegistry:
        by_name: dict[str, WorkerSpec[Any, Any]] = {}
        for spec in specs:
            if spec.name in by_name:
                raise ValueError(f"two workers are named {spec.name!r}")
            if spec.name in RESERVED_NODE_NAMES:
                raise ValueError(f"{spec.name!r} is reserved for a graph node; rename the worker")
            by_name[spec.name] = spec
        return cls(by_name)

    def __getitem__(self, name: str) -> WorkerSpec[Any, Any]:
        return self.specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def catalogue(self) -> list[dict[str, Any]]:
        """Name, description, side-effect flag and input JSON schema of every worker."""
        return [
            {
                "name": spec.name,
                "description": spec.description,
                "side_effects": spec.side_effects,
                "input_schema": spec.input_schema(),
            }
            for spec in self.specs.values()
        ]


RESERVED_NODE_NAMES = frozenset({"orchestrate", "approve", "synthesize"})
