"""Assembles the orchestrator-worker graph for a domain and compiles it.

The engine imports no domain: the caller passes one (the server's entrypoints, which live in
`domains/`; the CLI, through `$ORCHESTRATOR_DOMAINS`; your own code).
"""

from __future__ import annotations

import gc
import os
from typing import Any, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from graph.routing import route_after_approve, route_after_orchestrate
from nodes.approve import make_approve
from nodes.lanes import LANES, make_lanes
from nodes.orchestrate import make_orchestrate
from nodes.synthesize import make_synthesize
from nodes.work import make_error_handler, make_worker_node, retry_policy, timeout_policy
from orchestrator.context import Context
from orchestrator.domain import Domain
from state import InputState, OrchestratorState, OutputState

Graph = CompiledStateGraph[OrchestratorState, Context, InputState, OutputState]

GC_GEN0_THRESHOLD = 20_000
"""Allocations between young collections (CPython's default is 700). A round with 1,000 tasks
allocates hundreds of thousands of short-lived objects; at 700 the collector ran thousands of
times per round, and each pass that reached the old generation walked the whole board (bench B5
measured 42% to 48% of wall time in the collector at 1,000 tasks per step)."""

GC_ENV = "ORCHESTRATOR_GC_TUNING"
"""Set to `0` to leave the collector as the process has it (bench B5 compares both)."""

_gc_tuned = False


def tune_gc() -> bool:
    """Once per process: freeze what is alive (imports, compiled graphs) and space out young
    collections. Returns whether it did anything now.

    `gc.freeze()` moves every object alive now into a permanent generation the collector never
    walks again: LangGraph, pydantic, langchain and the compiled graph are tens of thousands of
    long-lived container objects that every full collection would otherwise traverse. Called by
    `build_graph`; a process that wants its own collector settings sets `ORCHESTRATOR_GC_TUNING=0`.
    """
    global _gc_tuned
    if _gc_tuned or os.environ.get(GC_ENV, "1") == "0":
        return False
    _gc_tuned = True
    # No `gc.collect()` first: on this heap it costs 0.1 to 0.2 s, which every CLI command would
    # pay; what import-time garbage gets frozen with the rest is small and bounded.
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0:  # 0 means the process disabled automatic collection: leave it so
        gc.set_threshold(max(gen0, GC_GEN0_THRESHOLD), gen1, gen2)
    return True


def build_graph(
    domain: Domain,
    *,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    name: str | None = None,
    context_schema: type[Context] = Context,
) -> Graph:
    """The orchestrator graph for `domain`, e.g. `build_graph(travel_domain())`.

    START -> orchestrate -(Send per ready task)-> <worker> -> orchestrate ... -> synthesize -> END,
    with an `approve` node in front of side-effecting workers when the domain has any.
    `context_schema=ServerContext` is for the server's graphs: a run's context then takes the
    deployment settings from the environment whatever the caller sent.
    """
    builder = StateGraph(
        OrchestratorState,
        context_schema=context_schema,
        input_schema=domain.input_schema,
        output_schema=OutputState,
    )
    builder.add_node("orchestrate", make_orchestrate(domain))
    builder.add_node("synthesize", make_synthesize(domain))
    for spec in domain.workers.values():
        # The stubs cannot match a node whose input (a Send payload) differs from the state.
        builder.add_node(  # type: ignore[call-overload]
            spec.name,
            make_worker_node(spec),
            # A worker is only ever reached by `Send`, whose payload (a `WorkerPayload`) bypasses
            # the channels. Naming WorkerPayload here would add its keys as four channels that
            # are never written, yet copied and versioned every superstep (bench B1).
            input_schema=OrchestratorState,
            retry_policy=retry_policy(spec),
            timeout=timeout_policy(spec),
            # LangGraph injects `NodeError` by annotation; its stubs only know state-only handlers.
            error_handler=cast(Any, make_error_handler(spec)),
        )
        builder.add_edge(spec.name, "orchestrate")

    after_orchestrate = [*domain.workers, "synthesize"]
    if any(not s.side_effects for s in domain.workers.values()):
        # Tasks planned after others run in lanes, without a barrier between them.
        # Reached only by `Send` (a `LanePayload`): the state schema adds no channels.
        builder.add_node(LANES, make_lanes(domain), input_schema=OrchestratorState)  # type: ignore[call-overload]
        builder.add_edge(LANES, "orchestrate")
        after_orchestrate.append(LANES)
    effectful = [s.name for s in domain.workers.values() if s.side_effects]
    if effectful:
        builder.add_node("approve", make_approve(domain))
        builder.add_conditional_edges("approve", route_after_approve, [*effectful, "orchestrate"])
        after_orchestrate.append("approve")
    builder.add_edge(START, "orchestrate")
    builder.add_conditional_edges("orchestrate", route_after_orchestrate, after_orchestrate)
    builder.add_edge("synthesize", END)
    compiled = builder.compile(
        checkpointer=checkpointer, store=store, name=name or f"{domain.name}-orchestrator"
    )
    tune_gc()
    return compiled
