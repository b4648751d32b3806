"""Driving a run to its end or to a pause: streaming progress, answering approval interrupts.

The CLI, the notebooks and the tests share this loop so that they behave the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from graph.builder import Graph
from orchestrator.context import Context

EventSink = Callable[[dict[str, Any]], None]
Approver = Callable[[dict[str, Any]], Awaitable[Any]]
"""Answers one approval question with a resume value, or None: no answer, the run stays paused."""


@dataclass
class RunOutcome:
    """Where a run stands after `drive`: finished (with its values) or paused for approval."""

    values: dict[str, Any]
    paused: list[dict[str, Any]]

    @property
    def finished(self) -> bool:
        return not self.paused


def run_config(thread_id: str, context: Context) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}, "max_concurrency": context.max_parallel}


async def drive(
    graph: Graph,
    start: dict[str, Any] | Command[Any] | None,
    *,
    config: RunnableConfig,
    context: Context,
    on_event: EventSink | None = None,
    approver: Approver | None = None,
) -> RunOutcome:
    """Runs until the graph ends, or pauses and no `approver` is there to answer.

    An approver that returns None (nobody answered: end of input, Ctrl-C) leaves the run paused
    as it is; answers it gave to other questions of the same pause are not sent either.
    """
    step: Any = start  # an InputState, a resume Command, or None to continue
    while True:
        async for event in graph.astream(
            step, config, context=context, stream_mode="custom", subgraphs=True
        ):
            _namespace, payload = event
            if on_event is not None and isinstance(payload, dict):
                on_event(payload)
        snapshot = await graph.aget_state(config)
        paused = [{"id": i.id, "value": i.value} for i in snapshot.interrupts]
        if not paused or approver is None:
            return RunOutcome(values=dict(snapshot.values), paused=paused)
        answers: dict[str, Any] = {}
        for question in paused:
            answer = await approver(question["value"])
            if answer is None:
                return RunOutcome(values=dict(snapshot.values), paused=paused)
            answers[question["id"]] = answer
        step = Command(resume=answers)
