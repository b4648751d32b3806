"""A domain bundles what the generic orchestrator graph needs to do real work.

The graph is the same for every domain: the domain supplies the worker pool, how to build a
planner and a synthesizer for a run's `Context`, and how to describe a batch of side effects to the
person who approves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.context import Context
from orchestrator.planning import Planner, Synthesizer
from orchestrator.verification import Verifier
from orchestrator.workers import WorkerRegistry
from state import InputState, Task, TaskResult


def describe_tasks_plainly(
    batch: Sequence[Task], results: Mapping[str, TaskResult], request: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Default approval view: each task's worker and inputs."""
    return {
        "items": [{"task_id": t["id"], "worker": t["worker"], "inputs": t["inputs"]} for t in batch]
    }


@dataclass(frozen=True)
class Domain:
    """Workers, planner and synthesizer for one kind of goal."""

    name: str
    description: str
    workers: WorkerRegistry
    planner: Callable[[Context], Planner]
    synthesizer: Callable[[Context], Synthesizer]
    describe_approval: Callable[
        [Sequence[Task], Mapping[str, TaskResult], Mapping[str, Any] | None], dict[str, Any]
    ] = describe_tasks_plainly
    verifier: Callable[[Context], Verifier] | None = None
    """The domain's acceptance check. When set, it alone decides `completed`: a planner's
    `completed` that it refuses is re-asked, and its verdict is the run's final status and
    reason. Without one, the planner's (or a guard's) verdict stands."""
    input_schema: type[Any] = InputState
    """The graph's input schema: a TypedDict with `InputState`'s keys whose `request` describes
    this domain's structured request. Only its JSON schema differs (Studio's input form); values
    still arrive as plain JSON and the planner validates them."""
