"""Worker: search the flights of one leg on one day."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domains.travel.models import Cabin, FlightOption
from domains.travel.services import with_inventory
from orchestrator.workers import WorkerCall, WorkerSpec


class SearchFlightsInput(BaseModel):
    origin: str = Field(min_length=3, max_length=3, description="IATA code of the origin.")
    destination: str = Field(
        min_length=3, max_length=3, description="IATA code of the destination."
    )
    date: date
    travelers: int = Field(default=1, ge=1, le=9)
    cabin: Cabin = "economy"
    max_results: int = Field(default=6, ge=1, le=20)


class FlightsFound(BaseModel):
    origin: str
    destination: str
    date: date
    options: list[FlightOption]


async def search_flights(inputs: SearchFlightsInput, call: WorkerCall) -> FlightsFound:
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
    return FlightsFound(
        origin=inputs.origin,
        destination=inputs.destination,
        date=inputs.date,
        options=options[: inputs.max_results],
    )


def summarize(found: FlightsFound) -> str:
    route = f"{found.origin}->{found.destination} on {found.date}"
    if not found.options:
        return f"no flights with free seats {route}"
    best = found.options[0]
    red_eyes = sum(o.red_eye for o in found.options)
    return (
        f"{len(found.options)} flights {route}; cheapest {best.flight_no} ${best.price:,.0f} "
        f"departs {best.depart_local[11:16]} arrives {best.arrive_local[11:16]}"
        + (f"; {red_eyes} red-eye" if red_eyes else "")
    )


SEARCH_FLIGHTS = WorkerSpec(
    name="search_flights",
    description="Finds flights with free seats for one leg on one day, cheapest first.",
    input_model=SearchFlightsInput,
    output_model=FlightsFound,
    run=search_flights,
    summarize=summarize,
)
