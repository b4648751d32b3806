"""Stays and cars planned with the flights (issue 14, fewer model calls): a stay search takes its
check-in from the flight option it follows by `$ref` (`hotel_check_in`, the red-eye's night
before included; `car_pick_up`), runs as soon as the flight search is in, and a round trip is
searched and booked in two model calls. The verifier, not the reference, has the last word: a
stay that follows another flight than the one booked leaves a night uncovered, and the finish
is refused.

Over real HTTP against the scripted model, with real workers on a real inventory.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import FlightOption, Leg, TripRequest
from domains.travel.policy import stay_dates
from graph import build_graph
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import add, finish, llm_context, prompt_of, run, task

_STAYS = ("r1-hotel", "r1-car")


def _red_eye_trip(inventory: Inventory) -> tuple[TripRequest, FlightOption, FlightOption]:
    """A round trip SFO->CDG whose cheapest outbound flight is a red-eye, with a car."""
    start = inventory.window()[0]
    for offset in range(30, 90):
        day = start + timedelta(days=offset)
        out = inventory.search_flights("SFO", "CDG", day, travelers=2)
        back = inventory.search_flights("CDG", "SFO", day + timedelta(days=4), travelers=2)
        if out and back and out[0].red_eye and len(out) > 1 and not out[1].red_eye:
            trip = TripRequest(
                legs=[
                    Leg(origin="SFO", destination="CDG", date=day),
                    Leg(origin="CDG", destination="SFO", date=day + timedelta(days=4)),
                ],
                travelers=2,
                car=True,
                budget=30000,
            )
            return trip, out[0], back[0]
    raise AssertionError("the inventory has no red-eye SFO->CDG with another option that day")


def _searches(trip: TripRequest, option: int) -> list[dict[str, Any]]:
    """Both flight searches, and the Paris stay and car following the outbound's `option`."""
    out, back = trip.legs
    follow = "r1-out"

    def ref(field: str) -> dict[str, str]:
        return {"$ref": follow, "path": f"options.{option}.{field}"}

    return [
        task(follow, "search_flights", origin="SFO", destination="CDG", date=out.date.isoformat(),
             travelers=2),
        task("r1-back", "search_flights", origin="CDG", destination="SFO",
             date=back.date.isoformat(), travelers=2),
        task("r1-hotel", "search_hotels", [follow], city="Paris",
             check_in=ref("hotel_check_in"), check_out=back.date.isoformat(), rooms=1),
        task("r1-car", "search_cars", [follow], airport="CDG", pick_up=ref("car_pick_up"),
             drop_off=back.date.isoformat()),
    ]  # fmt: skip


def _bookings(
    inventory: Inventory, trip: TripRequest, flights: list[FlightOption], check_in: date
) -> list[dict[str, Any]]:
    back = trip.legs[1].date
    hotel = inventory.search_hotels("Paris", check_in, back, rooms=1)[0]
    car = inventory.search_cars("CDG", date.fromisoformat(flights[0].car_pick_up), back)[0]
    return [
        *(
            task(f"r2-flight{n}", "book", kind="flight", item_id=f.id, quantity=2)
            for n, f in enumerate(flights)
        ),
        task("r2-hotel", "book", kind="hotel", item_id=hotel.id, quantity=1),
        task("r2-car", "book", kind="car", item_id=car.id, quantity=1),
    ]


async def _run(server: ScriptedOpenAI, data_dir: Path, trip: TripRequest) -> dict[str, Any]:
    context = llm_context(server, data_dir=str(data_dir))
    graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
    outcome = await run(
        graph, context, goal=trip.goal(), request=trip.model_dump(mode="json"), thread="stays"
    )
    return dict(outcome.values)


async def test_a_round_trip_with_a_red_eye_is_searched_and_booked_in_two_model_calls(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip, out, back = _red_eye_trip(inventory)
    check_in, check_out, early = stay_dates(out.model_dump(), back.model_dump())
    assert early and out.hotel_check_in == check_in.isoformat(), "the policy's own date"
    server.script(
        add(*_searches(trip, 0)),
        add(*_bookings(inventory, trip, [out, back], check_in), **finish("completed", "booked")),
    )
    values = await _run(server, data_dir, trip)

    assert server.calls == 2 and server.left == 0 and not server.errors
    assert values["status"] == "completed", values["reason"]
    assert "options.0.hotel_check_in" in prompt_of(server.requests[0]), "the model is told how"
    # The stay and car searches ran before the second call, with the dates the flight implies.
    second = prompt_of(server.requests[1])
    assert "r1-hotel" in second and "r1-car" in second
    found = {t: values["results"][values["tasks"][t]["result_ref"]]["output"] for t in _STAYS}
    assert {o["check_in"] for o in found["r1-hotel"]["options"]} == {check_in.isoformat()}
    assert {o["pick_up"] for o in found["r1-car"]["options"]} == {out.car_pick_up}
    # The board shows the dates the searches ran with, not the references.
    assert values["tasks"]["r1-hotel"]["inputs"]["check_in"] == check_in.isoformat()
    assert values["tasks"]["r1-car"]["inputs"]["pick_up"] == out.car_pick_up
    assert out.car_pick_up == out.arrive_local[:10]
    booked = {b.kind: b for b in inventory.bookings("stays") if b.status == "confirmed"}
    assert booked["hotel"].details["check_in"] == check_in.isoformat()
    assert booked["hotel"].details["check_out"] == check_out.isoformat()
    assert booked["car"].details["pick_up"] == out.arrive_local[:10]


async def test_a_stay_that_follows_another_flight_than_the_one_booked_is_not_completed(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    """The stay follows options.1 (lands after 06:00, so no night before), the red-eye
    options.0 is booked: the red-eye's night is uncovered and the verifier refuses the finish."""
    trip, out, back = _red_eye_trip(inventory)
    later = inventory.search_flights("SFO", "CDG", trip.legs[0].date, travelers=2)[1]
    later_check_in = date.fromisoformat(later.hotel_check_in)
    assert later_check_in > date.fromisoformat(out.hotel_check_in)
    server.script(
        add(*_searches(trip, 1)),
        add(
            *_bookings(inventory, trip, [out, back], later_check_in),
            **finish("completed", "booked"),
        ),
        finish("partial", "one night is missing"),
    )
    values = await _run(server, data_dir, trip)

    assert server.calls == 3, "the refused finish brings the planner back"
    assert values["status"] == "partial"
    third = prompt_of(server.requests[2])
    assert f"no room booked for the night(s) of {out.hotel_check_in}" in third
    assert "(the flight lands before 06:00)" in third
