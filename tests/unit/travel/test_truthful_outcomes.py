"""The answer is the ledger's and the status is the verifier's, whatever the plan said.

Each test drives a real trip (real inventory file, real checkpoints), then compares what the run
tells the traveller with what `Inventory.bookings` holds.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domains.travel.inventory import Inventory
from domains.travel.models import Booking
from domains.travel.verifier import verdict_of
from tests.unit.travel.support import day, run_trip, tasks_of, trip

OFFSET = 40


def live(inv: Inventory, thread: str = "t1") -> list[Booking]:
    return [b for b in inv.bookings(thread) if b.status == "confirmed"]


def assert_itinerary_is_the_ledger(values: dict[str, Any], inv: Inventory, thread: str) -> None:
    data = values["answer"]["data"]
    ledger = {b.ref: b for b in live(inv, thread)}
    shown = [*data["legs"], *data["hotels"], *data["cars"]]
    assert {x["booking"] for x in shown} == set(ledger)
    for leg in data["legs"]:
        d = ledger[leg["booking"]].details
        assert (leg["flight_no"], leg["depart_local"], leg["arrive_local"]) == (
            d["flight_no"],
            d["depart_local"],
            d["arrive_local"],
        )
    for x in shown:
        assert x["cost"] == ledger[x["booking"]].total_price
    assert data["booked_total"] == round(sum(b.total_price for b in ledger.values()), 2)


async def test_an_alternative_chosen_at_approval_is_what_the_itinerary_shows(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET), day(inventory, OFFSET + 4)
    request = trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day), travelers=2)
    paused = await run_trip(data_dir, request, approval="ask")
    [question] = [p["value"] for p in paused.paused]
    flight = next(i for i in question["items"] if i["kind"] == "flight")
    alternative = flight["alternatives"][0]
    edit = {"decision": "edit", "inputs": {flight["task_id"]: {"item_id": alternative["item_id"]}}}

    outcome = await run_trip(data_dir, request, approval="ask", resume=edit)

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    [booked_flight] = [
        b for b in live(inventory) if b.kind == "flight" and b.task_id == flight["task_id"]
    ]
    assert booked_flight.item_id == alternative["item_id"]
    assert booked_flight.total_price == alternative["price"]
    assert_itinerary_is_the_ledger(values, inventory, "t1")
    assert booked_flight.details["flight_no"] in values["answer"]["summary"]


async def test_dropping_the_outbound_flight_drops_what_follows_from_it_and_is_not_completed(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET + 1), day(inventory, OFFSET + 5)
    request = trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day), car=True)
    paused = await run_trip(data_dir, request, approval="ask")
    [question] = [p["value"] for p in paused.paused]
    items = {i["task_id"]: i for i in question["items"]}
    assert items["book-hotel-1"]["requires"] == ["book-flight-1"]
    assert items["book-car-1"]["requires"] == ["book-flight-1"]

    outcome = await run_trip(
        data_dir, request, approval="ask", resume={"decision": "edit", "drop": ["book-flight-1"]}
    )

    values = outcome.values
    assert values["status"] == "partial"
    assert f"leg 1 SFO->CDG on {out_day}: no flight booked" in values["reason"]
    assert {t["id"]: t["status"] for t in tasks_of(values, "book")} == {
        "book-flight-1": "cancelled",
        "book-flight-2": "done",
        "book-hotel-1": "cancelled",
        "book-car-1": "cancelled",
    }
    assert [b.kind for b in live(inventory)] == ["flight"]
    data = values["answer"]["data"]
    assert {x["task_id"] for x in data["not_booked"]} == {
        "book-flight-1",
        "book-hotel-1",
        "book-car-1",
    }
    assert "hotel in Paris: none booked" in data["unmet"]
    assert "car in Paris: none booked" in data["unmet"]
    assert_itinerary_is_the_ledger(values, inventory, "t1")
    assert "Planned, not booked:" in values["answer"]["summary"]


async def test_the_budget_sentence_is_computed_from_the_bookings(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET + 2), day(inventory, OFFSET + 6)
    request = trip(("SFO", "JFK", out_day), ("JFK", "SFO", back_day), budget=20000)

    values = (await run_trip(data_dir, request)).values

    total = round(sum(b.total_price for b in live(inventory)), 2)
    assert values["status"] == "completed"
    assert values["reason"] == (
        f"all 3 items booked (2 flights, 1 hotel), total ${total:,.2f}, "
        "within the budget of $20,000.00"
    )
    assert_itinerary_is_the_ledger(values, inventory, "t1")


async def test_nine_travellers_get_cars_that_seat_them_all(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET + 3), day(inventory, OFFSET + 6)
    request = trip(("SFO", "JFK", out_day), ("JFK", "SFO", back_day), travelers=9, car=True)

    values = (await run_trip(data_dir, request)).values

    [car] = values["answer"]["data"]["cars"]
    seats = {"economy": 4, "compact": 5, "midsize": 5, "suv": 7, "luxury": 4}
    assert car["cars"] * seats[car["car_class"]] >= 9
    assert values["status"] == "completed", values["reason"]
    assert_itinerary_is_the_ledger(values, inventory, "t1")


def _booking(ref: str, kind: str, details: dict[str, Any], **fields: Any) -> Booking:
    base = {
        "ref": ref,
        "key": f"t:r:{ref}",
        "kind": kind,
        "item_id": ref,
        "quantity": 1,
        "total_price": 100.0,
        "status": "confirmed",
        "thread_id": "t",
        "task_id": ref,
        "created_at": "2027-01-01T00:00:00",
        "details": details,
    }
    return Booking.model_validate({**base, **fields})


def _flight(ref: str, origin: str, destination: str, depart: str, arrive: str) -> Booking:
    details = {
        "flight_no": ref,
        "origin": origin,
        "destination": destination,
        "depart_local": depart,
        "arrive_local": arrive,
        "duration_min": 600,
        "cabin": "economy",
        "red_eye": int(arrive[11:13]) < 6,
        "travelers": 1,
        "fare": 100.0,
    }
    return _booking(ref, "flight", details)


def _hotel(ref: str, city: str, check_in: str, check_out: str) -> Booking:
    nights = (date.fromisoformat(check_out) - date.fromisoformat(check_in)).days
    details = {
        "hotel_id": "h",
        "name": "Hotel",
        "city": city,
        "tier": 3,
        "check_in": check_in,
        "check_out": check_out,
        "nights": nights,
        "rooms": 1,
    }
    return _booking(ref, "hotel", details)


def test_a_red_eye_landing_needs_the_night_before_and_an_orphan_is_reported() -> None:
    request = trip(
        ("SFO", "JFK", date(2027, 3, 1)),
        ("JFK", "SFO", date(2027, 3, 4)),
    )
    outbound = _flight("F1", "SFO", "JFK", "2027-03-01T22:00:00-08:00", "2027-03-02T05:40:00-05:00")
    back = _flight("F2", "JFK", "SFO", "2027-03-04T12:00:00-05:00", "2027-03-04T15:00:00-08:00")
    from_landing_day = _hotel("H1", "New York", "2027-03-02", "2027-03-04")
    stray = _hotel("H2", "Paris", "2027-03-02", "2027-03-04")

    verdict = verdict_of(request, [outbound, back, from_landing_day, stray])

    assert verdict.status == "partial"
    assert (
        "hotel in New York: no room booked for the night(s) of 2027-03-01 "
        "(the flight lands before 06:00)" in verdict.unmet
    )
    assert any(u.startswith("booking H2 (") and "not part of the trip" in u for u in verdict.unmet)
    whole = _hotel("H3", "New York", "2027-03-01", "2027-03-04")
    assert verdict_of(request, [outbound, back, whole]).status == "completed"


async def _sold_out_paris_trip(data_dir: Path, inventory: Inventory) -> Any:
    """A round trip to Paris paused for approval, whose hotels then all sell out."""
    out_day, back_day = day(inventory, OFFSET + 8), day(inventory, OFFSET + 12)
    request = trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day))
    await run_trip(data_dir, request, approval="ask")
    first = out_day - timedelta(days=1)
    for option in inventory.search_hotels("Paris", first, back_day + timedelta(days=1)):
        for n in range(8):
            inventory.set_rooms(option.hotel_id, first + timedelta(days=n), 0)
    return request


async def _approve_all(data_dir: Path, request: Any) -> dict[str, Any]:
    outcome = await run_trip(data_dir, request, approval="ask", resume="approve")
    for _ in range(10):  # compensating cancellations need approval too
        if not outcome.paused:
            break
        outcome = await run_trip(data_dir, request, approval="ask", resume="approve")
    assert not outcome.paused
    return dict(outcome.values)


async def test_a_cancellation_that_fails_is_tried_again_until_it_succeeds(
    data_dir: Path, inventory: Inventory, monkeypatch: Any
) -> None:
    request = await _sold_out_paris_trip(data_dir, inventory)
    real_cancel = Inventory.cancel
    failures = {"left": 2}

    def flaky_cancel(self: Inventory, ref_or_key: str, *, thread_id: str | None = None) -> Booking:
        if failures["left"]:
            failures["left"] -= 1
            raise ValueError("the ledger is busy, try again")  # a TaskFailed for the worker
        return real_cancel(self, ref_or_key, thread_id=thread_id)

    monkeypatch.setattr(Inventory, "cancel", flaky_cancel)

    values = await _approve_all(data_dir, request)

    assert failures["left"] == 0
    assert live(inventory) == []
    assert values["status"] == "failed"
    said = values["answer"]["data"]["planner_said"]
    assert "cancelled 2 booking(s)" in said and "could not cancel" not in said
    assert any("trying again" in d for d in values["answer"]["data"]["decisions"])


async def test_a_cancellation_that_never_succeeds_is_never_reported_as_done(
    data_dir: Path, inventory: Inventory, monkeypatch: Any
) -> None:
    request = await _sold_out_paris_trip(data_dir, inventory)

    def broken_cancel(self: Inventory, ref_or_key: str, *, thread_id: str | None = None) -> Booking:
        raise ValueError("the ledger refuses")

    monkeypatch.setattr(Inventory, "cancel", broken_cancel)

    values = await _approve_all(data_dir, request)

    still = live(inventory)
    assert still and all(b.kind == "flight" for b in still)
    said = values["answer"]["data"]["planner_said"]
    assert "could not cancel" in said and "stay confirmed" in said
    assert "cancelled 0 booking(s)" in said
    assert values["status"] == "partial"  # flights are booked, the hotel is not
    assert_itinerary_is_the_ledger(values, inventory, "t1")
