"""One-stop connections: a route that is not served is flown as two flights via a hub.

The verifier's connection rules on hand-made ledgers (too short, too long, a segment missing,
a wrong hub chain, a hotel at the hub), then the offline planner on the real inventory: it books
an unserved route as a connection, the approval drops a connection whole, and a segment that
sells out before booking is replaced by one that still connects (or the trip is released).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domains.travel.inventory import Inventory
from domains.travel.models import Booking
from domains.travel.policy import MAX_CONNECTION, MIN_CONNECTION, connects, layover
from domains.travel.verifier import verdict_of
from domains.travel.workers.search_flights import one_stop_hubs
from orchestrator.board import with_dependents
from tests.integration.properties.support import Baseline, check_run, inject_sell_out
from tests.integration.properties.support import SellOut as Sell
from tests.unit.travel.support import day, run_trip, tasks_of, trip

D = date(2027, 3, 10)
CET = "+01:00"
CST = "-06:00"


def flight(
    ref: str,
    flight_no: str,
    origin: str,
    destination: str,
    depart: str,
    arrive: str,
    *,
    seats: int = 1,
    price: float = 100.0,
) -> Booking:
    """A confirmed flight booking as the inventory writes it (times local, with offsets)."""
    return Booking(
        ref=ref,
        key=f"t:r:{ref}",
        kind="flight",
        item_id=f"{flight_no}:{depart[:10]}:economy",
        quantity=seats,
        total_price=price * seats,
        status="confirmed",
        thread_id="t",
        task_id=ref,
        created_at="2027-01-01T00:00:00",
        details={
            "flight_no": flight_no,
            "origin": origin,
            "destination": destination,
            "depart_local": depart,
            "arrive_local": arrive,
            "cabin": "economy",
            "red_eye": False,
            "travelers": seats,
            "fare": price,
        },
    )


def hotel(ref: str, city: str, check_in: str, check_out: str, rooms: int = 1) -> Booking:
    nights = (date.fromisoformat(check_out) - date.fromisoformat(check_in)).days
    return Booking(
        ref=ref,
        key=f"t:r:{ref}",
        kind="hotel",
        item_id=f"h:{check_in}:{check_out}:{rooms}",
        quantity=rooms,
        total_price=100.0 * nights,
        status="confirmed",
        thread_id="t",
        task_id=ref,
        created_at="2027-01-01T00:00:00",
        details={
            "name": f"Hotel {city}",
            "city": city,
            "tier": 3,
            "check_in": check_in,
            "check_out": check_out,
            "nights": nights,
            "rooms": rooms,
        },
    )


OUT = flight("F1", "UA1", "ORD", "CDG", "2027-03-10T17:55:00-06:00", "2027-03-11T09:25:00+01:00")
ON = flight("F2", "AF2", "CDG", "BCN", "2027-03-11T11:10:00+01:00", "2027-03-11T12:55:00+01:00")


def one_way() -> Any:
    return trip(("ORD", "BCN", D))


def test_two_flights_via_a_hub_make_the_leg() -> None:
    verdict = verdict_of(one_way(), [OUT, ON])

    assert verdict.status == "completed", verdict.reason
    assert verdict.reason.startswith("all 2 items booked (2 flights)")
    [connection] = verdict.facts["connections"]
    assert connection == {
        "leg": 1,
        "hub": "CDG",
        "route": ["ORD", "CDG", "BCN"],
        "bookings": ["F1", "F2"],
        "layover_min": 105,
        "overnight": False,
    }
    assert "leg 1 ORD->BCN on 2027-03-10: UA1 + AF2" in verdict.facts["met"]


def test_a_connection_shorter_than_the_minimum_is_refused() -> None:
    tight = flight(
        "F2", "AF2", "CDG", "BCN", "2027-03-11T10:15:00+01:00", "2027-03-11T12:00:00+01:00"
    )
    assert layover(OUT.details, tight.details) < MIN_CONNECTION

    verdict = verdict_of(one_way(), [OUT, tight])

    assert verdict.status == "partial"
    assert verdict.unmet == [
        "leg 1 ORD->BCN on 2027-03-10: connection at CDG too short: AF2 leaves 50 minutes "
        "after UA1 lands, the minimum is 90"
    ]
    assert verdict.facts["orphans"] == [] and verdict.facts["connections"] == []


def test_a_connection_longer_than_the_maximum_is_refused() -> None:
    late = flight(
        "F2", "AF2", "CDG", "BCN", "2027-03-12T11:10:00+01:00", "2027-03-12T12:55:00+01:00"
    )
    assert layover(OUT.details, late.details) > MAX_CONNECTION

    verdict = verdict_of(one_way(), [OUT, late])

    assert verdict.status == "partial"
    assert "connection at CDG too long: AF2 leaves 25 hours after UA1 lands" in verdict.reason


def test_a_missing_segment_is_named() -> None:
    first_only = verdict_of(one_way(), [OUT])
    second_only = verdict_of(one_way(), [ON])

    assert first_only.status == second_only.status == "partial"
    assert first_only.unmet == [
        "leg 1 ORD->BCN on 2027-03-10: UA1 ORD->CDG booked, but no flight on from CDG to BCN"
    ]
    assert second_only.unmet == [
        "leg 1 ORD->BCN on 2027-03-10: AF2 CDG->BCN booked, but no flight to CDG from ORD"
    ]


def test_flights_through_different_hubs_do_not_connect() -> None:
    elsewhere = flight(
        "F2", "IB2", "MAD", "BCN", "2027-03-11T11:10:00+01:00", "2027-03-11T12:30:00+01:00"
    )

    verdict = verdict_of(one_way(), [OUT, elsewhere])

    assert verdict.status == "partial"
    assert verdict.unmet == [
        "leg 1 ORD->BCN on 2027-03-10: UA1 ORD->CDG lands at CDG but IB2 MAD->BCN leaves from "
        "MAD: the flights do not connect"
    ]


def test_every_segment_needs_a_seat_per_traveller() -> None:
    two = trip(("ORD", "BCN", D), travelers=2)
    full = flight(
        "F1",
        "UA1",
        "ORD",
        "CDG",
        OUT.details["depart_local"],
        OUT.details["arrive_local"],
        seats=2,
    )

    verdict = verdict_of(two, [full, ON])

    assert verdict.unmet == ["leg 1 ORD->BCN on 2027-03-10: AF2 holds 1 seat for 2 travellers"]


def test_the_stay_follows_the_second_flight_and_nothing_is_asked_of_the_hub() -> None:
    """An overnight connection: the first flight lands at the hub in the evening and the
    second leaves the next morning. The room in Barcelona starts the day the second lands; no
    room at the hub is asked for, and one booked there is not part of the trip."""
    out = flight(
        "F1", "UA1", "ORD", "CDG", "2027-03-10T08:00:00-06:00", "2027-03-10T23:30:00+01:00"
    )
    on = flight("F2", "AF2", "CDG", "BCN", "2027-03-11T07:30:00+01:00", "2027-03-11T09:15:00+01:00")
    back_1 = flight(
        "F3", "IB3", "BCN", "MAD", "2027-03-14T07:10:00+01:00", "2027-03-14T08:35:00+01:00"
    )
    back_2 = flight(
        "F4", "IB4", "MAD", "ORD", "2027-03-14T10:15:00+01:00", "2027-03-14T12:30:00-06:00"
    )
    round_trip = trip(("ORD", "BCN", D), ("BCN", "ORD", D + timedelta(days=4)))
    stay = hotel("H1", "Barcelona", "2027-03-11", "2027-03-14")
    ledger = [out, on, back_1, back_2, stay]

    verdict = verdict_of(round_trip, ledger)
    from_first_landing = verdict_of(
        round_trip, [*ledger[:4], hotel("H1", "Barcelona", "2027-03-12", "2027-03-14")]
    )
    with_hub_room = verdict_of(
        round_trip, [*ledger, hotel("H2", "Paris", "2027-03-10", "2027-03-11")]
    )

    assert verdict.status == "completed", verdict.reason
    assert [c["overnight"] for c in verdict.facts["connections"]] == [True, False]
    assert verdict.facts["stays"] == [
        {
            "city": "Barcelona",
            "check_in": "2027-03-11",
            "check_out": "2027-03-14",
            "extra_night": False,
        }
    ]
    assert from_first_landing.unmet == [
        "hotel in Barcelona: no room booked for the night(s) of 2027-03-11"
    ]
    assert with_hub_room.facts["orphans"] == ["H2"]


def test_a_direct_flight_wins_and_a_stray_segment_is_an_orphan() -> None:
    direct = flight(
        "F0", "XX9", "ORD", "BCN", "2027-03-10T09:00:00-06:00", "2027-03-11T01:00:00+01:00"
    )

    verdict = verdict_of(one_way(), [direct, OUT])

    assert verdict.facts["orphans"] == ["F1"] and verdict.facts["connections"] == []


def test_hubs_come_from_the_routes_and_match_a_search_of_every_airport(
    inventory: Inventory,
) -> None:
    """`one_stop_hubs` asks only the airports the routes make candidates; the answer is the
    one a search of every airport gives."""
    when = day(inventory, 30)

    def every_airport(origin: str, destination: str) -> list[str]:
        found = []
        for airport in inventory.airports():
            hub = airport.code
            if hub in (origin, destination):
                continue
            first = inventory.search_flights(origin, hub, when, include_full=True)
            second = inventory.search_flights(
                hub, destination, when, include_full=True
            ) or inventory.search_flights(
                hub, destination, when + timedelta(days=1), include_full=True
            )
            if first and second:
                found.append((-(len(first) + len(second)), hub))
        return [hub for _n, hub in sorted(found)[:3]]

    pairs = [("ORD", "BCN"), ("BCN", "SFO"), ("BOS", "ATH"), ("SYD", "DUB"), ("OAK", "LIS")]
    for origin, destination in pairs:
        assert one_stop_hubs(inventory, origin, destination, when) == every_airport(
            origin, destination
        )
    assert set(one_stop_hubs(inventory, "ORD", "BCN", when)) == {"CDG", "FCO", "MAD"}


# The offline planner on the real inventory ---------------------------------------------------


def segments(values: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(tasks_of(values, "book"), key=lambda t: t["id"])


async def test_the_planner_books_an_unserved_route_as_a_connection(
    data_dir: Path, inventory: Inventory
) -> None:
    out, back = day(inventory, 30), day(inventory, 34)
    assert not inventory.search_flights("ORD", "BCN", out, include_full=True)

    outcome = await run_trip(
        data_dir, trip(("ORD", "BCN", out), ("BCN", "ORD", back), travelers=2, car=True)
    )

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    ledger = [b for b in inventory.bookings("t1") if b.status == "confirmed"]
    flights = sorted((b for b in ledger if b.kind == "flight"), key=lambda b: b.task_id)
    assert [b.task_id for b in flights] == [
        "book-flight-1a",
        "book-flight-1b",
        "book-flight-2a",
        "book-flight-2b",
    ]
    first, second = flights[0].details, flights[1].details
    assert (first["origin"], second["destination"]) == ("ORD", "BCN")
    assert connects(first, second)
    data = values["answer"]["data"]
    assert [c["route"][0] + c["route"][2] for c in data["connections"]] == ["ORDBCN", "BCNORD"]
    hub = first["destination"]
    assert f"Leg 1 ORD → {hub} → BCN: connection at {hub}" in values["answer"]["summary"]
    [stay] = data["hotels"]
    assert stay["city"] == "Barcelona" and stay["check_in"] == second["arrive_local"][:10]
    assert [c["airport"] for c in data["cars"]] == ["BCN"]  # none at the hubs


async def test_dropping_one_flight_of_a_connection_drops_the_connection_and_its_stay(
    data_dir: Path, inventory: Inventory
) -> None:
    request = trip(("ORD", "BCN", day(inventory, 30)), ("BCN", "ORD", day(inventory, 34)))

    paused = await run_trip(data_dir, request, approval="ask")

    [pause] = paused.paused
    items = {i["task_id"]: i for i in pause["value"]["items"]}
    assert items["book-flight-1a"]["requires"] == ["book-flight-1b"]
    assert items["book-flight-1b"]["requires"] == ["book-flight-1a"]
    assert set(with_dependents(["book-flight-1a"], items)) == {
        "book-flight-1a",
        "book-flight-1b",
        "book-hotel-1",
    }
    resumed = await run_trip(
        data_dir, request, approval="ask", resume={"decision": "edit", "drop": ["book-flight-1b"]}
    )
    values = resumed.values
    booked = {b.task_id for b in inventory.bookings("t1") if b.status == "confirmed"}
    assert booked == {"book-flight-2a", "book-flight-2b"}
    assert values["status"] == "partial"
    assert "leg 1 ORD->BCN" in values["reason"]


def test_a_segment_sold_out_before_booking_is_replaced_or_the_trip_released(
    data_dir: Path, inventory: Inventory, inventory_template: Path
) -> None:
    """Between the approval and the booking, the second flight of the outbound connection
    sells out. Whatever the planner then does (another onward flight that still connects, or
    releasing the trip), the run tells the truth: the properties' invariants hold."""
    request = trip(("ORD", "BCN", day(inventory, 30)), ("BCN", "ORD", day(inventory, 34)))
    baseline = Baseline(Inventory(inventory_template))
    paused = asyncio.run(run_trip(data_dir, request, approval="ask", thread="prop"))
    [pause] = paused.paused
    item = next(i for i in pause["value"]["items"] if i["task_id"] == "book-flight-1b")
    task = paused.values["tasks"]["book-flight-1b"]
    inject_sell_out(inventory, baseline, task, item, Sell(item=0, leave="none", day=0))

    outcome = asyncio.run(run_trip(data_dir, request, approval="ask", thread="prop", resume="y"))
    while outcome.paused:
        outcome = asyncio.run(
            run_trip(data_dir, request, approval="ask", thread="prop", resume="approve")
        )

    check_run(outcome.values, request, inventory, baseline)
    live = {b.task_id: b for b in inventory.bookings("prop") if b.status == "confirmed"}
    if outcome.values["status"] == "completed":
        replaced = next(b for t, b in live.items() if t.startswith("book-flight-1b-"))
        assert connects(live["book-flight-1a"].details, replaced.details)
    else:
        assert not any(t.startswith("book-flight") for t in live), live
