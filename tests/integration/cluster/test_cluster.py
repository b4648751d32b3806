"""The graphs on an Aegra cluster: an API process and two queue workers sharing PostgreSQL, Redis
and one data directory (the inventory with its bookings).

Alice and Bob share the cluster (auth on). Runs submitted to the API are executed by both
workers; a paused trip is resumed through the API; Bob gets 404 for everything of Alice's; a
remote sub-run stopped half-way resumes from its checkpoint (`orchestrator/remote.py`); and a
worker killed (SIGKILL) while booking a trip hands the run to the other worker, which finishes it
without booking anything twice. The last test kills a worker, so it runs last.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster_support import ALICE, BOB, LEASE_S, Cluster, example, sdk
from langgraph.pregel.remote import RemoteGraph

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from orchestrator.delegate import DelegateInput
from orchestrator.remote import _finish

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

RUN_TIMEOUT_S = 150
TRIP = example("trip.json")
BOOKED_ITEMS = 4
"""trip.json books two flights, a hotel and a car."""


async def status(call: Awaitable[Any]) -> int:
    """The HTTP status a client call ends with."""
    try:
        await call
    except httpx.HTTPStatusError as exc:  # the SDK's typed errors derive from it
        return exc.response.status_code
    return 200


async def paused_trip(client: Any) -> tuple[str, str]:
    """A trip run to its approval pause: (thread id, run id)."""
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(thread_id, "orchestrator", input=TRIP)
    await client.runs.join(thread_id, run["run_id"])
    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["approve"], state["next"]
    return thread_id, run["run_id"]


async def test_runs_submitted_to_the_api_are_executed_by_both_workers(cluster: Cluster) -> None:
    async with sdk(cluster.url, ALICE) as alice, asyncio.timeout(RUN_TIMEOUT_S):
        threads = [(await alice.threads.create())["thread_id"] for _ in range(6)]
        runs = await asyncio.gather(
            *(alice.runs.create(t, "orchestrator", input=TRIP) for t in threads)
        )
        await asyncio.gather(
            *(alice.runs.join(t, r["run_id"]) for t, r in zip(threads, runs, strict=True))
        )
        for thread_id in threads:
            assert (await alice.threads.get(thread_id))["status"] == "interrupted"
    ran = {run["run_id"]: cluster.who_ran(run["run_id"]) for run in runs}
    assert all(len(workers) == 1 for workers in ran.values()), ran  # each run once
    assert {workers[0] for workers in ran.values()} == set(cluster.workers), ran
    assert cluster.picked_up("api") == []  # the API process executes nothing


async def test_a_paused_trip_is_resumed_through_the_api(cluster: Cluster) -> None:
    async with sdk(cluster.url, ALICE) as alice, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id, first = await paused_trip(alice)
        resume = await alice.runs.create(thread_id, "orchestrator", command={"resume": "approve"})
        await alice.runs.join(thread_id, resume["run_id"])
        state = await alice.threads.get_state(thread_id)
        assert (await alice.runs.get(thread_id, resume["run_id"]))["status"] == "success"
    assert state["next"] == []
    assert state["values"]["status"] == "completed"
    assert cluster.who_ran(first) and cluster.who_ran(resume["run_id"])
    bookings = Inventory.open(cluster.home / INVENTORY_FILE).bookings(thread_id)
    assert len(bookings) == BOOKED_ITEMS


async def test_bob_gets_404_for_alices_thread_and_cannot_resume_it(cluster: Cluster) -> None:
    async with (
        sdk(cluster.url, ALICE) as alice,
        sdk(cluster.url, BOB) as bob,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        thread_id, run_id = await paused_trip(alice)
        assert (await alice.threads.get(thread_id))["metadata"]["owner"] == "alice"
        calls = {
            "threads.get": lambda: bob.threads.get(thread_id),
            "threads.get_state": lambda: bob.threads.get_state(thread_id),
            "threads.get_history": lambda: bob.threads.get_history(thread_id),
            "runs.get": lambda: bob.runs.get(thread_id, run_id),
            "runs.create": lambda: bob.runs.create(
                thread_id, "orchestrator", command={"resume": "approve"}
            ),
        }
        statuses = {name: await status(call()) for name, call in calls.items()}
        assert statuses == dict.fromkeys(calls, 404)
        # Aegra answers a run listing with the caller's own runs of that thread: none (where
        # `langgraph dev` answers 404). Nothing of Alice's shows either way.
        assert await bob.runs.list(thread_id) == []
        assert [t["thread_id"] for t in await bob.threads.search(limit=100)] == [
            t["thread_id"]
            for t in await bob.threads.search(limit=100)
            if t["metadata"].get("owner") == "bob"
        ]
        # Alice's run is untouched: still paused at approval.
        assert (await alice.threads.get_state(thread_id))["next"] == ["approve"]
        async with httpx.AsyncClient() as anonymous:
            response = await anonymous.post(cluster.url + "/threads/search", json={})
        assert response.status_code == 401, response.text


async def test_a_stopped_remote_sub_run_resumes_from_its_checkpoint(cluster: Cluster) -> None:
    """`orchestrator/remote.py`: a sub-run that stopped half-way (here: before its approval node)
    is continued with an explicit checkpoint; Aegra refuses a run with no input (422)."""
    thread_id = str(uuid.uuid4())
    async with sdk(cluster.url, ALICE) as alice, asyncio.timeout(RUN_TIMEOUT_S):
        await alice.threads.create(thread_id=thread_id)
        run = await alice.runs.create(
            thread_id, "orchestrator", input=TRIP, interrupt_before=["approve"]
        )
        await alice.runs.join(thread_id, run["run_id"])
        stopped = await alice.threads.get_state(thread_id)
        assert stopped["next"] == ["approve"] and stopped["values"]
        remote = RemoteGraph("orchestrator", client=alice)
        final, ran = await _finish(
            alice,
            remote,
            {"configurable": {"thread_id": thread_id}},
            DelegateInput(goal=TRIP["goal"], request=TRIP["request"]),
            {},
            approve=True,
        )
    assert ran, "the stopped sub-run was continued, not only read"
    assert final["status"] == "completed", final.get("reason")
    assert len(Inventory.open(cluster.home / INVENTORY_FILE).bookings(thread_id)) == BOOKED_ITEMS


async def test_twenty_trips_on_scarce_seats_never_oversell(cluster: Cluster) -> None:
    """Twenty paused trips that all chose the same flight, resumed at once across both workers
    after its seats dropped to 5: at most 5 seats are sold, and the inventory agrees."""
    trips = 20
    inventory = Inventory.open(cluster.home / INVENTORY_FILE)
    async with sdk(cluster.url, ALICE) as alice, asyncio.timeout(2 * RUN_TIMEOUT_S):
        paused = await asyncio.gather(*(paused_trip(alice) for _ in range(trips)))
        chosen = []
        for thread_id, _ in paused:
            state = await alice.threads.get_state(thread_id)
            chosen.append(state["values"]["tasks"]["book-flight-1"]["inputs"]["item_id"])
        flight = max(set(chosen), key=chosen.count)
        inventory.set_seats(flight, 5)
        resumed = await asyncio.gather(
            *(
                alice.runs.create(t, "orchestrator", command={"resume": "approve"})
                for t, _ in paused
            )
        )
        await asyncio.gather(
            *(alice.runs.join(t, r["run_id"]) for (t, _), r in zip(paused, resumed, strict=True))
        )
        for (thread_id, _), run in zip(paused, resumed, strict=True):
            # Done, or paused again: a trip that lost its seats re-plans and asks anew.
            ended = (await alice.runs.get(thread_id, run["run_id"]))["status"]
            assert ended in ("success", "interrupted"), ended
    threads = {thread_id for thread_id, _ in paused}
    sold = sum(
        b.quantity
        for b in inventory.bookings()
        if b.item_id == flight and b.status == "confirmed" and b.thread_id in threads
    )
    assert 0 < sold <= 5
    assert inventory.seats_left(flight) == 5 - sold
    ran = {
        role
        for _, run in zip(paused, resumed, strict=True)
        for role in cluster.who_ran(run["run_id"])
    }
    assert ran == set(cluster.workers)


async def test_a_group_trip_delegates_each_party_to_the_cluster(cluster: Cluster) -> None:
    """`group_trip` hands each party's trip to the cluster's own `orchestrator` through
    `RemoteGraph`: the manager run and its sub-runs are all executed by the workers."""
    group = example("group_trip.json")
    async with sdk(cluster.url, ALICE) as alice, asyncio.timeout(2 * RUN_TIMEOUT_S):
        thread_id = (await alice.threads.create())["thread_id"]
        first = await alice.runs.create(thread_id, "group_trip", input=group)
        await alice.runs.join(thread_id, first["run_id"])
        assert (await alice.threads.get_state(thread_id))["next"] == ["approve"]
        run = await alice.runs.create(thread_id, "group_trip", command={"resume": "approve"})
        await alice.runs.join(thread_id, run["run_id"])
        values = (await alice.threads.get_state(thread_id))["values"]
        assert values["status"] == "completed", values["reason"]
        outputs: dict[str, Any] = values["answer"]["data"]["outputs"]
        assert sorted(outputs) == ["party-1", "party-2"]
        sub_runs = []
        for out in outputs.values():
            assert out["status"] == "completed" and out["url"] == cluster.url
            assert (await alice.threads.get(out["thread_id"]))["metadata"]["owner"] == "alice"
            sub_runs += [r["run_id"] for r in await alice.runs.list(out["thread_id"])]
    assert cluster.who_ran(run["run_id"])
    assert all(cluster.who_ran(r) for r in sub_runs)
    booked = Inventory.open(cluster.home / INVENTORY_FILE).bookings()
    assert {o["thread_id"] for o in outputs.values()} <= {b.thread_id for b in booked}


async def wait_for_claim(cluster: Cluster, run_id: str, timeout_s: float = 60) -> str | None:
    """The worker (role) that holds the run's lease once one does; None if the run ended first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        claim, status = cluster.lease(run_id)
        if claim and (role := cluster.role_of_claim(claim)):
            return role
        if status not in ("pending", "running"):
            return None
        await asyncio.sleep(0.01)
    raise AssertionError(f"no worker claimed run {run_id} within {timeout_s:g}s")


async def test_a_worker_killed_mid_trip_hands_the_run_to_the_other(
    cluster: Cluster, cluster_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = Inventory.open(cluster.home / INVENTORY_FILE)
    async with sdk(cluster.url, ALICE) as alice, asyncio.timeout(RUN_TIMEOUT_S):
        for _attempt in range(3):  # a run that finished before the kill could land is retried
            thread_id, _ = await paused_trip(alice)
            run = await alice.runs.create(thread_id, "orchestrator", command={"resume": "approve"})
            run_id = run["run_id"]
            victim = await wait_for_claim(cluster, run_id)
            if victim is None:
                continue  # it ended before it could be seen running: try another trip
            # Kill it while it books: right after its first booking lands (or 3 s into the run).
            deadline = time.monotonic() + 3
            while not inventory.bookings(thread_id) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            booked_at_kill = len(inventory.bookings(thread_id))
            if cluster.claimed_by(run_id) is None:
                await alice.runs.join(thread_id, run_id)  # done already: try another trip
                continue
            cluster.kill(victim)
            killed = time.monotonic()
            break
        else:
            pytest.fail("three runs in a row finished before the worker could be killed")
        await alice.runs.join(thread_id, run_id)
        recovered_s = time.monotonic() - killed
        finished = await alice.runs.get(thread_id, run_id)
        state = await alice.threads.get_state(thread_id)
    with capsys.disabled():
        print(
            f"\n[cluster] killed {victim} with {booked_at_kill} of {BOOKED_ITEMS} bookings made; "
            f"the run finished {recovered_s:.1f}s later (lease {LEASE_S}s)"
        )
    survivor = next(w for w in cluster.workers if w != victim)
    assert finished["status"] == "success", finished
    assert state["values"]["status"] == "completed"
    assert run_id in cluster.picked_up(survivor)
    bookings = inventory.bookings(thread_id)
    assert len(bookings) == BOOKED_ITEMS
    assert len({b.task_id for b in bookings}) == BOOKED_ITEMS  # each task booked once
    assert len({b.key for b in bookings}) == BOOKED_ITEMS
    assert all(b.status == "confirmed" for b in bookings)
    # The itinerary in the state names exactly the bookings in the inventory.
    text = repr(state["values"])
    assert all(b.ref in text for b in bookings)
    # Inventory conserved: each flight lost exactly the seats that all its bookings took.
    seeded = Inventory.open(cluster_inventory)  # the untouched file the cluster's is a copy of
    for flight in {b.item_id for b in bookings if b.kind == "flight"}:
        taken = sum(
            b.quantity
            for b in inventory.bookings()
            if b.item_id == flight and b.status == "confirmed"
        )
        assert seeded.seats_left(flight) - inventory.seats_left(flight) == taken
