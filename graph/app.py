"""The graph `langgraph.json` exports: the travel orchestrator, compiled without a checkpointer."""

from graph.builder import build_graph

graph = build_graph()
