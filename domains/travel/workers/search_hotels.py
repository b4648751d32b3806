"""Worker: search hotel stays in one city for a range of nights."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, model_validator

from domains.travel.models import HotelOption
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


class SearchHotelsInput(StrictInput):
    city: str = Field(min_length=1, max_length=80, description="City name, e.g. 'Paris'.")
    check_in: date
    check_out: date
    rooms: int = Field(default=1, ge=1, le=9)
    tier: int | None = Field(default=None, ge=1, le=5, description="Exact stars, or any.")
    limit: int = limit_field()
    offset: int = offset_field()

    @model_validator(mode="after")
    def _at_least_one_night(self) -> SearchHotelsInput:
        if self.check_out <= self.check_in:
            raise ValueError("check_out must be after check_in")
        return self


class HotelsFound(BaseModel):
    city: str
    check_in: date
    check_out: date
    tier: int | None
    options: list[HotelOption]
    total: int = Field(default=0, description="Stays free on every night, in all.")
    offset: int = 0


async def search_hotels(inputs: SearchHotelsInput, call: WorkerCall) -> HotelsFound:
    await within_window(call, inputs.check_in, last_night(inputs.check_out, inputs.check_in))
    options = await with_inventory(
        call,
        lambda inv: inv.search_hotels(
            inputs.city, inputs.check_in, inputs.check_out, rooms=inputs.rooms, tier=inputs.tier
        ),
    )
    return HotelsFound(
        city=inputs.city,
        check_in=inputs.check_in,
        check_out=inputs.check_out,
        tier=inputs.tier,
        options=page(options, inputs.limit, inputs.offset),
        total=len(options),
        offset=inputs.offset,
    )


def summarize(found: HotelsFound) -> str:
    stay = f"in {found.city} {found.check_in}..{found.check_out}"
    tier = f" at {found.tier} stars" if found.tier else ""
    if not found.options:
        return f"no rooms free{tier} {stay}"
    best = found.options[0]
    # Names and numbers only: hotel descriptions are third-party text, kept out of summaries.
    return (
        f"{shown(len(found.options), found.total or len(found.options), found.offset)} "
        f"hotels{tier} {stay} shown; cheapest {best.name} "
        f"${best.total_price:,.0f} for {best.nights} nights"
    )


SEARCH_HOTELS = WorkerSpec(
    name="search_hotels",
    description="Finds hotels in a city with rooms free on every night of a stay, cheapest first.",
    input_model=SearchHotelsInput,
    output_model=HotelsFound,
    run=search_hotels,
    summarize=summarize,
)
