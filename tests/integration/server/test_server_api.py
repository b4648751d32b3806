"""The path Studio and applications take: langgraph.json -> `langgraph dev` -> HTTP -> the SDK.

One server for the module. Through the client: the assistants, the graph as Studio draws it,
the schemas, a streamed run that pauses for approval and resumes with a command, its state and
history, and ten threads run at once.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

import pytest
from langgraph.graph import END, START
from server_support import EXAMPLES, DevServer, assistant_id, example, sdk

from domains.travel.models import TripRequest

pytestmark = pytest.mark.server

TRAVEL_WORKERS = {"search_flights", "search_hotels", "search_cars", "book", "cancel"}
RUN_TIMEOUT_S = 60


async def test_lists_both_graphs_as_assistants(server: DevServer) -> None:
    async with sdk(server.url) as client:
        assistants = await client.assistants.search(limit=20)
    by_graph = {a["graph_id"]: a for a in assistants}
    assert set(by_graph) == {"orchestrator", "group_trip"}
    assert by_graph["orchestrator"]["name"] == "travel-orchestrator"


async def test_graph_shows_the_orchestrator_every_worker_and_their_edges(
    server: DevServer,
) -> None:
    async with sdk(server.url) as client:
        drawn = await client.assistants.get_graph(await assistant_id(client, "orchestrator"))
    nodes = {n["id"] for n in drawn["nodes"]}
    assert {START, "orchestrate", "approve", "synthesize", END} <= nodes
    assert nodes >= TRAVEL_WORKERS
    edges = {(e["source"], e["target"]): bool(e.get("conditional")) for e in drawn["edges"]}
    assert edges[(START, "orchestrate")] is False
    for worker in TRAVEL_WORKERS:
        assert edges[("orchestrate", worker)] is True  # the Send fan-out
        assert edges[(worker, "orchestrate")] is False  # every result goes back up
    assert edges[("orchestrate", "approve")] is True
    assert edges[("approve", "book")] is True
    assert edges[("approve", "cancel")] is True
    assert edges[("orchestrate", "synthesize")] is True
    assert edges[("synthesize", END)] is False


async def test_schemas_describe_the_trip_the_goal_and_the_limits(server: DevServer) -> None:
    async with sdk(server.url) as client:
        schemas = await client.assistants.get_schemas(await assistant_id(client, "orchestrator"))

    given = schemas["input_schema"]
    assert given is not None, "the input schema did not build; Studio would show no form"
    assert given["required"] == ["goal", "request"]
    assert given["properties"]["goal"]["description"]
    trip = given["$defs"]["TripRequest"]["properties"]
    assert {"legs", "travelers", "budget", "cabin", "hotel_tier", "car"} <= set(trip)
    leg = given["$defs"]["Leg"]["properties"]
    assert leg["date"]["format"] == "date"

    context = schemas["context_schema"]
    assert context is not None
    limits = context["properties"]
    for name in ("max_rounds", "max_tasks", "max_parallel", "deadline_s", "token_budget"):
        assert limits[name]["description"], f"{name} has no description for Studio"
    # Only the run settings: approval `auto`, the endpoint, models and paths are the deployment's.
    assert limits["approval"]["enum"] == ["ask"]
    assert limits["max_rounds"]["maximum"] >= limits["max_rounds"]["default"]
    assert not {"base_url", "data_dir", "planner_model", "synthesizer_model"} & set(limits)

    output, state = schemas["output_schema"], schemas["state_schema"]
    assert output is not None and state is not None
    assert {"status", "reason", "answer"} <= set(output["properties"])
    assert state["properties"]["tasks"]


async def test_a_trip_streams_pauses_for_approval_and_resumes_with_a_command(
    server: DevServer,
) -> None:
    trip = example("trip.json")
    TripRequest.model_validate(trip["request"])  # the example is a valid request as shipped
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread = await client.threads.create()
        thread_id = thread["thread_id"]

        first = [
            part
            async for part in client.runs.stream(
                thread_id, "orchestrator", input=trip, stream_mode=["updates", "custom"]
            )
        ]
        events = [p.data["event"] for p in first if p.event == "custom"]
        updated = {node for p in first if p.event == "updates" for node in p.data}
        assert events[0] == "round_started"
        assert {"plan_changed", "task_dispatched", "task_done", "approval_needed"} <= set(events)
        assert {"orchestrate", "search_flights", "search_hotels", "search_cars"} <= updated
        assert "__interrupt__" in updated
        assert "run_finished" not in events

        paused = await client.threads.get_state(thread_id)
        assert paused["next"] == ["approve"]
        question = paused["interrupts"][0]["value"]
        assert question["kind"] == "approval"
        assert {i["kind"] for i in question["items"]} == {"flight", "hotel", "car"}
        assert (await client.threads.get(thread_id))["status"] == "interrupted"

        second = [
            part
            async for part in client.runs.stream(
                thread_id,
                "orchestrator",
                command={"resume": "approve"},
                stream_mode=["updates", "custom"],
            )
        ]
        events = [p.data["event"] for p in second if p.event == "custom"]
        assert events[0] == "approval_given"
        assert events[-1] == "run_finished"
        assert "book" in {node for p in second if p.event == "updates" for node in p.data}

        final = await client.threads.get_state(thread_id)
        values = final["values"]
        assert isinstance(values, dict)
        assert values["status"] == "completed", values["reason"]
        assert final["next"] == []
        booked = [t for t in values["tasks"].values() if t["worker"] == "book"]
        assert booked and all(t["status"] == "done" for t in booked)
        assert "Trip status: COMPLETED" in values["answer"]["summary"]

        history = await client.threads.get_history(thread_id, limit=200)
        steps = [(h["metadata"] or {})["step"] for h in history]
        assert steps == sorted(steps, reverse=True), "history is newest first"
        assert any(h["next"] == ["approve"] for h in history), "the pause is in the history"
        assert history[0]["checkpoint"]["checkpoint_id"] == final["checkpoint"]["checkpoint_id"]


async def test_ten_threads_run_at_once_and_all_complete(server: DevServer) -> None:
    trip = example("trip.json")
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S * 2):

        async def one(n: int) -> dict[str, Any]:
            thread = await client.threads.create(metadata={"batch": "ten", "n": n})
            # Each trip a day later and without a car: ten trips racing for the last rental car
            # would (rightly) end partial, and this test is about the server, not scarcity.
            legs = [{**leg, "date": shifted(leg["date"], n)} for leg in trip["request"]["legs"]]
            request = {**trip["request"], "legs": legs, "travelers": 1, "car": False}
            # Approval `auto` is the deployment's setting, refused from a caller: each trip
            # pauses, and is approved like any caller would.
            await client.runs.wait(
                thread["thread_id"],
                "orchestrator",
                input={"goal": f"{trip['goal']} #{n}", "request": request},
            )
            final: Any = None
            for _ in range(5):  # a booking lost in the race is re-planned, and asked again
                final = await client.runs.wait(
                    thread["thread_id"], "orchestrator", command={"resume": "approve"}
                )
                assert isinstance(final, dict)
                if final.get("status") != "awaiting_approval":
                    break
            assert isinstance(final, dict)
            return final

        started = time.monotonic()
        finals = await asyncio.gather(*(one(n) for n in range(10)))
        elapsed = time.monotonic() - started
        assert [f.get("status") for f in finals] == ["completed"] * 10, finals
        threads = await client.threads.search(metadata={"batch": "ten"}, limit=20)
        assert len(threads) == 10
        assert all(t["status"] == "idle" for t in threads)
    print(f"10 concurrent trips took {elapsed:.1f}s")


def shifted(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def test_the_sdk_example_script_books_the_example_trip(server: DevServer) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "run_trip.py"),
            "--url",
            server.url,
            "--yes",
            "--keep-dates",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Trip status: COMPLETED" in done.stdout
    assert "approval_given" in done.stderr


async def test_a_group_trip_runs_its_parties_on_this_same_server(server: DevServer) -> None:
    """Without ORCHESTRATOR_REMOTE_URL the manager's clones run on its own server."""
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "group_trip", input=example("group_trip.json"))
        final = await client.runs.wait(
            thread["thread_id"], "group_trip", command={"resume": "approve"}
        )
        assert isinstance(final, dict)
        assert final["status"] == "completed", final["reason"]
        outputs = final["answer"]["data"]["outputs"]
        assert {o["url"] for o in outputs.values()} == {server.url}
        for out in outputs.values():
            assert (await client.threads.get(out["thread_id"]))["status"] == "idle"
