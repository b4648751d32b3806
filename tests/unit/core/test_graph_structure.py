"""The compiled graph's shape: exactly the nodes and edges the design draws, nothing more."""

from __future__ import annotations

from langgraph.graph import END, START

from domains.synthetic import ScriptedPlanner, synthetic_domain
from graph.builder import Graph, build_graph
from tests.unit.core.support import NOTHING


def shape(graph: Graph) -> tuple[set[str], set[tuple[str, str, bool]]]:
    drawn = graph.get_graph()
    nodes = set(drawn.nodes)
    edges = {(e.source, e.target, e.conditional) for e in drawn.edges}
    return nodes, edges


def test_graph_without_side_effects_has_orchestrate_workers_and_synthesize() -> None:
    nodes, edges = shape(build_graph(synthetic_domain(ScriptedPlanner([NOTHING]))))

    assert nodes == {
        START,
        END,
        "orchestrate",
        "sleep",
        "lanes",
        "synthesize",
        "__error_handler__sleep",
    }
    assert edges == {
        (START, "orchestrate", False),
        ("orchestrate", "sleep", True),
        ("orchestrate", "lanes", True),
        ("lanes", "orchestrate", False),
        ("sleep", "orchestrate", False),
        ("orchestrate", "synthesize", True),
        ("synthesize", END, False),
    }


def test_graph_with_a_side_effecting_worker_puts_approve_before_it() -> None:
    domain = synthetic_domain(ScriptedPlanner([NOTHING]), side_effects=True)
    nodes, edges = shape(build_graph(domain))

    assert nodes == {
        START,
        END,
        "orchestrate",
        "sleep",
        "commit",
        "approve",
        "lanes",
        "synthesize",
        "__error_handler__sleep",
        "__error_handler__commit",
    }
    assert edges == {
        (START, "orchestrate", False),
        ("orchestrate", "sleep", True),
        ("orchestrate", "commit", True),
        ("orchestrate", "lanes", True),
        ("lanes", "orchestrate", False),
        ("orchestrate", "approve", True),
        ("orchestrate", "synthesize", True),
        ("approve", "commit", True),
        ("approve", "orchestrate", True),
        ("sleep", "orchestrate", False),
        ("commit", "orchestrate", False),
        ("synthesize", END, False),
    }


def test_error_handler_nodes_are_drawn_without_edges() -> None:
    domain = synthetic_domain(ScriptedPlanner([NOTHING]), side_effects=True)
    nodes, edges = shape(build_graph(domain))

    handlers = {n for n in nodes if n.startswith("__error_handler__")}
    assert handlers == {"__error_handler__sleep", "__error_handler__commit"}
    touching = [e for e in edges if e[0] in handlers or e[1] in handlers]
    assert touching == []


def test_build_graph_compiles_without_a_checkpointer_by_default() -> None:
    graph = build_graph(synthetic_domain(ScriptedPlanner([NOTHING])))

    assert graph.checkpointer is None
