"""Assembling and compiling the orchestrator graph.

`graph.app:graph` is what `langgraph.json` points at: compiled without a checkpointer, because
the server brings its own. Python callers use `build_graph(checkpointer=..., store=...)`.
"""

from graph.builder import build_graph
from graph.persistence import open_checkpointer

__all__ = ["build_graph", "open_checkpointer"]
