"""Assembles the orchestrator-worker graph for a domain and compiles it."""

from __future__ import annotations

from typing import Any, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from graph.routing import route_after_approve, route_after_orchestrate
from nodes.approve import make_approve
from nodes.orchestrate import make_orchestrate
from nodes.synthesize import make_synthesize
from nodes.work import make_error_handler, make_worker_node, retry_policy, timeout_policy
from orchestrator.context import Context
from orchestrator.domain import Domain
from state import InputState, OrchestratorState, OutputState

Graph = CompiledStateGraph[OrchestratorState, Context, InputState, OutputState]


def build_graph(
    domain: Domain | None = None,
    *,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    name: str | None = None,
    context_schema: type[Context] = Context,
) -> Graph:
    """The orchestrator graph for `domain` (the travel domain by default).

    START -> orchestrate -(Send per ready task)-> <worker> -> orchestrate ... -> synthesize -> END,
    with an `approve` node in front of side-effecting workers when the domain has any.
    `context_schema=ServerContext` is for the server's graphs: a run's context then takes the
    deployment settings from the environment whatever the caller sent.
    """
    if domain is None:
        from domains.travel.domain import travel_domain

        domain = travel_domain()
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
    return compiled
