"""Bounded delegation through `RemoteGraph`: a local orchestrator hands a trip to the travel
orchestrator of a real `langgraph dev` server. The sub-run's context carries its depth, the
caller's `max_depth` and the task's share of the caller's budgets, lowered to the server's caps
(sent above them, the server would refuse the run); a sub-run that runs out ends `partial` and
the caller's task says why; a task at the depth limit never reaches the server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from server_support import DevServer, ServerFactory, example, sdk

from domains.synthetic import ScriptedPlanner, synthetic_domain
from graph.builder import build_graph
from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from orchestrator.remote import remote_thread_id, remote_worker
from orchestrator.runner import drive, run_config
from tests.unit.core.support import NOTHING, add, finish, task

pytestmark = pytest.mark.server

RUN_TIMEOUT_S = 90
DEADLINE_CAP = 300


@pytest.fixture(scope="module")
def travel(make_server: ServerFactory) -> Iterator[DevServer]:
    server = make_server("budgets", {"ORCHESTRATOR_CAP_DEADLINE_S": str(DEADLINE_CAP)})
    yield server
    server.stop()


def manager(url: str) -> Any:
    trip = example("trip.json")

    def plan(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return add(task("trip", "party_trip", goal=trip["goal"], request=trip["request"]))
        if view.tasks["trip"]["status"] == "failed":
            return finish("partial", f"the trip failed: {view.tasks['trip']['error']}")
        return NOTHING

    worker = remote_worker(
        "party_trip",
        graph_id="orchestrator",
        url=url,
        description="Plans and books one trip on a travel orchestrator.",
        context={"approval": "auto"},
    )
    return synthetic_domain(ScriptedPlanner(plan), extra_workers=[worker], name="manager")


async def run(url: str, ctx: Context, thread: str) -> dict[str, Any]:
    outcome = await drive(
        build_graph(manager(url), checkpointer=InMemorySaver()),
        {"goal": "book the team's trip"},
        config=run_config(thread, ctx),
        context=ctx,
    )
    return outcome.values


async def test_the_remote_sub_run_gets_the_tasks_share_and_ends_partial_when_it_runs_out(
    travel: DevServer,
) -> None:
    # Three tasks in all: the remote trip may create the two the manager has not.
    ctx = Context(approval="auto", max_tasks=3, max_depth=2, deadline_s=900)
    async with asyncio.timeout(RUN_TIMEOUT_S), sdk(travel.url) as client:
        values = await run(travel.url, ctx, "manager-1")
        # Its verifier has the last word on its status (nothing was booked: failed); what
        # stopped it comes back too.
        error = values["tasks"]["trip"]["error"]
        assert error.startswith("remote sub-orchestrator ended failed: nothing is booked")
        assert re.search(
            r"\(it stopped because the update would bring the run to \d+ tasks, over the limit "
            r"of 2 \(Context.max_tasks\)\)$",
            error,
        )
        assert values["status"] == "failed"  # its one task failed

        key = f"manager-1:{values['run_id']}:trip"
        thread_id = remote_thread_id(key)
        (sub_run,) = await client.runs.list(thread_id)
        sent = sub_run["kwargs"]["context"]  # type: ignore[typeddict-item]
        assert {k: sent[k] for k in ("depth", "max_depth", "max_tasks")} == {
            "depth": 1,
            "max_depth": 2,
            "max_tasks": 2,
        }
        # 900 s of work left here, but this server caps deadline_s at 300: lowered, not refused.
        assert sent["deadline_s"] == DEADLINE_CAP
        assert "approval" not in sent
        state = await client.threads.get_state(thread_id)
        assert isinstance(state["values"], dict)
        assert state["values"]["status"] == "failed"
        assert len(state["values"]["tasks"]) == 2  # its share; it wanted more


async def test_a_task_at_the_depth_limit_never_reaches_the_server(travel: DevServer) -> None:
    ctx = Context(approval="auto", depth=2, max_depth=2)
    async with asyncio.timeout(RUN_TIMEOUT_S), sdk(travel.url) as client:
        before = len(await client.threads.search(limit=100))
        values = await run(travel.url, ctx, "manager-2")
        assert values["tasks"]["trip"]["error"] == (
            "delegation refused: the sub-run would be at depth 3, beyond max_depth=2 "
            "(Context.max_depth); do this part here instead of delegating it"
        )
        assert len(await client.threads.search(limit=100)) == before
