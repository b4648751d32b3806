"""`threads.get_history` on a thread with a few hundred checkpoints, through `langgraph dev`.

The server's checkpointer adapter rebuilt every listed checkpoint's `DeltaChannel`s with an
ancestor walk of one `aget_tuple` per ancestor: 12 s for 230 checkpoints in the audit, 20 s for
304 here. `graph/server.py` hands the server a saver whose `alist` rebuilds them incrementally
(`graph/history_saver.py`), so the same listing takes well under a second.

The checkpoints are written into the server's own checkpoint file from the test process: built
through the server (`threads.create(supersteps=...)`), each superstep pays that same walk to load
the state, and 300 of them took 22 s.
"""

from __future__ import annotations

import time

import pytest
from langgraph.types import StateUpdate
from server_support import DevServer, sdk

from domains.travel.domain import travel_domain
from graph.builder import build_graph
from graph.persistence import open_checkpointer
from graph.server import SERVER_CHECKPOINTS

pytestmark = pytest.mark.server

CHECKPOINTS = 300
BOUND_S = 5.0
"""Generous for a shared CI machine: measured about 0.5 s, against 20 s before the fix."""


async def test_history_of_a_few_hundred_checkpoints_is_fast_and_whole(server: DevServer) -> None:
    async with sdk(server.url) as client:
        thread = await client.threads.create(graph_id="orchestrator")
        thread_id = str(thread["thread_id"])
        # One checkpoint per superstep, each appending one entry to the `log` DeltaChannel and
        # merging one task into the `tasks` one, as the orchestrator does.
        async with open_checkpointer(str(server.home / SERVER_CHECKPOINTS)) as saver:
            await build_graph(travel_domain(), checkpointer=saver).abulk_update_state(
                {"configurable": {"thread_id": thread_id}},
                [
                    [
                        StateUpdate(
                            {
                                "round": i,
                                "log": [{"round": i, "kind": "info", "message": f"entry {i}"}],
                                "tasks": {f"t{i}": {"id": f"t{i}", "status": "done"}},
                            },
                            "synthesize",
                        )
                    ]
                    for i in range(CHECKPOINTS)
                ],
            )

        start = time.perf_counter()
        history = await client.threads.get_history(thread_id, limit=CHECKPOINTS + 50)
        elapsed = time.perf_counter() - start

        assert len(history) == CHECKPOINTS
        for back, state in enumerate(history):
            values = state["values"]
            assert isinstance(values, dict)
            n = CHECKPOINTS - back
            assert values["round"] == n - 1
            assert [e["message"] for e in values["log"]] == [f"entry {i}" for i in range(n)]
            assert sorted(values["tasks"]) == sorted(f"t{i}" for i in range(n))
        assert elapsed < BOUND_S, f"get_history of {CHECKPOINTS} checkpoints took {elapsed:.1f}s"

        # A page (the newest 20) has the same states as the full listing.
        page = await client.threads.get_history(thread_id, limit=20)
        assert [p["values"] for p in page] == [h["values"] for h in history[:20]]
