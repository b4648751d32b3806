"""Small builders shared by the core tests: tasks, plan updates, runs and their traces."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver

from domains.synthetic import SLEEP, PlanStep, ScriptedPlanner, SyntheticDomain, synthetic_domain
from graph.builder import Graph, build_graph
from orchestrator.context import Context
from orchestrator.planning import Finish, NewTask, PlanUpdate, PlanView
from state import FinalStatus, LogEntry


def sleep(task_id: str, ms: int = 0, *, deps: Sequence[str] = (), **inputs: Any) -> NewTask:
    """A sleep task; extra keyword arguments become worker inputs (fail, crash_times, payload)."""
    return NewTask(id=task_id, worker=SLEEP, inputs={"ms": ms, **inputs}, depends_on=list(deps))


def task(task_id: str, worker: str, deps: Sequence[str] = (), **inputs: Any) -> NewTask:
    return NewTask(id=task_id, worker=worker, inputs=dict(inputs), depends_on=list(deps))


def add(*tasks: NewTask, **fields: Any) -> PlanUpdate:
    return PlanUpdate(add=list(tasks), **fields)


def finish(status: FinalStatus = "completed", reason: str = "done") -> PlanUpdate:
    return PlanUpdate(finish=Finish(status=status, reason=reason))


NOTHING = PlanUpdate()
"""An empty update: with nothing left to run, the orchestrator settles the run by itself."""


@dataclass
class Harness:
    """A synthetic domain, its scripted planner and the compiled graph, ready to run."""

    domain: SyntheticDomain
    planner: ScriptedPlanner
    graph: Graph
    config: RunnableConfig = field(default_factory=RunnableConfig)

    @property
    def calls(self) -> dict[str, int]:
        return self.domain.call_log.counts()

    async def run(
        self,
        goal: str = "test goal",
        context: Context | None = None,
        config: RunnableConfig | None = None,
        **kw: Any,
    ) -> Any:
        """Invokes the graph on `goal` in this harness's thread (if it has a checkpointer)."""
        merged: RunnableConfig = {**self.config, **(config or {})}
        return await self.graph.ainvoke(
            {"goal": goal}, merged or None, context=context or Context(), **kw
        )

    async def values(self) -> dict[str, Any]:
        return dict((await self.graph.aget_state(self.config)).values)


def harness(
    script: Callable[[PlanView], PlanStep] | Sequence[PlanStep],
    *,
    then: PlanStep | None = NOTHING,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    thread_id: str = "thread-1",
    **domain_options: Any,
) -> Harness:
    """A graph over a synthetic domain whose planner follows `script`, then answers `then`."""
    planner = ScriptedPlanner(script, then=then)
    domain = synthetic_domain(planner, **domain_options)
    graph = build_graph(domain, checkpointer=checkpointer)
    config = (
        RunnableConfig(configurable={"thread_id": thread_id})
        if checkpointer is not None
        else RunnableConfig()
    )
    return Harness(domain=domain, planner=planner, graph=graph, config=config)


def log_of(values: dict[str, Any], kind: str) -> list[LogEntry]:
    return [entry for entry in values.get("log") or [] if entry["kind"] == kind]


def sqlite_bytes(path: str, thread_id: str | None = None) -> int:
    """Bytes of checkpoint blobs plus pending-write blobs stored for a thread (or all threads)."""
    where, args = ("WHERE thread_id = ?", (thread_id,)) if thread_id else ("", ())
    with closing(sqlite3.connect(path)) as conn:
        checkpoints = conn.execute(
            "SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints "
            + where,
            args,
        ).fetchone()[0]
        writes = conn.execute(
            "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes " + where, args
        ).fetchone()[0]
    return int(checkpoints) + int(writes)


def sqlite_rows(path: str, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read-only query, on a connection that is closed before returning."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, tuple(args)).fetchall()
