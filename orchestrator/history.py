"""A run's checkpoints as a readable history, and forking a run from one of them.

Shared by the CLI (`orchestrator history`, `orchestrator fork`) and Python callers.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START
from langgraph.types import StateSnapshot

from graph.builder import Graph
from graph.history_saver import delta_channels_of, fast_history


@dataclass(frozen=True)
class HistoryEntry:
    """One checkpoint: which node(s) produced it, in which round, and what they decided."""

    checkpoint_id: str
    step: int
    source: str
    ran: list[str]
    """The nodes whose writes this checkpoint holds (empty for the run's input)."""
    next: list[str]
    round: int
    status: str
    dispatched: list[str]
    decisions: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fork:
    """A new thread ready to continue: invoke with `start` (None: carry on from the state)."""

    config: RunnableConfig
    start: dict[str, Any] | None


class UnknownCheckpoint(LookupError):
    """No such checkpoint in the thread."""


def _entry(snapshot: StateSnapshot, ran: list[str]) -> HistoryEntry:
    values = snapshot.values or {}
    round_no = int(values.get("round", 0))
    wrote_plan = "orchestrate" in ran
    decisions = [
        e["message"]
        for e in values.get("log", [])
        if wrote_plan and e["round"] == round_no and e["kind"] in ("decision", "rejected", "guard")
    ] + [
        e["message"]
        for e in values.get("log", [])
        if "approve" in ran and e["round"] == round_no and e["kind"] == "approval"
    ]
    dispatching = any(n not in ("orchestrate", "approve", "synthesize") for n in snapshot.next)
    return HistoryEntry(
        checkpoint_id=str(snapshot.config["configurable"]["checkpoint_id"]),
        step=int(snapshot.metadata.get("step", -1)) if snapshot.metadata else -1,
        source=str(snapshot.metadata.get("source", "")) if snapshot.metadata else "",
        ran=ran,
        next=list(snapshot.next),
        round=round_no,
        status=str(values.get("status", "")),
        dispatched=[p["task_id"] for p in values.get("dispatch", [])] if dispatching else [],
        decisions=decisions,
    )


def with_fast_history(graph: Graph) -> Graph:
    """`graph` reading its checkpoints through `graph.history_saver.fast_history`: its
    `aget_state_history` is then linear in the checkpoints listed, with the same values."""
    saver = graph.checkpointer
    if not isinstance(saver, BaseCheckpointSaver):
        return graph
    return graph.copy(
        update={"checkpointer": fast_history(saver, delta_channels_of(graph.channels))}
    )


async def history(graph: Graph, thread_id: str) -> list[HistoryEntry]:
    """Every checkpoint of the thread, oldest first."""
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    snapshots = [s async for s in with_fast_history(graph).aget_state_history(config)]
    entries: list[HistoryEntry] = []
    previous_next: list[str] = []
    for snapshot in reversed(snapshots):
        ran = sorted(set(previous_next) - {START}) if entries else []
        entries.append(_entry(snapshot, ran))
        previous_next = list(snapshot.next)
    return entries


def _as_node(snapshot: StateSnapshot, worker_names: list[str]) -> str:
    """The node to write the copied state 'as', so the new thread continues where this one was.

    Routing is a pure function of the state: writing as `orchestrate` re-creates its sends (or the
    approval, or the synthesis); writing as a worker leads back to `orchestrate`.
    """
    if "orchestrate" in snapshot.next:
        return worker_names[0]
    return "orchestrate"


async def fork(
    graph: Graph,
    thread_id: str,
    checkpoint_id: str,
    new_thread_id: str,
    *,
    request_changes: dict[str, Any] | None = None,
) -> Fork:
    """Copies the state at `checkpoint_id` into `new_thread_id`, ready to continue from there.

    The original thread is not touched. `request_changes` (e.g. `{"budget": 3000}`) edits the
    structured request first, which is how a run is re-planned under different constraints.
    """
    at: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_id": checkpoint_id}}
    snapshot = await graph.aget_state(at)
    if not snapshot.values or snapshot.config["configurable"].get("checkpoint_id") != checkpoint_id:
        raise UnknownCheckpoint(
            f"no checkpoint {checkpoint_id!r} in thread {thread_id!r}: "
            f"list them with `orchestrator history {thread_id}`"
        )
    if not snapshot.next:
        raise UnknownCheckpoint(
            f"checkpoint {checkpoint_id!r} is the end of the run; fork from an earlier one"
        )
    values = copy.deepcopy(dict(snapshot.values))
    if request_changes:
        values["request"] = {**(values.get("request") or {}), **request_changes}
    target: RunnableConfig = {"configurable": {"thread_id": new_thread_id}}
    if START in snapshot.next:
        # Forking the input itself: start the new thread from the same (edited) input.
        return Fork(target, {"goal": values["goal"], "request": values.get("request")})
    workers = [
        n
        for n in graph.nodes
        if n not in ("orchestrate", "approve", "synthesize") and not n.startswith("__")
    ]
    written = await graph.aupdate_state(target, values, as_node=_as_node(snapshot, workers))
    return Fork(written, None)
