"""Assembling and compiling the orchestrator graph.

`build_graph(domain, checkpointer=..., store=...)` compiles the orchestrator for a domain; the
engine imports none. The graphs `langgraph.json` points at are the domains' own entrypoints
(`domains/travel/app.py`, `domains/group_trip_app.py`): compiled without a checkpointer, because
the server brings its own.
"""

from graph.builder import build_graph
from graph.persistence import open_checkpointer

__all__ = ["build_graph", "open_checkpointer"]
