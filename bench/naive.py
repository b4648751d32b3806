"""The naive design B3 compares against: the same graph with plain reducer channels.

`build_naive_graph` compiles our graph with `build_graph` and swaps each `DeltaChannel` for the
textbook reducer on the same type: `operator.add` on the lists (log, usage) and `operator.or_`
on the keyed maps (tasks, results). Same nodes, same routing, same values in memory; only the
channels differ. A plain reducer channel is stored whole in every checkpoint of a step that
wrote to it, which is what makes storage grow quadratically (DESIGN.md).
"""

from __future__ import annotations

import operator
from typing import Any

from langgraph.channels import DeltaChannel
from langgraph.channels.binop import BinaryOperatorAggregate
from langgraph.checkpoint.base import BaseCheckpointSaver

from graph.builder import Graph, build_graph
from orchestrator.domain import Domain


def build_naive_graph(domain: Domain, *, checkpointer: BaseCheckpointSaver[Any] | None) -> Graph:
    graph = build_graph(domain, checkpointer=checkpointer, name="naive-orchestrator")
    swapped = []
    for name, channel in list(graph.channels.items()):
        if not isinstance(channel, DeltaChannel):
            continue
        typ = channel.typ
        reducer: Any = operator.add if typ is list else operator.or_
        naive: BinaryOperatorAggregate[Any] = BinaryOperatorAggregate(typ, reducer)
        naive.key = name
        graph.channels[name] = naive
        swapped.append(name)
    assert swapped, "no DeltaChannel left to swap: the naive design would equal ours"
    return graph


def swapped_channels(graph: Graph) -> list[str]:
    """The state keys held in plain reducer channels (for the report)."""
    return sorted(k for k, c in graph.channels.items() if isinstance(c, BinaryOperatorAggregate))
