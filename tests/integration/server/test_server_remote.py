"""Remote workers: a group trip on server A whose parties' trips run on server B.

A serves `group_trip`; its `party_trip` worker reaches B's `orchestrator` graph through
`RemoteGraph` (`ORCHESTRATOR_REMOTE_URL`), authenticating with B's bearer token. All searching
and booking happens on B, on threads keyed by A's thread and task, so a retried task joins or
reuses its sub-run instead of booking twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from server_support import DevServer, ServerFactory, example, sdk

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from orchestrator.context import Context
from orchestrator.delegate import DelegateInput
from orchestrator.remote import remote_thread_id, remote_worker
from orchestrator.workers import WorkerCall

pytestmark = pytest.mark.server

MANAGER = "tok-manager-5a7e"
RUN_TIMEOUT_S = 90


@dataclass
class Pair:
    manager: DevServer
    """Server A: runs `group_trip`."""
    travel: DevServer
    """Server B: runs each party's trip on `orchestrator`."""


@pytest.fixture(scope="module")
def pair(make_server: ServerFactory) -> Iterator[Pair]:
    travel = make_server("travel", {"ORCHESTRATOR_AUTH_TOKENS": f"{MANAGER}:manager"})
    manager = make_server(
        "manager",
        {"ORCHESTRATOR_REMOTE_URL": travel.url, "ORCHESTRATOR_REMOTE_TOKEN": MANAGER},
    )
    yield Pair(manager=manager, travel=travel)
    manager.stop()
    travel.stop()


async def test_a_group_trip_books_each_partys_trip_on_the_other_server(pair: Pair) -> None:
    group = example("group_trip.json")
    async with (
        sdk(pair.manager.url) as a,
        sdk(pair.travel.url, MANAGER) as b,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        thread = await a.threads.create()
        thread_id = thread["thread_id"]
        await a.runs.wait(thread_id, "group_trip", input=group)
        paused = await a.threads.get_state(thread_id)
        assert paused["next"] == ["approve"]
        items = paused["interrupts"][0]["value"]["items"]
        assert [i["task_id"] for i in items] == ["party-1", "party-2"]
        assert "San Francisco team" in items[0]["label"]
        assert await b.threads.search() == [], "nothing runs remotely before the approval"

        parts = [
            p
            async for p in a.runs.stream(
                thread_id,
                "group_trip",
                command={"resume": "approve"},
                stream_mode=["updates", "custom"],
            )
        ]
        events = [p.data for p in parts if p.event == "custom"]
        done = sorted(e["task_id"] for e in events if e["event"] == "task_done")
        assert done == ["party-1", "party-2"]

        final = await a.threads.get_state(thread_id)
        values = final["values"]
        assert isinstance(values, dict)
        assert values["status"] == "completed", values["reason"]
        outputs: dict[str, Any] = values["answer"]["data"]["outputs"]

        for task_id, party in zip(["party-1", "party-2"], group["request"]["parties"], strict=True):
            out = outputs[task_id]
            assert out["url"] == pair.travel.url
            assert out["status"] == "completed"
            # The remote thread is named by the delegating task's idempotency key.
            key = f"{thread_id}:{values['run_id']}:{task_id}"
            assert out["thread_id"] == remote_thread_id(key)
            sub = await b.threads.get(out["thread_id"])
            assert (sub["metadata"] or {})["owner"] == "manager"  # B's auth stamped A's identity
            sub_state = await b.threads.get_state(out["thread_id"])
            sub_values = sub_state["values"]
            assert isinstance(sub_values, dict)
            assert sub_values["request"]["legs"] == party["trip"]["legs"]
            workers = {t["worker"] for t in sub_values["tasks"].values()}
            assert {"search_flights", "search_hotels", "book"} <= workers  # the leg work, on B

    booked_on_b = Inventory(pair.travel.home / INVENTORY_FILE).bookings()
    assert {b.thread_id for b in booked_on_b} == {outputs[t]["thread_id"] for t in outputs}
    assert Inventory(pair.manager.home / INVENTORY_FILE).bookings() == []


async def test_a_retried_task_reuses_its_finished_sub_run(pair: Pair) -> None:
    """The worker, called twice for one task (a retry, a resume), books once."""
    worker = remote_worker(
        "party_trip",
        graph_id="orchestrator",
        url=pair.travel.url,
        headers={"Authorization": f"Bearer {MANAGER}"},
        description="test",
        context={"approval": "auto"},
    )
    trip = example("trip.json")
    inputs = DelegateInput(goal=trip["goal"], request={**trip["request"], "car": False})
    call = WorkerCall(task_id="party-9", thread_id="caller-thread", attempt=1, context=Context())
    async with asyncio.timeout(RUN_TIMEOUT_S), sdk(pair.travel.url, MANAGER) as b:
        first = await worker.run(inputs, call)
        # Two runs: the sub-run paused for approval (a server refuses `auto` from a caller),
        # and the worker approved it for its caller.
        assert len(await b.runs.list(first.thread_id)) == 2
        again = await worker.run(inputs, replace(call, attempt=2))
        assert len(await b.runs.list(first.thread_id)) == 2, "the retry started no run"
    assert first == again
    assert len(Inventory(pair.travel.home / INVENTORY_FILE).bookings(first.thread_id)) == 3
