"""A run's checkpoints as a readable history, and forking a run from one of them.

Shared by the CLI (`orchestrator history`, `orchestrator fork`) and Python callers.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START
from langgraph.types import StateSnapshot
from pydantic import BaseModel, ValidationError

from graph.builder import Graph
from graph.history_saver import delta_channels_of, fast_history
from orchestrator.board import result_key
from state import FINAL_STATUSES, LogEntry


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
    checkpoint_id: str = ""
    """The checkpoint whose state the new thread holds: the one asked for, or, when the request
    changed, the one before the round that planned side effects still waiting there."""
    replanned: list[str] = field(default_factory=list)
    """Side-effecting tasks waiting at the asked-for checkpoint (an approval, or dispatched and
    not yet carried out) that were planned under the old request: the new thread does not hold
    them, its planner plans again under the new request from the checkpoint before them."""
    goal: str = ""
    """The new thread's goal (rewritten when the request changed)."""


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


def side_effect_workers(graph: Graph) -> frozenset[str]:
    """The workers whose tasks change the world: the ones the graph's `approve` node routes to
    (a domain's `side_effects` workers; `build_graph` adds `approve` only when it has some)."""
    builder: Any = getattr(graph, "builder", None)
    branches = (getattr(builder, "branches", None) or {}).get("approve") or {}
    ends = (n for b in branches.values() for n in (getattr(b, "ends", None) or {}).values())
    return frozenset(n for n in ends if n != "orchestrate")


def waiting_side_effects(values: Mapping[str, Any], effectful: frozenset[str]) -> list[str]:
    """The side-effecting tasks planned in `values` and not carried out yet: pending (waiting
    for an approval, or for what they depend on), or dispatched with no result so far. None
    once the run has finished: a finished run carries nothing out."""
    if values.get("status") in FINAL_STATUSES:
        return []
    results = values.get("results") or {}
    return [
        task_id
        for task_id, task in (values.get("tasks") or {}).items()
        if task.get("worker") in effectful
        and (
            task.get("status") == "pending"
            or (
                task.get("status") == "running"
                and result_key(task_id, int(task.get("attempts", 0))) not in results
            )
        )
    ]


async def _before_side_effects(
    graph: Graph, thread_id: str, snapshot: StateSnapshot, effectful: frozenset[str]
) -> StateSnapshot:
    """The newest checkpoint before `snapshot` with no side effect waiting: the state the
    planner read in the round that planned the ones waiting at `snapshot`."""
    before: RunnableConfig = snapshot.config
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    async for earlier in with_fast_history(graph).aget_state_history(config, before=before):
        if earlier.values and not waiting_side_effects(earlier.values, effectful):
            if "orchestrate" in earlier.next and earlier.values.get("goal") is not None:
                return earlier
            break
    raise UnknownCheckpoint(
        f"checkpoint {snapshot.config['configurable']['checkpoint_id']!r} holds side effects "
        "planned under the old request and no earlier checkpoint to re-plan them from: fork "
        "from an earlier one (`orchestrator history " + thread_id + "`)"
    )


def _request_model(graph: Graph) -> type[BaseModel] | None:
    """The domain's request model, when its input schema types `request` as a pydantic model
    with a `goal()` method (travel's `TripRequest`): the goal in words follows from it."""
    schema = getattr(getattr(graph, "builder", None), "input_schema", None)
    try:
        hint = typing.get_type_hints(schema).get("request") if schema is not None else None
    except (NameError, TypeError):  # annotations it cannot resolve: no model to build with
        return None
    for candidate in (hint, *typing.get_args(hint)):
        if (
            isinstance(candidate, type)
            and issubclass(candidate, BaseModel)
            and callable(getattr(candidate, "goal", None))
        ):
            return candidate
    return None


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Each field `new` changes, e.g. `budget 12000 (was 6000)`."""

    def shown(value: Any) -> str:
        return json.dumps(value, default=str)

    return [
        f"{key} {shown(new[key])} (was {shown(old.get(key))})"
        for key in new
        if old.get(key) != new[key]
    ]


def changed_goal(
    goal: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    model: type[BaseModel] | None = None,
) -> str:
    """The goal in words after the request changed from `old` to `new`.

    With a request `model` whose `goal()` wrote (part of) `goal`, that part is written again
    from the new request. Otherwise the goal keeps its words and says what changed, so no
    reader (a person, an LLM planner) takes an old budget in it for the one that holds.
    """
    if model is not None:
        try:
            before = str(model.model_validate(dict(old)).goal())  # type: ignore[attr-defined]
            after = str(model.model_validate(dict(new)).goal())  # type: ignore[attr-defined]
        except ValidationError:
            pass
        else:
            if before and before in goal:
                return goal.replace(before, after, 1)
    changes = _changes(old, new)
    if not changes:
        return goal
    return f"{goal} [request changed when forked: {', '.join(changes)}]"


async def fork(
    graph: Graph,
    thread_id: str,
    checkpoint_id: str,
    new_thread_id: str,
    *,
    request_changes: dict[str, Any] | None = None,
    goal: str | None = None,
) -> Fork:
    """Copies the state at `checkpoint_id` into `new_thread_id`, ready to continue from there.

    The original thread is not touched. `request_changes` (e.g. `{"budget": 3000}`) edits the
    structured request first, which is how a run is re-planned under different constraints:

    - side effects planned under the old request and not carried out at `checkpoint_id` (a
      pending approval, or bookings dispatched there) are never carried out by the new thread:
      it starts from the checkpoint before the round that planned them, so the planner plans
      that round again under the new request (`Fork.checkpoint_id`, `Fork.replanned`);
    - the goal in words follows the new request (`changed_goal`), unless `goal` is given;
    - the log records the change, so decisions made under the old request read as such.
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
    old_request = dict(snapshot.values.get("request") or {})
    new_request = {**old_request, **(request_changes or {})}
    changed = new_request != old_request
    replanned: list[str] = []
    if changed:
        effectful = side_effect_workers(graph)
        replanned = waiting_side_effects(snapshot.values, effectful)
        if replanned:
            snapshot = await _before_side_effects(graph, thread_id, snapshot, effectful)
    values = copy.deepcopy(dict(snapshot.values))
    if changed:
        values["request"] = new_request
        values["goal"] = goal or changed_goal(
            str(values.get("goal") or ""), old_request, new_request, _request_model(graph)
        )
    elif goal:
        values["goal"] = goal
    copied = str(snapshot.config["configurable"]["checkpoint_id"])
    target: RunnableConfig = {"configurable": {"thread_id": new_thread_id}}
    if START in snapshot.next:
        # Forking the input itself: start the new thread from the same (edited) input.
        start = {"goal": values["goal"], "request": values.get("request")}
        return Fork(target, start, copied, replanned, str(values["goal"]))
    if changed:
        what = ", ".join(_changes(old_request, new_request))
        message = f"forked from {thread_id} at checkpoint {checkpoint_id}: request changed: {what}"
        data: dict[str, Any] = {
            "forked_from": {"thread_id": thread_id, "checkpoint_id": checkpoint_id},
            "request_changes": {k: v for k, v in new_request.items() if old_request.get(k) != v},
        }
        if replanned:
            message += (
                f"; {', '.join(replanned)}, planned under the old request and not carried out, "
                f"are planned again under the new one from checkpoint {copied}"
            )
            data.update(replanned=replanned, replanned_from=copied)
        values["log"] = [
            *(values.get("log") or []),
            LogEntry(round=int(values.get("round", 0)), kind="info", message=message, data=data),
        ]
    workers = [
        n
        for n in graph.nodes
        if n not in ("orchestrate", "approve", "synthesize") and not n.startswith("__")
    ]
    written = await graph.aupdate_state(target, values, as_node=_as_node(snapshot, workers))
    return Fork(written, None, copied, replanned, str(values["goal"]))
