"""The group-trip manager `langgraph.json` exports as `group_trip`, compiled without a checkpointer.

Its worker books each party's trip on the `orchestrator` graph of the server at
`$ORCHESTRATOR_REMOTE_URL` (default: this same server, which `langgraph dev` announces in
`$LANGGRAPH_API_URL`). `$ORCHESTRATOR_REMOTE_TOKEN` is sent as a bearer token when that server
has auth on; `$ORCHESTRATOR_REMOTE_API_KEY` as `x-api-key` for a LangSmith deployment. Its
context is a `ServerContext`, like the `orchestrator` graph's. A server entrypoint composes the
engine with a domain, so it lives with the domain (`domains.group_trip`).
"""

import os

from domains.group_trip import group_trip_domain
from graph.builder import build_graph
from orchestrator.context import ServerContext

_token = os.environ.get("ORCHESTRATOR_REMOTE_TOKEN")

graph = build_graph(
    group_trip_domain(
        headers={"Authorization": f"Bearer {_token}"} if _token else None,
        api_key=os.environ.get("ORCHESTRATOR_REMOTE_API_KEY") or None,
    ),
    name="group-trip-orchestrator",
    context_schema=ServerContext,
)
