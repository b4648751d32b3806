"""A saver whose `alist` rebuilds `DeltaChannel` values incrementally: history in linear time.

Why: a checkpoint stores a `DeltaChannel` only as a sentinel (a full `_DeltaSnapshot` now and
then: ours snapshot as the collection doubles), so LangGraph rebuilds the channel at a checkpoint by
walking its ancestors back to the last snapshot and replaying their writes. `aget_state_history`
does that walk for every checkpoint it lists, so listing n checkpoints reads and deserializes
O(n^2) checkpoints and writes: 0.02 s at 14 checkpoints, 2.1 s at 304 (the SQLite saver's own
SQL walk). The `langgraph dev` server is slower still, because its checkpointer adapter does not
forward `aget_delta_channel_history` and walks with one `aget_tuple` per ancestor.

What: `fast_history(saver, delta_channels)` returns the same saver (same class name, connection,
lock and capabilities, so `langgraph dev` logs and treats it exactly as before) except that its
`alist` fills each listed checkpoint's missing delta channels with their value, built from its
parent's value and the parent's writes (through the channel's own `replay_writes`, so Overwrite
and batching behave as in LangGraph's walk). Listing n consecutive checkpoints then costs one
ancestor walk (for the oldest, through the saver's own `aget_delta_channel_history`) plus one
small replay per checkpoint. The values are equal to the walk's, checkpoint by checkpoint
(tests/unit/core/test_history_scale.py); LangGraph finds the channel stored and replays nothing.

Scope: only `alist` changes, and only in the root namespace (a subgraph's channels may differ).
A filled value is a `_DeltaSnapshot`, the blob LangGraph itself stores at snapshot steps, so a
caller that stores a listed checkpoint again (the server's generic thread copy) stores a correct
seed. Each filled value is a fresh top-level container; nested entries (a task, a log entry) are
shared with the neighbouring checkpoints' values, as they are read-only to every caller here.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.channels import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, PendingWrite
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.graph import StateGraph

DeltaSpecs = Mapping[str, DeltaChannel[Any]]
_Key = tuple[str, str]
"""(thread id, checkpoint id) of a root-namespace checkpoint."""

S = TypeVar("S", bound=BaseCheckpointSaver[Any])


def delta_channels_of(channels: Mapping[str, Any]) -> dict[str, DeltaChannel[Any]]:
    """The `DeltaChannel`s among a graph's (or a `StateGraph` builder's) channels."""
    return {k: ch for k, ch in channels.items() if isinstance(ch, DeltaChannel)}


def state_delta_channels(schema: type[Any] | None = None) -> dict[str, DeltaChannel[Any]]:
    """The `DeltaChannel`s of a state schema (`OrchestratorState` by default): every graph this
    project builds (the `orchestrator` and `group_trip` server graphs included) uses it."""
    if schema is None:
        from state import OrchestratorState

        schema = OrchestratorState
    return delta_channels_of(StateGraph(schema).channels)


class _FastHistory(BaseCheckpointSaver[Any]):
    """Mixed in front of a saver's own class; see the module docstring."""

    _delta_specs: dict[str, DeltaChannel[Any]]

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        # Read the whole list first: the saver holds its lock while it lists, and filling the
        # oldest checkpoint may ask it for an ancestor walk.
        listed = [t async for t in super().alist(config, filter=filter, before=before, limit=limit)]
        await _fill(self, self._delta_specs, listed)
        for item in listed:
            yield item


_CLASSES: dict[type[Any], type[Any]] = {}


def fast_history(saver: S, delta_channels: DeltaSpecs | None = None) -> S:
    """`saver`, whose `alist` fills in the delta channels named in `delta_channels` (by default
    `OrchestratorState`'s, which every graph of this project uses).

    The result shares the saver's state (connection, lock, serializer): close the original as
    usual. Its class is a subclass with the same name, so code that inspects the saver's type
    (`langgraph dev`'s capability checks and its "Using custom checkpointer" line) sees no change.
    A saver without a `__dict__` is returned as it is.
    """
    specs = dict(state_delta_channels() if delta_channels is None else delta_channels)
    if not specs or not hasattr(saver, "__dict__"):
        return saver
    base = type(saver)
    if issubclass(base, _FastHistory):
        base = base.__mro__[2]
    cls = _CLASSES.get(base)
    if cls is None:
        cls = type(
            base.__name__,
            (_FastHistory, base),
            {"__module__": base.__module__, "__qualname__": base.__qualname__},
        )
        _CLASSES[base] = cls
    fast: S = object.__new__(cls)
    fast.__dict__.update(saver.__dict__)
    fast._delta_specs = specs  # type: ignore[attr-defined]
    return fast


class _Node:
    """One checkpoint while filling: its tuple, its writes by channel, its values once known."""

    __slots__ = ("key", "parent", "stored", "tup", "values", "writes")

    def __init__(self, tup: CheckpointTuple, specs: DeltaSpecs) -> None:
        conf = tup.config["configurable"]
        thread = str(conf["thread_id"])
        self.tup = tup
        self.key: _Key = (thread, str(conf["checkpoint_id"]))
        parent_id = (tup.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        self.parent: _Key | None = (thread, str(parent_id)) if parent_id else None
        stored = tup.checkpoint["channel_values"]
        self.stored = {ch: stored[ch] for ch in specs if ch in stored}
        self.writes: dict[str, list[PendingWrite]] = {}
        for write in tup.pending_writes or ():
            if write[1] in specs:
                self.writes.setdefault(write[1], []).append(write)
        self.values: dict[str, Any] = {}

    def missing(self, specs: DeltaSpecs) -> list[str]:
        """Channels LangGraph would rebuild by a walk: written so far, nothing stored here."""
        versions = self.tup.checkpoint["channel_versions"]
        return [ch for ch in specs if ch in versions and ch not in self.stored]


def _seeded(spec: DeltaChannel[Any], seed: Any, writes: Sequence[PendingWrite]) -> Any:
    """The channel's value from `seed` (a stored blob, or a value) and the writes after it,
    exactly as LangGraph's `_replay` builds it."""
    channel = spec.from_checkpoint(seed)
    channel.replay_writes(writes)
    return channel.value


async def _fill(
    saver: BaseCheckpointSaver[Any], specs: DeltaSpecs, listed: Iterable[CheckpointTuple]
) -> None:
    nodes: dict[_Key, _Node] = {}
    for tup in listed:
        if tup.config["configurable"].get("checkpoint_ns", "") == "":
            node = _Node(tup, specs)
            nodes[node.key] = node
    # Oldest first (alist lists newest first), so a parent's values are usually known already.
    for node in reversed(list(nodes.values())):
        need = node.missing(specs)
        if not need:
            continue
        values = await _values_at(saver, specs, nodes, node, need)
        channel_values = node.tup.checkpoint["channel_values"]
        for ch in need:
            channel_values[ch] = _DeltaSnapshot(copy.copy(values[ch]))


async def _values_at(
    saver: BaseCheckpointSaver[Any],
    specs: DeltaSpecs,
    nodes: Mapping[_Key, _Node],
    node: _Node,
    channels: Sequence[str],
) -> dict[str, Any]:
    """The values of `channels` at `node`, from the nearest listed ancestor that knows them."""

    def known(n: _Node) -> bool:
        return all(ch in n.values or ch in n.stored for ch in channels)

    chain = [node]
    seen = {node.key}
    while not known(chain[-1]):
        parent_key = chain[-1].parent
        parent = nodes.get(parent_key) if parent_key else None
        if parent is None or parent.key in seen:
            break
        seen.add(parent.key)
        chain.append(parent)

    top = chain[-1]
    unknown = [ch for ch in channels if ch not in top.values and ch not in top.stored]
    for ch in channels:
        if ch in top.stored and ch not in top.values:
            top.values[ch] = _seeded(specs[ch], top.stored[ch], ())
    if unknown:
        if top.parent is None:
            for ch in unknown:
                top.values[ch] = _seeded(specs[ch], None, ())
        else:
            # The saver's own ancestor walk, once, for the oldest checkpoint of the chain.
            histories = await saver.aget_delta_channel_history(
                config=top.tup.config, channels=unknown
            )
            for ch in unknown:
                history = histories.get(ch) or {"writes": []}
                top.values[ch] = _seeded(specs[ch], history.get("seed"), history["writes"])

    for parent, child in zip(reversed(chain), reversed(chain[:-1]), strict=False):
        for ch in channels:
            if ch in child.values:
                continue
            if ch in child.stored:
                child.values[ch] = _seeded(specs[ch], child.stored[ch], ())
            else:
                child.values[ch] = _seeded(
                    specs[ch], _DeltaSnapshot(parent.values[ch]), parent.writes.get(ch, ())
                )
    return {ch: node.values[ch] for ch in channels}
