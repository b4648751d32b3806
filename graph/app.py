"""The graph `langgraph.json` exports: the travel orchestrator, compiled without a checkpointer.

Its context is a `ServerContext`: the model endpoint and names, the data directory and automatic
approval come from the server's environment, never from a caller's run or assistant.
"""

from graph.builder import build_graph
from orchestrator.context import ServerContext

graph = build_graph(context_schema=ServerContext)
