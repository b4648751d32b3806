"""Worker: search rental cars at one airport for a range of days."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domains.travel.models import CarClass, CarOption
from domains.travel.services import with_inventory
from orchestrator.workers import WorkerCall, WorkerSpec


class SearchCarsInput(BaseModel):
    airport: str = Field(min_length=3, max_length=3)
    pick_up: date
    drop_off: date
    car_class: CarClass | None = Field(default=None, description="A class, or any.")
    max_results: int = Field(default=6, ge=1, le=20)


class CarsFound(BaseModel):
    airport: str
    pick_up: date
    drop_off: date
    car_class: CarClass | None
    options: list[CarOption]


async def search_cars(inputs: SearchCarsInput, call: WorkerCall) -> CarsFound:
    options = await with_inventory(
        call,
        lambda inv: inv.search_cars(
            inputs.airport, inputs.pick_up, inputs.drop_off, car_class=inputs.car_class
        ),
    )
    return CarsFound(
        airport=inputs.airport,
        pick_up=inputs.pick_up,
        drop_off=inputs.drop_off,
        car_class=inputs.car_class,
        options=options[: inputs.max_results],
    )


def summarize(found: CarsFound) -> str:
    where = f"at {found.airport} {found.pick_up}..{found.drop_off}"
    if not found.options:
        return f"no {found.car_class or ''} cars free {where}".replace("  ", " ")
    best = found.options[0]
    return f"{len(found.options)} cars {where}; cheapest {best.car_class} ${best.total_price:,.0f}"


SEARCH_CARS = WorkerSpec(
    name="search_cars",
    description="Finds rental cars at an airport free on every day of a rental, cheapest first.",
    input_model=SearchCarsInput,
    output_model=CarsFound,
    run=search_cars,
    summarize=summarize,
)
