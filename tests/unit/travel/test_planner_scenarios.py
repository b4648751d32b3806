"""The offline travel planner end to end: real inventory file, real SQLite checkpoints.

Each scenario forces the situation through the inventory (selling out seats or rooms) rather than
relying on a coincidence of the generated data, then asserts the plan, the decisions and the
inventory that results.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from domains.travel.inventory import Inventory
from tests.unit.travel.support import day, decisions, output, run_trip, tasks_of, trip

OFFSET = 30


def sell_out_flights(
    inv: Inventory, origin: str, destination: str, when: date, keep: str = ""
) -> None:
    """Leaves only flight `keep` (a flight number) with seats on that route and day."""
    for option in inv.search_flights(origin, destination, when):
        if option.flight_no != keep:
            inv.set_seats(option.id, 0)


def booked(inv: Inventory, thread: str = "t1") -> list[dict[str, object]]:
    return [b.model_dump() for b in inv.bookings(thread) if b.status == "confirmed"]


async def test_red_eye_landing_adds_an_extra_hotel_night(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET), day(inventory, OFFSET + 4)
    red_eyes = [o for o in inventory.search_flights("SFO", "JFK", out_day) if o.red_eye]
    assert red_eyes, "the generated schedule has a red-eye SFO->JFK"
    red_eye = red_eyes[0]
    sell_out_flights(inventory, "SFO", "JFK", out_day, keep=red_eye.flight_no)

    outcome = await run_trip(
        data_dir, trip(("SFO", "JFK", out_day), ("JFK", "SFO", back_day), travelers=2)
    )

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    landing = datetime.fromisoformat(red_eye.arrive_local)
    assert landing.hour < 6
    hotel = output(values, "book-hotel-1")
    stay = output(values, tasks_of(values, "search_hotels")[0]["id"])
    assert stay["check_in"] == (landing.date() - timedelta(days=1)).isoformat()
    assert stay["check_out"] == back_day.isoformat()
    assert any(
        "extra night added in New York" in d and red_eye.flight_no in d for d in decisions(values)
    )
    assert hotel["status"] == "confirmed"
    itinerary = values["answer"]["data"]
    assert itinerary["hotels"][0]["extra_night"] is True
    assert itinerary["legs"][0]["red_eye"] is True


async def test_sold_out_hotel_tier_is_replanned_one_tier_lower(
    data_dir: Path, inventory: Inventory, inventory_template: Path
) -> None:
    arrive, leave = day(inventory, OFFSET), day(inventory, OFFSET + 3)
    for option in inventory.search_hotels(
        "Paris", arrive - timedelta(days=1), leave + timedelta(days=1), tier=3
    ):
        for n in range((leave - arrive).days + 2):
            inventory.set_rooms(option.hotel_id, arrive - timedelta(days=1) + timedelta(days=n), 0)
    assert not inventory.search_hotels("Paris", arrive, leave, tier=3)

    outcome = await run_trip(
        data_dir,
        trip(("SFO", "CDG", arrive - timedelta(days=1)), ("CDG", "SFO", leave), hotel_tier=3),
    )

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    searches = tasks_of(values, "search_hotels")
    assert [t["inputs"]["tier"] for t in searches] == [3, 2]
    assert any("no 3-star rooms in Paris" in d and "trying 2 stars" in d for d in decisions(values))
    hotel_booking = output(values, "book-hotel-1")
    chosen = values["answer"]["data"]["hotels"][0]
    assert chosen["tier"] == 2
    hotel_id = hotel_booking["item_id"].split(":")[0]
    rooms_before = Inventory.open(inventory_template).rooms_left(
        hotel_id, date.fromisoformat(chosen["check_in"])
    )
    after = inventory.rooms_left(hotel_id, date.fromisoformat(chosen["check_in"]))
    assert after == rooms_before - 1  # the booking took exactly one room that night


async def test_a_leg_with_no_seats_is_searched_a_day_either_side_and_at_other_airports(
    data_dir: Path, inventory: Inventory
) -> None:
    when = day(inventory, OFFSET)
    sell_out_flights(inventory, "SFO", "JFK", when)

    outcome = await run_trip(
        data_dir, trip(("SFO", "JFK", when), ("JFK", "SFO", when + timedelta(days=5)))
    )

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    searched = {
        (t["inputs"]["origin"], t["inputs"]["destination"], t["inputs"]["date"])
        for t in tasks_of(values, "search_flights")
    }
    assert ("SFO", "JFK", (when - timedelta(days=1)).isoformat()) in searched
    assert ("SFO", "JFK", (when + timedelta(days=1)).isoformat()) in searched
    assert ("SFO", "EWR", when.isoformat()) in searched  # New York's other airports
    assert ("OAK", "JFK", when.isoformat()) in searched  # San Francisco's other airports
    leg = values["answer"]["data"]["legs"][0]
    moved = leg["depart_local"][:10] != when.isoformat() or (leg["origin"], leg["destination"]) != (
        "SFO",
        "JFK",
    )
    assert moved
    assert any(re.search(r"SFO->JFK on \S+: no seats;", d) for d in decisions(values))


async def test_over_budget_switches_to_cheaper_hotels_and_stays_within_budget(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET), day(inventory, OFFSET + 4)
    request = trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day), hotel_tier=5)
    unconstrained = await run_trip(data_dir, request, thread="probe", approval="ask")
    probe_total = sum(i["price"] for i in unconstrained.paused[0]["value"]["items"])
    cheap_hotel = min(
        o.total_price
        for o in inventory.search_hotels("Paris", out_day + timedelta(days=1), back_day, tier=4)
    )
    budget = probe_total - 1  # over with 5 stars, feasible one tier lower

    outcome = await run_trip(data_dir, request.model_copy(update={"budget": budget}))

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    assert any("over the budget" in d for d in decisions(values))
    assert values["answer"]["data"]["hotels"][0]["tier"] < 5
    assert values["answer"]["data"]["booked_total"] <= budget
    assert cheap_hotel > 0


async def test_a_budget_nothing_fits_ends_failed_with_nothing_booked(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET), day(inventory, OFFSET + 4)

    outcome = await run_trip(
        data_dir, trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day), budget=300)
    )

    values = outcome.values
    # Nothing achieved is `failed`; the verdict says what is missing, the planner says why.
    assert values["status"] == "failed"
    assert values["reason"].startswith("nothing is booked; leg 1 SFO->CDG")
    said = values["answer"]["data"]["planner_said"]
    assert "over budget" in said and "$300" in said
    assert "The planner stopped because: over budget" in values["answer"]["summary"]
    assert booked(inventory) == []
    assert not tasks_of(values, "book")


async def test_three_leg_trip_books_every_leg_in_order(
    data_dir: Path, inventory: Inventory, inventory_template: Path
) -> None:
    start = day(inventory, OFFSET)
    request = trip(
        ("SFO", "CDG", start),
        ("CDG", "FCO", start + timedelta(days=3)),
        ("FCO", "SFO", start + timedelta(days=6)),
        travelers=2,
        car=True,
    )

    outcome = await run_trip(data_dir, request)

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    data = values["answer"]["data"]
    assert [(leg["origin"], leg["destination"]) for leg in data["legs"]] == [
        ("SFO", "CDG"),
        ("CDG", "FCO"),
        ("FCO", "SFO"),
    ]
    for before, after in zip(data["legs"], data["legs"][1:], strict=False):
        assert datetime.fromisoformat(after["depart_local"]) > datetime.fromisoformat(
            before["arrive_local"]
        )
    assert [h["city"] for h in data["hotels"]] == ["Paris", "Rome"]
    assert len(data["cars"]) == 2
    kinds = sorted(b["kind"] for b in booked(inventory))
    assert kinds == ["car", "car", "flight", "flight", "flight", "hotel", "hotel"]
    # Searches for all legs went out together, in the first round.
    assert {t["round"] for t in tasks_of(values, "search_flights")} == {1}
    first = output(values, "book-flight-1")
    seats_before = Inventory.open(inventory_template).seats_left(first["item_id"])
    taken = seats_before - inventory.seats_left(first["item_id"])
    assert taken == 2  # one seat per traveller, taken once


async def test_booking_race_books_the_next_option_when_the_hotel_sells_out(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET), day(inventory, OFFSET + 4)
    request = trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day))
    paused = await run_trip(data_dir, request, approval="ask")
    assert paused.paused, "the run waits for approval before booking"
    assert any(i["kind"] == "hotel" for i in paused.paused[0]["value"]["items"])
    hotel_id, check_in, _check_out, _rooms = _hotel_of(paused.values)
    # Someone else takes the last rooms between the search and the booking.
    inventory.set_rooms(hotel_id, date.fromisoformat(check_in), 0)

    outcome = await run_trip(data_dir, request, approval="ask", resume="approve")
    while outcome.paused:  # the replacement booking is a new side effect: approve it too
        outcome = await run_trip(data_dir, request, approval="ask", resume="approve")

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    assert values["tasks"]["book-hotel-1"]["status"] == "failed"
    assert "sold out" in (values["tasks"]["book-hotel-1"]["error"] or "")
    replacement = values["answer"]["data"]["hotels"][0]
    assert replacement["booking_status"] == "confirmed"
    assert any("booking the next option instead" in d for d in decisions(values))
    hotels = [b for b in booked(inventory) if b["kind"] == "hotel"]
    assert len(hotels) == 1 and not str(hotels[0]["item_id"]).startswith(hotel_id + ":")


async def test_booking_race_with_no_alternative_cancels_the_trip_and_restores_inventory(
    data_dir: Path, inventory: Inventory
) -> None:
    out_day, back_day = day(inventory, OFFSET), day(inventory, OFFSET + 4)
    request = trip(("SFO", "CDG", out_day), ("CDG", "SFO", back_day))
    paused = await run_trip(data_dir, request, approval="ask")
    flight_task = paused.values["tasks"]["book-flight-1"]
    flight_id = flight_task["inputs"]["item_id"]
    seats_before = inventory.seats_left(flight_id)
    # The hotel and every other same-day flight sell out before the approval arrives.
    for option in inventory.search_hotels(
        "Paris", out_day - timedelta(days=1), back_day + timedelta(days=1)
    ):
        for n in range(8):
            inventory.set_rooms(option.hotel_id, out_day - timedelta(days=1) + timedelta(days=n), 0)

    outcome = await run_trip(data_dir, request, approval="ask", resume="approve")
    while outcome.paused:  # approve the compensating cancellation as well
        outcome = await run_trip(data_dir, request, approval="ask", resume="approve")

    values = outcome.values
    # A trip without its hotel is no trip: every booking was cancelled, none is left stray.
    assert values["status"] == "failed"
    assert values["reason"].startswith("nothing is booked;")
    assert "hotel in Paris: none booked" in values["reason"]
    said = values["answer"]["data"]["planner_said"]
    assert "hotel-1 could not be booked" in said and "cancelled 2 booking(s)" in said
    cancels = tasks_of(values, "cancel")
    assert len(cancels) == 2 and all(t["status"] == "done" for t in cancels)
    assert inventory.seats_left(flight_id) == seats_before  # what leg 1 took was given back
    assert [b for b in booked(inventory) if b["status"] == "confirmed"] == []
    assert {c["booking"] for c in values["answer"]["data"]["cancelled"]} == {
        t["inputs"]["ref"] for t in cancels
    }


def _hotel_of(values: dict[str, object]) -> tuple[str, str, str, str]:
    tasks = values["tasks"]
    assert isinstance(tasks, dict)
    item_id = tasks["book-hotel-1"]["inputs"]["item_id"]
    hotel_id, check_in, check_out, rooms = item_id.split(":")
    return hotel_id, check_in, check_out, rooms


async def test_a_leg_too_early_to_connect_says_so_not_no_seats(
    data_dir: Path, inventory: Inventory
) -> None:
    """LAX->SYD lands two days later by the calendar: a return asked for the next day has seats
    but none leaves after the landing, and the decision says that, not "no seats"."""
    out = day(inventory, 30)
    values = (
        await run_trip(
            data_dir,
            trip(("LAX", "SYD", out), ("SYD", "LAX", out + timedelta(days=1))),
        )
    ).values
    assert values["status"] == "completed", values["reason"]
    said = [d for d in decisions(values) if d.startswith("leg 2: SYD->LAX on ")]
    assert said and "no flight with seats leaves 1 h 30 min or more after" in said[0], said
    assert "no seats" not in said[0]
