"""The `lanes` node: planned tasks that wait for one another, run without a superstep barrier.

LangGraph ends every superstep at a barrier: a task that waits for another one starts at the
next superstep, after the slowest task of this one, even when what it waits for finished long
before. When the board already holds tasks that wait for the tasks being dispatched, the
orchestrator sends each connected group of them (a *lane*: a chain, or a small DAG with joins)
to this node in one `Send`. The node starts every task of the lane as a LangGraph functional-API
task (`langgraph.func.task`, one per worker kind) and each one begins as soon as the tasks it
waits for have succeeded. What the board promises still holds:

- **Each task is checkpointed as it finishes**: a functional task's return value is saved as a
  pending write of the step the moment it returns. After a crash the node runs again, and every
  task that had finished returns its saved result without running; only unfinished tasks run.
  The tasks are always started in the same order (the lane's board order, all at once, each
  waiting inside its own body), so each gets the same task id on the resumed run: a functional
  task's id is its position among the node's calls, not its arguments.
- **Retries, timeouts and slots** are the worker node's: the same body (`nodes.work.run_task`),
  the same `RetryPolicy` and `TimeoutPolicy` (heartbeats while a task waits for its
  predecessors, so waiting is not held against it), the same `Context.max_parallel` slots.
- **Events**: `task_dispatched` when a waiting task starts, `task_done` / `task_failed` when it
  ends, as for any task.
- **Failures and the deadline**: a task whose predecessor failed does not run, nor one whose
  predecessors end after the run's deadline (`Context.deadline_s`); the orchestrator puts it
  back to pending (`orchestrator.board.fold_results`), and the planner and the guards decide
  as before.
- **Side effects** never run in a lane: they wait for an approval, which is the orchestrator's.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.errors import GraphBubbleUp
from langgraph.func import task
from langgraph.runtime import Runtime, get_runtime

from nodes.work import (
    RetriesExhausted,
    _result,
    describe_error,
    is_retryable,
    retry_policy,
    run_task,
    timeout_policy,
)
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.events import emit
from orchestrator.refs import resolve_in_lane
from state import LanePayload, WorkerPayload

LANES = "lanes"
"""The node's name in the graph."""

SKIPPED: dict[str, Any] = {"skipped": True}
"""A lane step's return value when a task it waits for did not succeed: it did not run."""

HEARTBEAT_S = 1.0


class _Lane:
    """One running lane in this process: which of its tasks have ended, and how."""

    def __init__(self, ids: list[str]) -> None:
        self.ended = {task_id: asyncio.Event() for task_id in ids}
        self.ok: dict[str, bool] = {}
        self.outputs: dict[str, dict[str, Any] | None] = {}
        """What each succeeded, for the references of the tasks after it (`orchestrator.refs`)."""

    def end(self, task_id: str, ok: bool, output: dict[str, Any] | None = None) -> None:
        self.ok[task_id] = ok
        self.outputs[task_id] = output
        self.ended[task_id].set()


_running: dict[str, _Lane] = {}
"""Lanes of this process by key. A lane step finds its lane here: only plain values cross
LangGraph's task boundary."""


async def _wait_for(lane: _Lane, ids: list[str], heartbeat: Callable[[], None]) -> bool:
    """Waits until the tasks `ids` have ended; True when all of them succeeded."""
    for task_id in ids:
        event = lane.ended[task_id]
        while not event.is_set():
            try:
                await asyncio.wait_for(event.wait(), timeout=HEARTBEAT_S)
            except TimeoutError:
                heartbeat()  # waiting for a predecessor, not stuck
        if not lane.ok.get(task_id, False):
            return False
    heartbeat()
    return True


def _step_for(domain: Domain, worker: str) -> Any:
    spec = domain.workers[worker]

    async def step(payload: WorkerPayload, lane_key: str) -> dict[str, Any]:
        runtime: Runtime[Context] = get_runtime(Context)
        after = payload.get("after") or []
        if after:
            lane = _running.get(lane_key)
            if lane is None or not await _wait_for(lane, after, runtime.heartbeat):
                return SKIPPED
            if time.time() > payload.get("not_after", float("inf")):
                return SKIPPED  # the run's deadline passed while it waited
            if runtime.execution_info is None or runtime.execution_info.node_attempt == 1:
                emit(
                    get_stream_writer(),
                    "task_dispatched",
                    round=payload.get("round"),
                    task_id=payload["task_id"],
                    worker=payload["worker"],
                )
            payload = resolve_in_lane(payload, lane.outputs)
        try:
            return await run_task(spec, payload, runtime)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            if is_retryable(exc) and not isinstance(exc, RetriesExhausted):
                raise  # the step's RetryPolicy tries again
            # What the worker node's error handler does once retries are spent.
            message = describe_error(exc)
            return _result(payload, ok=False, started=time.time(), error=message, summary=message)

    step.__name__ = worker
    wrap: Any = task(name=worker, retry_policy=retry_policy(spec), timeout=timeout_policy(spec))
    return wrap(step)


class LanesNode:
    """The node's callable (see the module docstring)."""

    def __init__(self, domain: Domain) -> None:
        self.steps = {
            name: _step_for(domain, name)
            for name, spec in domain.workers.items()
            if not spec.side_effects
        }

    async def __call__(self, lane: LanePayload) -> dict[str, Any]:
        payloads = lane["lane"]
        key = uuid.uuid4().hex
        running = _running[key] = _Lane([p["task_id"] for p in payloads])
        try:
            # All started now, in the lane's order: that order is what names each step's
            # saved result for a resumed run.
            futures = [self.steps[p["worker"]](p, key) for p in payloads]
            results: dict[str, Any] = {}
            usage: list[Any] = []

            async def settle(payload: WorkerPayload, future: Any) -> None:
                task_id = payload["task_id"]
                try:
                    out = await future
                except GraphBubbleUp:
                    running.end(task_id, False)
                    raise
                except Exception as exc:  # a step failed past its own handling
                    message = describe_error(exc)
                    out = _result(
                        payload, ok=False, started=time.time(), error=message, summary=message
                    )
                written = out.get("results") or {}
                ok = [r for r in written.values() if r["ok"]]
                running.end(task_id, bool(ok), ok[0]["output"] if ok else None)
                results.update(written)
                usage.extend(out.get("usage") or [])

            await asyncio.gather(*(settle(p, f) for p, f in zip(payloads, futures, strict=True)))
        finally:
            del _running[key]
        return {"results": results, "usage": usage} if usage else {"results": results}


def make_lanes(domain: Domain) -> LanesNode:
    return LanesNode(domain)
