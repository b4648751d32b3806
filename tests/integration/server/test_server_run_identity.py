"""Run identity on a real `langgraph dev` server, through `langgraph_sdk`.

Each new input on a thread is a new run with its own `run_id`, and the run id is part of every
booking's idempotency key (`thread:run_id:scope+task`). So a second trip on a finished thread
plans and books afresh and never answers with the first trip's bookings; a thread id used again
after a delete (by another user) cannot reach the first owner's bookings; and an approval edit
that drops a flight drops what follows from it, with a verdict that names the missing leg.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient
from server_support import DevServer, ServerFactory, example, sdk

from domains.travel.inventory import Inventory
from domains.travel.models import Booking
from domains.travel.services import INVENTORY_FILE

pytestmark = pytest.mark.server

ALICE, BOB = "tok-alice-5d21", "tok-bob-9a07"
RUN_TIMEOUT_S = 90


def trip_a() -> dict[str, Any]:
    """Paris for two with a car (the example)."""
    return dict(example("trip.json"))


def trip_b() -> dict[str, Any]:
    """Another trip in the same inventory window: New York, alone, no car."""
    return {
        "goal": "New York for one",
        "request": {
            "legs": [
                {"origin": "SFO", "destination": "JFK", "date": "2027-02-12"},
                {"origin": "JFK", "destination": "SFO", "date": "2027-02-16"},
            ],
            "travelers": 1,
            "budget": 5000,
        },
    }


@pytest.fixture(scope="module")
def guarded(make_server: ServerFactory) -> Iterator[DevServer]:
    server = make_server("identity-auth", {"ORCHESTRATOR_AUTH_TOKENS": f"{ALICE}:alice,{BOB}:bob"})
    yield server
    server.stop()


def inventory(server: DevServer) -> Inventory:
    return Inventory(server.home / INVENTORY_FILE)


async def values_of(client: LangGraphClient, thread_id: str) -> dict[str, Any]:
    state = await client.threads.get_state(thread_id)
    values = state["values"]
    assert isinstance(values, dict)
    return values


async def question(client: LangGraphClient, thread_id: str) -> dict[str, Any]:
    """The approval question the thread is paused on."""
    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["approve"], state["next"]
    interrupts = [i for t in state["tasks"] for i in t.get("interrupts") or []]
    assert len(interrupts) == 1, interrupts
    value = interrupts[0]["value"]
    assert isinstance(value, dict)
    return value


async def book_trip(
    client: LangGraphClient, thread_id: str, trip: dict[str, Any]
) -> dict[str, Any]:
    """Runs `trip` on the thread, approves its bookings, and returns the final values."""
    await client.runs.wait(thread_id, "orchestrator", input=trip)
    await question(client, thread_id)  # it pauses before booking, whichever run it is
    await client.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
    return await values_of(client, thread_id)


def answer_refs(values: dict[str, Any]) -> set[str]:
    data = values["answer"]["data"]
    refs = {item["booking"] for kind in ("legs", "hotels", "cars") for item in data[kind]}
    return refs | {b["ref"] for b in data["bookings"]}


def keyed(bookings: list[Booking], thread_id: str, run_id: str) -> list[Booking]:
    return [b for b in bookings if b.key.startswith(f"{thread_id}:{run_id}:")]


# --- a new input on a finished thread is a new run -------------------------------------------


@pytest.mark.parametrize("second", ["different-trip", "same-trip"])
async def test_a_second_run_on_a_finished_thread_books_afresh_and_never_answers_with_the_first(
    server: DevServer, second: str
) -> None:
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await client.threads.create())["thread_id"]
        first = await book_trip(client, thread_id, trip_a())
        assert first["status"] == "completed", first["reason"]
        first_refs = answer_refs(first)
        first_booked = inventory(server).bookings(thread_id)
        assert {b.ref for b in first_booked} == first_refs
        assert all(b.key.startswith(f"{thread_id}:{first['run_id']}:") for b in first_booked)

        trip = trip_b() if second == "different-trip" else trip_a()
        await client.runs.wait(thread_id, "orchestrator", input=trip)
        state = await client.threads.get_state(thread_id)
        assert state["next"] == ["approve"], "the second run never asked to book anything"
        await client.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
        again = await values_of(client, thread_id)

    # Whatever happened, the second run never answers with the first run's bookings ...
    assert again["run_id"] and again["run_id"] != first["run_id"]
    assert answer_refs(again).isdisjoint(first_refs)
    assert again["request"] == trip["request"]
    everything = inventory(server).bookings(thread_id)
    assert {b.ref for b in keyed(everything, thread_id, first["run_id"])} == first_refs
    assert all(b.status == "confirmed" for b in everything if b.ref in first_refs)
    # ... and it plans and books afresh: its own bookings, keyed with its own run id.
    mine = keyed(everything, thread_id, again["run_id"])
    assert state["next"] == ["approve"], (
        f"the second run never asked to book anything: {again['status']} - {again['reason']}"
    )
    assert again["status"] == "completed", again["reason"]
    assert mine and answer_refs(again) == {b.ref for b in mine}
    assert {b.ref for b in everything} == first_refs | {b.ref for b in mine}


# --- a thread id used again after a delete, by another user -----------------------------------


async def test_a_reused_thread_id_never_reaches_the_deleted_threads_bookings(
    guarded: DevServer,
) -> None:
    thread_id = str(uuid.uuid4())
    async with (
        sdk(guarded.url, ALICE) as alice,
        sdk(guarded.url, BOB) as bob,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        await alice.threads.create(thread_id=thread_id)
        hers = await book_trip(alice, thread_id, trip_a())
        assert hers["status"] == "completed", hers["reason"]
        her_refs = answer_refs(hers)
        her_bookings = {b.ref: b for b in inventory(guarded).bookings(thread_id)}
        assert set(her_bookings) == her_refs and her_refs
        await alice.threads.delete(thread_id)

        created = await bob.threads.create(thread_id=thread_id)
        assert created["thread_id"] == thread_id
        assert (created["metadata"] or {})["owner"] == "bob"
        his = await book_trip(bob, thread_id, trip_b())

    assert his["run_id"] != hers["run_id"]
    assert answer_refs(his).isdisjoint(her_refs)
    assert his["status"] == "completed", his["reason"]
    assert [leg["destination"] for leg in his["answer"]["data"]["legs"]] == ["JFK", "SFO"]
    after = {b.ref: b for b in inventory(guarded).bookings(thread_id)}
    for ref, booking in her_bookings.items():
        assert after[ref] == booking, "Alice's booking is untouched"
    his_refs = {r for r, b in after.items() if b.key.startswith(f"{thread_id}:{his['run_id']}:")}
    assert his_refs and answer_refs(his) == his_refs
    assert set(after) == her_refs | his_refs


# --- an approval edit that drops a flight ------------------------------------------------------


async def test_dropping_the_outbound_flight_at_approval_drops_its_stay_and_ends_partial(
    server: DevServer,
) -> None:
    trip = trip_a()
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await client.threads.create())["thread_id"]
        await client.runs.wait(thread_id, "orchestrator", input=trip)
        asked = await question(client, thread_id)
        items = {i["task_id"]: i for i in asked["items"]}
        flights = [i for i in asked["items"] if i["kind"] == "flight"]
        outbound = next(i for i in flights if "SFO->CDG" in i["label"])
        hotel = next(i for i in asked["items"] if i["kind"] == "hotel")
        assert hotel["requires"] == [outbound["task_id"]], hotel
        follows = {t for t, i in items.items() if outbound["task_id"] in i.get("requires", [])}

        await client.runs.wait(
            thread_id,
            "orchestrator",
            command={"resume": {"decision": "edit", "drop": [outbound["task_id"]]}},
        )
        state = await client.threads.get_state(thread_id)
        assert state["next"] == [], f"paused again: {state['next']}"
        values = await values_of(client, thread_id)

    assert values["status"] == "partial", values["reason"]
    leg = trip["request"]["legs"][0]
    missing = f"leg 1 {leg['origin']}->{leg['destination']} on {leg['date']}: no flight booked"
    assert missing in values["answer"]["data"]["unmet"]
    assert missing in values["reason"]
    dropped = {outbound["task_id"], hotel["task_id"], *follows}
    for task_id in dropped:
        assert values["tasks"][task_id]["status"] == "cancelled", task_id
    not_booked = {i["task_id"] for i in values["answer"]["data"]["not_booked"]}
    assert dropped <= not_booked
    booked = inventory(server).bookings(thread_id)
    assert {b.task_id for b in booked}.isdisjoint(dropped)
    assert answer_refs(values) == {b.ref for b in booked if b.status == "confirmed"} | {
        b.ref for b in booked if b.status == "cancelled"
    }
    assert values["answer"]["data"]["hotels"] == []
