"""Worker: search rental cars at one airport for a range of days."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domains.travel.models import CarClass, CarOption
from domains.travel.services import with_inventory
from domains.travel.workers.search_common import (
    StrictInput,
    last_night,
    limit_field,
    offset_field,
    page,
    shown,
    within_window,
)
from orchestrator.workers import WorkerCall, WorkerSpec


class SearchCarsInput(StrictInput):
    airport: str = Field(min_length=3, max_length=3)
    pick_up: date
    drop_off: date
    car_class: CarClass | None = Field(default=None, description="A class, or any.")
    limit: int = limit_field()
    offset: int = offset_field()


class CarsFound(BaseModel):
    airport: str
    pick_up: date
    drop_off: date
    car_class: CarClass | None
    options: list[CarOption]
    total: int = Field(default=0, description="Car classes free on every day, in all.")
    offset: int = 0


async def search_cars(inputs: SearchCarsInput, call: WorkerCall) -> CarsFound:
    await within_window(call, inputs.pick_up, last_night(inputs.drop_off, inputs.pick_up))
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
        options=page(options, inputs.limit, inputs.offset),
        total=len(options),
        offset=inputs.offset,
    )


def summarize(found: CarsFound) -> str:
    where = f"at {found.airport} {found.pick_up}..{found.drop_off}"
    if not found.options:
        return f"no {found.car_class or ''} cars free {where}".replace("  ", " ")
    best = found.options[0]
    count = shown(len(found.options), found.total or len(found.options), found.offset)
    return f"{count} cars {where} shown; cheapest {best.car_class} ${best.total_price:,.0f}"


SEARCH_CARS = WorkerSpec(
    name="search_cars",
    description="Finds rental cars at an airport free on every day of a rental, cheapest first.",
    input_model=SearchCarsInput,
    output_model=CarsFound,
    run=search_cars,
    summarize=summarize,
)
