"""The travel orchestrator that `langgraph.json` exports as `orchestrator`, compiled without a
checkpointer (the server brings its own).

A server entrypoint composes the engine with a domain, so it lives with the domain: the engine
(`graph/`) imports none. Its context is a `ServerContext`: the model endpoint and names, the data
directory and automatic approval come from the server's environment, never from a caller's run
or assistant.
"""

from domains.travel.domain import travel_domain
from graph.builder import build_graph
from orchestrator.context import ServerContext

graph = build_graph(travel_domain(), context_schema=ServerContext)
