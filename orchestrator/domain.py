"""A domain bundles what the generic orchestrator graph needs to do real work.

The graph is the same for every domain: the domain supplies the worker pool, how to build a
planner and a synthesizer for a run's `Context`, and how to describe a batch of side effects to the
person who approves it. A domain with storage of its own (travel's inventory) says how to check
that a thread's records are in it (`check_thread`), and raises `StorageUnavailable` (or a
subclass) when that storage cannot be used: the CLI prints it as one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


class StorageUnavailable(Exception):
    """A domain's own storage (e.g. travel's inventory database) cannot be used, or does not hold
    what a thread recorded. The message names it (never a password) and says what to do."""


class ThreadCheck(Protocol):
    """Raises `StorageUnavailable` when a thread's state (`values`) refers to records that the
    domain's storage in `data_dir` does not hold. `resuming`: the thread is about to continue."""

    def __call__(
        self, thread_id: str, values: Mapping[str, Any], data_dir: str, *, resuming: bool
    ) -> None: ...


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
    check_request: Callable[[Mapping[str, Any] | None, Context], str | None] | None = None
    """Why a run's structured request cannot be planned (an unknown airport, a date outside the
    bookable window), or None: checked once, before a run's first round plans, so a bad
    request from the server or Python ends the run `failed` with that one line and nothing
    done, as the CLI refuses it before starting. Blocking (it may read the domain's storage):
    the orchestrator runs it in a worker thread. None: the planner judges the request."""
    check_thread: ThreadCheck | None = None
    """Checks a thread's records against the domain's own storage before the CLI shows or
    resumes it (blocking: the CLI runs it in a worker thread). Travel's refuses a thread whose
    bookings another inventory holds: a report would list what is not there, a resume would
    book into an inventory that never offered the options. None: nothing to check."""
