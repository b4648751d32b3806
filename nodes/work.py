"""Worker nodes: one per worker kind, each built from its `WorkerSpec`.

A worker node receives a `WorkerPayload` (its task, nothing else), validates the inputs, runs the
worker and writes one `TaskResult`, with the `Usage` of every model call the attempt made
(`orchestrator.metering`). `TaskFailed` becomes a failed result at once; any other error
is retried by the node's `RetryPolicy`, and when retries are spent the node's error handler turns
it into a failed result. The run never crashes because a worker did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from langgraph.config import get_stream_writer
from langgraph.errors import GraphBubbleUp, NodeError, NodeTimeoutError
from langgraph.runtime import Runtime
from langgraph.types import Command, RetryPolicy, TimeoutPolicy
from pydantic import ValidationError

from orchestrator.board import result_key
from orchestrator.context import Context
from orchestrator.deadlines import deadline
from orchestrator.events import annotate_trace, emit
from orchestrator.loop_local import loop_local
from orchestrator.metering import Meter, collect, metering, stash
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec
from state import TaskResult, Usage, WorkerPayload


class WorkerNode(Protocol):
    async def __call__(
        self, payload: WorkerPayload, *, runtime: Runtime[Context]
    ) -> dict[str, Any]: ...


class ErrorHandler(Protocol):
    async def __call__(
        self, payload: WorkerPayload, error: NodeError
    ) -> Command[Literal["orchestrate"]]: ...


ATTEMPTS_CEILING = 10
"""The compile-time RetryPolicy's bound; `Context.worker_attempts` chooses a limit up to it."""


BACKSTOP_FACTOR = 4
"""The node's TimeoutPolicy is a backstop at this multiple of the worker's own timeout; the
attempt itself is bounded inside the node, so it counts against the run's attempt limit."""


class WorkerTimeout(Exception):
    """An attempt ran past its timeout; retried like any other fault."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g}s")
        self.seconds = seconds


class RetriesExhausted(Exception):
    """The run's attempt limit was reached: stop retrying and report the last error."""

    def __init__(self, attempts: int, error: Exception) -> None:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"{describe_error(error)} (after {tries})")
        self.attempts = attempts
        self.error = error


def _result(
    payload: WorkerPayload,
    *,
    ok: bool,
    started: float,
    usage: Sequence[Usage] = (),
    **fields: Any,
) -> dict[str, Any]:
    """The node's write for one attempt, announced on the custom stream as it happens. With the
    attempt's model usage: `usage`, plus what its earlier tries left (`orchestrator.metering`)."""
    result = TaskResult(
        task_id=payload["task_id"],
        worker=payload["worker"],
        ok=ok,
        output=fields.get("output"),
        error=fields.get("error"),
        summary=fields.get("summary", ""),
        attempt=payload["attempt"],
        started_at=started,
        ended_at=time.time(),
    )
    if payload.get("resolved"):
        result["inputs"] = payload["inputs"]
    emit(
        get_stream_writer(),
        "task_done" if ok else "task_failed",
        task_id=result["task_id"],
        worker=result["worker"],
        attempt=result["attempt"],
        seconds=round(result["ended_at"] - started, 3),
        summary=result["summary"],
    )
    key = result_key(payload["task_id"], payload["attempt"])
    write: dict[str, Any] = {"results": {key: result}}
    spent = [*collect(payload), *usage]
    if spent:
        write["usage"] = spent
    return write


def is_retryable(exc: Exception) -> bool:
    """Faults are retried; a worker's own verdict (`TaskFailed`) and bad inputs are not."""
    return not isinstance(exc, TaskFailed | ValidationError | RetriesExhausted | GraphBubbleUp)


def retry_policy(spec: WorkerSpec[Any, Any]) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max(spec.max_attempts, ATTEMPTS_CEILING),
        initial_interval=0.2,
        backoff_factor=2.0,
        max_interval=5.0,
        retry_on=is_retryable,
    )


def timeout_policy(spec: WorkerSpec[Any, Any]) -> TimeoutPolicy:
    # Idle, refreshed by heartbeats: time spent queued for a slot (heartbeating) is not held
    # against the task; the attempt itself is bounded inside the node.
    return TimeoutPolicy(idle_timeout=spec.timeout_s * BACKSTOP_FACTOR, refresh_on="heartbeat")


class _RunSlots:
    """One run's worker slots in this process, and how many tasks hold or wait for one."""

    __slots__ = ("semaphore", "users")

    def __init__(self, limit: int) -> None:
        self.semaphore = asyncio.Semaphore(limit)
        self.users = 0


KEEP_IDLE_SLOTS = 256
"""Idle runs' slots kept per event loop. Creating them anew for every task (as a weak cache
did, since nothing holds them between supersteps) cost about 0.015x of a B1 round."""

LOOP_ATTRIBUTE = "_orchestrator_run_slots"


def _new_cache(_loop: asyncio.AbstractEventLoop) -> dict[tuple[str, str, int], _RunSlots]:
    return {}


def _run_slots(thread_id: str, scope: str, limit: int) -> _RunSlots:
    """The run's worker slots (`Context.max_parallel`), shared by its tasks in this process.

    Keyed by scope too: a delegated sub-run gets its own slots, so a parent task holding a slot
    while it waits for its sub-run can never starve that sub-run's workers.
    """
    of_loop = loop_local(LOOP_ATTRIBUTE, _new_cache)
    key = (thread_id, scope, limit)
    slots = of_loop.get(key)
    if slots is None:
        if len(of_loop) >= KEEP_IDLE_SLOTS:
            for idle in [k for k, s in of_loop.items() if not s.users]:
                del of_loop[idle]
        slots = of_loop[key] = _RunSlots(limit)
    return slots


async def _take_slot(slots: _RunSlots, heartbeat: Callable[[], None]) -> None:
    """Waits for one of the run's slots; `_give_slot` hands it back.

    A plain coroutine, not a context manager: a free slot is the common case, and it is taken
    without a timer task or a generator frame (bench B1 counts every microsecond per task).
    """
    slots.users += 1
    semaphore = slots.semaphore
    try:
        if not semaphore.locked():
            await semaphore.acquire()
            return
        while True:
            try:
                await asyncio.wait_for(semaphore.acquire(), timeout=1.0)
                break
            except TimeoutError:
                heartbeat()  # still queued, not stuck
        heartbeat()
    except BaseException:
        slots.users -= 1  # cancelled while queued: it never got the slot
        raise


def _give_slot(slots: _RunSlots) -> None:
    slots.semaphore.release()
    slots.users -= 1


def make_worker_node(spec: WorkerSpec[Any, Any]) -> WorkerNode:
    async def work(payload: WorkerPayload, *, runtime: Runtime[Context]) -> dict[str, Any]:
        return await run_task(spec, payload, runtime)

    work.__name__ = spec.name
    return work


async def run_task(
    spec: WorkerSpec[Any, Any], payload: WorkerPayload, runtime: Runtime[Context]
) -> dict[str, Any]:
    """One attempt of one task: a worker node's body, and a lane step's (`nodes.lanes`)."""
    ctx = runtime.context or Context()
    started = time.time()
    thread_id = (runtime.execution_info.thread_id if runtime.execution_info else None) or ""
    annotate_trace(
        thread_id=thread_id or None,
        task_id=payload["task_id"],
        worker=payload["worker"],
        round=payload.get("round"),
        attempt=payload["attempt"],
    )
    attempt = runtime.execution_info.node_attempt if runtime.execution_info else 1
    limit = min(ctx.worker_attempts or spec.max_attempts, ATTEMPTS_CEILING)
    if attempt > limit:
        # Only reachable when the hard TimeoutPolicy (outside this body) ended the last try.
        message = f"gave up after {limit} attempt(s): the worker ran past its hard time limit"
        return _result(payload, ok=False, started=started, error=message, summary=message)
    if (unresolved := payload.get("ref_error")) is not None:
        # An input refers to an output that is not there (`orchestrator.refs`): the plan's
        # mistake, reported to the planner without calling the worker.
        return _result(payload, ok=False, started=started, error=unresolved, summary=unresolved)
    inputs = spec.input_model.model_validate(payload["inputs"])
    call = WorkerCall(
        task_id=payload["task_id"],
        thread_id=thread_id,
        attempt=payload["attempt"],
        context=ctx,
        scope=payload.get("scope", ""),
        run_id=payload.get("run_id", ""),
        budget=payload.get("budget"),
    )
    slots = _run_slots(thread_id, call.scope, ctx.max_parallel)
    await _take_slot(slots, runtime.heartbeat)
    meter = Meter()  # every model call of the attempt, attributed to the task
    try:
        with metering(meter):
            output = await _attempt(spec, inputs, call, ctx)
    except TaskFailed as exc:
        return _result(
            payload,
            ok=False,
            started=started,
            error=str(exc),
            summary=str(exc),
            usage=meter.usage(payload),
        )
    except BaseException as exc:
        # A fault to retry, a timeout, a pause (an interrupt from a nested orchestrator is control
        # flow, not a failure): this try writes nothing, so its usage waits for the attempt's write.
        stash(payload, meter.usage(payload))
        if isinstance(exc, Exception) and is_retryable(exc) and attempt >= limit:
            raise RetriesExhausted(attempt, exc) from exc
        raise
    finally:
        _give_slot(slots)
    if not isinstance(output, spec.output_model):
        output = spec.output_model.model_validate(output)
    return _result(
        payload,
        ok=True,
        started=started,
        output=output.model_dump(mode="json"),
        summary=spec.summary_of(output),
        usage=meter.usage(payload),
    )


async def _attempt(spec: WorkerSpec[Any, Any], inputs: Any, call: WorkerCall, ctx: Context) -> Any:
    """One attempt, bounded by `Context.worker_timeout_s`, else by the worker's own timeout."""
    seconds = ctx.worker_timeout_s or spec.timeout_s
    try:
        async with deadline(seconds):
            return await spec.run(inputs, call)
    except TimeoutError as exc:
        raise WorkerTimeout(seconds) from exc


def describe_error(error: BaseException) -> str:
    if isinstance(error, RetriesExhausted | WorkerTimeout):
        return str(error)
    if isinstance(error, NodeTimeoutError):
        return f"timed out after {error.timeout:g}s"
    if isinstance(error, ValidationError):
        return f"invalid inputs: {error.errors()[0]['msg']}"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def make_error_handler(spec: WorkerSpec[Any, Any]) -> ErrorHandler:
    """Turns an error that outlived the retries into a failed result the planner can see."""

    async def on_worker_error(
        payload: WorkerPayload, error: NodeError
    ) -> Command[Literal["orchestrate"]]:
        message = describe_error(error.error)
        if isinstance(error.error, NodeTimeoutError):
            message += " (the node's hard limit; the worker ignored its own timeout)"
        # The handler node has no edges of its own: without the goto, a superstep in which every
        # task failed would end the run right here, before the orchestrator saw the failures.
        return Command(
            update=_result(payload, ok=False, started=time.time(), error=message, summary=message),
            goto="orchestrate",
        )

    return on_worker_error
