"""The LLM planner flies a route that is not served as a one-stop connection, over real HTTP to
the scripted model, with real workers and inventory: the search says "route not served" and
names hubs, the model books both flights of each connection, and the verifier completes it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import FlightOption, Leg, TripRequest
from domains.travel.policy import choose_connection
from graph import build_graph, open_checkpointer
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import add, finish, llm_context, prompt_of, run, task


def _connection(
    inventory: Inventory, origin: str, hub: str, destination: str, day: date
) -> tuple[FlightOption, FlightOption]:
    """The pair a sensible model books from the first ten options of each segment's search."""
    firsts = inventory.search_flights(origin, hub, day)[:10]
    days = {
        date.fromisoformat(f.arrive_local[:10]) + timedelta(days=n) for f in firsts for n in (0, 1)
    }
    seconds = [o for d in sorted(days) for o in inventory.search_flights(hub, destination, d)[:10]]
    pair = choose_connection([f.model_dump() for f in firsts], [s.model_dump() for s in seconds], 1)
    assert pair is not None, f"no connection {origin}->{hub}->{destination} on {day}"
    by_id = {o.id: o for o in [*firsts, *seconds]}
    return by_id[pair[0]["id"]], by_id[pair[1]["id"]]


def _search(task_id: str, flight: FlightOption) -> dict[str, Any]:
    return task(
        task_id,
        "search_flights",
        origin=flight.origin,
        destination=flight.destination,
        date=flight.depart_local[:10],
        limit=10,
    )


async def test_the_llm_planner_books_a_connection_and_the_trip_completes(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    out_day = inventory.window()[0] + timedelta(days=30)
    back_day = out_day + timedelta(days=5)
    trip = TripRequest(
        legs=[
            Leg(origin="ORD", destination="BCN", date=out_day),
            Leg(origin="BCN", destination="ORD", date=back_day),
        ]
    )
    out = _connection(inventory, "ORD", "CDG", "BCN", out_day)
    back = _connection(inventory, "BCN", "MAD", "ORD", back_day)
    check_in, check_out = out[1].arrive_local[:10], back[0].depart_local[:10]
    stay = inventory.search_hotels(
        "Barcelona", date.fromisoformat(check_in), date.fromisoformat(check_out)
    )[0]
    flights = [*out, *back]
    server.script(
        add(
            task("r1-out", "search_flights", origin="ORD", destination="BCN", date=str(out_day)),
            task("r1-back", "search_flights", origin="BCN", destination="ORD", date=str(back_day)),
        ),
        add(*[_search(f"r2-{n}", f) for n, f in enumerate(flights, 1)]),
        add(
            task(
                "r3-hotel",
                "search_hotels",
                city="Barcelona",
                check_in=check_in,
                check_out=check_out,
                rooms=1,
            )
        ),
        add(
            *[
                task(f"r4-flight-{n}", "book", kind="flight", item_id=f.id, quantity=1)
                for n, f in enumerate(flights, 1)
            ],
            task("r4-hotel", "book", kind="hotel", item_id=stay.id, quantity=1),
        ),
        finish("completed", "both legs flown via a hub, hotel booked"),
    )
    context = llm_context(server, data_dir=str(data_dir))

    async with open_checkpointer(str(data_dir / "checkpoints.sqlite")) as saver:
        outcome = await run(
            build_graph(travel_domain(), checkpointer=saver),
            context,
            goal=trip.goal(),
            request=trip.model_dump(mode="json"),
            thread="via-hub",
        )

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    assert values["reason"].startswith("all 5 items booked (4 flights, 1 hotel)")
    booked = inventory.bookings("via-hub")
    assert sorted(b.item_id for b in booked) == sorted([*(f.id for f in flights), stay.id])
    assert all(b.status == "confirmed" for b in booked)
    connections = values["answer"]["data"]["connections"]
    assert [c["route"] for c in connections] == [["ORD", "CDG", "BCN"], ["BCN", "MAD", "ORD"]]
    summary = values["answer"]["summary"]
    assert "Leg 1 ORD → CDG → BCN: connection at CDG" in summary
    assert "Leg 2 BCN → MAD → ORD: connection at MAD" in summary
    first_prompt = prompt_of(server.requests[0])
    assert "two flights via one hub" in first_prompt, "the rules say a leg may connect"
    round2 = prompt_of(server.requests[1])
    assert "route not served" in round2 and "one stop via" in round2
