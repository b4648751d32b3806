"""Worker: search the flights of one leg on one day.

Only flights still to leave are offered (`Inventory.search_flights` drops those whose departure
is earlier than `clock.now()`): on a day whose flights have all left, the answer says so
(`departed`), rather than "sold out" or "route not served"."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

from domains.travel.inventory import Inventory
from domains.travel.models import Cabin, FlightOption
from domains.travel.policy import MAX_CONNECTION, MIN_CONNECTION
from domains.travel.services import with_inventory
from domains.travel.workers.search_common import (
    StrictInput,
    limit_field,
    offset_field,
    page,
    shown,
    within_window,
)
from orchestrator.workers import WorkerCall, WorkerSpec


class SearchFlightsInput(StrictInput):
    origin: str = Field(min_length=3, max_length=3, description="IATA code of the origin.")
    destination: str = Field(
        min_length=3, max_length=3, description="IATA code of the destination."
    )
    date: date
    travelers: int = Field(default=1, ge=1, le=9)
    cabin: Cabin = "economy"
    limit: int = limit_field()
    offset: int = offset_field()


class FlightsFound(BaseModel):
    origin: str
    destination: str
    date: date
    options: list[FlightOption]
    total: int = Field(default=0, description="Flights with enough free seats, in all.")
    offset: int = 0
    scheduled: int | None = Field(
        default=None,
        description="Flights still to leave on the route that day, full or not (0: not served).",
    )
    departed: bool = Field(
        default=False,
        description="The route is served, but every flight on it that day has already left.",
    )
    hubs: list[str] = Field(
        default_factory=list,
        description="When the route is not served: airports with a flight from the origin that "
        "day and one on to the destination that day or the next (a one-stop route).",
    )


async def search_flights(inputs: SearchFlightsInput, call: WorkerCall) -> FlightsFound:
    await within_window(call, inputs.date, inputs.date)
    options = await with_inventory(
        call,
        lambda inv: inv.search_flights(
            inputs.origin,
            inputs.destination,
            inputs.date,
            travelers=inputs.travelers,
            cabin=inputs.cabin,
        ),
    )
    scheduled = None
    departed = False
    if not options:
        # Nothing with seats: a full route and a route not served that day call for different
        # next steps (another day or cabin, versus another airport or a connection).
        scheduled = len(
            await with_inventory(
                call,
                lambda inv: inv.search_flights(
                    inputs.origin,
                    inputs.destination,
                    inputs.date,
                    travelers=inputs.travelers,
                    cabin=inputs.cabin,
                    include_full=True,
                ),
            )
        )
        if scheduled == 0:
            # A served route flies every day of the window: nothing left means all have left.
            route = (inputs.origin.upper(), inputs.destination.upper())
            departed = route in await with_inventory(call, lambda inv: inv.served_routes())
            scheduled = None if departed else 0
    hubs: list[str] = []
    if scheduled == 0:
        hubs = await with_inventory(
            call, lambda inv: one_stop_hubs(inv, inputs.origin, inputs.destination, inputs.date)
        )
    return FlightsFound(
        origin=inputs.origin,
        destination=inputs.destination,
        date=inputs.date,
        options=page(options, inputs.limit, inputs.offset),
        total=len(options),
        offset=inputs.offset,
        scheduled=scheduled,
        departed=departed,
        hubs=hubs,
    )


MAX_HUBS = 3


def one_stop_hubs(inv: Inventory, origin: str, destination: str, day: date) -> list[str]:
    """Airports served from `origin` on `day` that serve `destination` that day or the next,
    the busiest first. The segments are separate flights, each its own booking: the policy's
    connection rules (`domains.travel.policy.connects`) say which pairs make a leg.

    The candidates come from the inventory's routes (one query, cached), so only they are
    searched on the day: a handful of searches, not two per airport."""
    origin, destination = origin.upper(), destination.upper()
    routes = inv.served_routes()
    candidates = sorted(
        hub
        for hub in {d for o, d in routes if o == origin}
        if hub != destination and (hub, destination) in routes
    )
    found: list[tuple[int, str]] = []
    for hub in candidates:
        first = inv.search_flights(origin, hub, day, include_full=True)
        if not first:
            continue
        second = inv.search_flights(hub, destination, day, include_full=True) or (
            inv.search_flights(hub, destination, day + timedelta(days=1), include_full=True)
        )
        if second:
            found.append((-(len(first) + len(second)), hub))
    return [hub for _n, hub in sorted(found)[:MAX_HUBS]]


def summarize(found: FlightsFound) -> str:
    route = f"{found.origin}->{found.destination} on {found.date}"
    if not found.options:
        if found.departed:
            return (
                f"too late: every flight {route} has already left; try a later day (or another "
                "airport)"
            )
        if found.scheduled == 0:
            minutes = int(MIN_CONNECTION.total_seconds() // 60)
            hours = int(MAX_CONNECTION.total_seconds() // 3600)
            via = (
                f"one stop via {', '.join(found.hubs)} (separate flights: search each segment, "
                f"the second leaving {minutes} min to {hours} h after the first lands, and "
                "book both)"
                if found.hubs
                else "no one-stop route either"
            )
            return f"route not served: no flight is scheduled {route} (not sold out); {via}"
        if found.scheduled:
            return (
                f"sold out: all {found.scheduled} flight(s) {route} are full for the party; "
                "try another day or cabin"
            )
        if found.total:
            return f"no more flights {route}: {found.total} in all, offset {found.offset}"
        return f"no flights with free seats {route}"
    best = found.options[0]
    red_eyes = sum(o.red_eye for o in found.options)
    count = shown(len(found.options), found.total or len(found.options), found.offset)
    return (
        f"{count} flights {route} shown; cheapest {best.flight_no} ${best.price:,.0f} "
        f"departs {best.depart_local[11:16]} arrives {best.arrive_local[11:16]}"
        + (f"; {red_eyes} red-eye" if red_eyes else "")
    )


SEARCH_FLIGHTS = WorkerSpec(
    name="search_flights",
    description="Finds flights with free seats for one leg on one day, cheapest first; "
    "says how many match, and whether an empty result is a sold-out or an unserved route.",
    input_model=SearchFlightsInput,
    output_model=FlightsFound,
    run=search_flights,
    summarize=summarize,
)
