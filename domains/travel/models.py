"""Typed travel records shared by the inventory, the workers, the planner and the synthesizer.

All are pydantic models with JSON-native fields (dates and times as ISO strings) so they can be
stored in checkpoints as plain dicts and re-validated at node boundaries.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from domains.travel.policy import arrival, lands_early

Cabin = Literal["economy", "premium", "business"]
CarClass = Literal["economy", "compact", "midsize", "suv", "luxury"]
BookingKind = Literal["flight", "hotel", "car"]


class Airport(BaseModel):
    code: str = Field(description="IATA code, e.g. 'SFO'.")
    name: str
    city: str = Field(description="City the airport serves, e.g. 'Paris'.")
    country: str
    tz: str = Field(description="IANA time zone, e.g. 'Europe/Paris'.")


class FlightOption(BaseModel):
    id: str = Field(description="Bookable flight instance id (flight number and date).")
    flight_no: str
    origin: str
    destination: str
    depart_local: str = Field(description="Local departure time at the origin, ISO with offset.")
    arrive_local: str = Field(description="Local arrival time at the destination, ISO with offset.")
    duration_min: int
    cabin: Cabin
    price: float = Field(description="Price per traveller, USD.")
    seats_left: int
    red_eye: bool = Field(description="Lands between 00:00 and 06:00 local time.")

    # Computed by the same rule the verifier checks (`policy.stay_dates`), so a stay or car
    # search can take its dates from the flight it follows: `{"$ref": <flight search>,
    # "path": "options.0.hotel_check_in"}` plans it in the same round as the flights.
    @computed_field(  # type: ignore[prop-decorator]
        description="Check-in of a stay after this flight: the arrival date, or the day "
        "before for a red-eye (the room is needed from the night before)."
    )
    @property
    def hotel_check_in(self) -> str:
        landing = {"arrive_local": self.arrive_local}
        day = arrival(landing).date()
        return (day - timedelta(days=1) if lands_early(landing) else day).isoformat()

    @computed_field(  # type: ignore[prop-decorator]
        description="Pick-up date of a car at the arrival airport: the local arrival date."
    )
    @property
    def car_pick_up(self) -> str:
        return self.arrive_local[:10]


class HotelOption(BaseModel):
    id: str = Field(description="Bookable stay id (hotel and dates).")
    hotel_id: str
    name: str
    city: str
    tier: int = Field(ge=1, le=5, description="Stars, 1 (budget) to 5 (luxury).")
    check_in: str
    check_out: str
    nights: int
    rooms: int
    price_per_night: float = Field(description="Per room, USD.")
    total_price: float = Field(description="All rooms, all nights, USD.")
    rooms_left: int = Field(description="Fewest rooms free on any night of the stay.")
    description: str = ""


class CarOption(BaseModel):
    id: str = Field(description="Bookable rental id (airport, class and dates).")
    airport: str
    car_class: CarClass
    pick_up: str
    drop_off: str
    days: int
    price_per_day: float
    total_price: float
    cars_left: int


class Booking(BaseModel):
    ref: str = Field(description="Booking reference shown to the traveller.")
    key: str = Field(description="Idempotency key: thread, run, scope and task.")
    kind: BookingKind
    item_id: str
    quantity: int
    total_price: float
    status: Literal["confirmed", "cancelled"]
    thread_id: str
    task_id: str
    created_at: str
    description: str = ""
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What was booked, read from the inventory at booking time: for a flight "
        "flight_no, origin, destination, depart_local, arrive_local, cabin, red_eye, travelers, "
        "fare; for a hotel name, city, tier, check_in, check_out, nights, rooms; for a car "
        "airport, car_class, pick_up, drop_off, days, cars, price_per_car.",
    )
    inventory_id: str = Field(
        default="",
        description="Identity of the inventory the booking was made in ('' in old records).",
    )


class Leg(BaseModel):
    """One flight leg of a trip: from an airport (or city) to another, on a date."""

    origin: str = Field(description="IATA airport code.", min_length=3, max_length=3)
    destination: str = Field(description="IATA airport code.", min_length=3, max_length=3)
    date: date


MAX_LEGS = 8
"""The most flight legs one trip request holds."""
MAX_WISHES = 8
"""The most per-destination car (or hotel) wishes one trip request holds."""
NOTE_CHARS = 200
"""The longest note: one short phrase."""
SAID_CHARS = 2000
"""The longest request text kept in `said` (and sent to a model to read)."""

Note = Annotated[str, StringConstraints(max_length=NOTE_CHARS)]
AirportCode = Annotated[str, StringConstraints(min_length=3, max_length=3)]


class CarWish(BaseModel):
    """A rental car wanted in one city the trip stays in (and only there, unless `car`)."""

    model_config = ConfigDict(extra="forbid")

    airport: AirportCode = Field(
        description="IATA code of an airport of the destination city, e.g. 'FCO' for Rome (any "
        "airport of the city names the city)."
    )
    car_class: CarClass | None = Field(
        default=None,
        description="The class preferred there; null: the trip's car_class. A preference: "
        "another class is booked when this one is sold out.",
    )
    count: int | None = Field(
        default=None,
        ge=1,
        le=9,
        description="How many cars, exactly, when the request says; null: enough seats for "
        "every traveller.",
    )


class HotelWish(BaseModel):
    """What is wanted of the stay in one city the trip stays in: a hotel tier, or no hotel."""

    model_config = ConfigDict(extra="forbid")

    airport: AirportCode = Field(
        description="IATA code of an airport of the destination city (any airport of the city "
        "names the city)."
    )
    tier: int | None = Field(
        default=None, ge=1, le=5, description="Stars wanted there; null: the trip's hotel_tier."
    )
    wanted: bool = Field(
        default=True,
        description="False: no hotel there (e.g. staying with friends); nothing is booked and "
        "none is required.",
    )


MAX_BUDGET = 10_000_000.0
"""The largest budget a request may give, USD: far above any trip the inventory sells (nine
travellers, eight legs in business class and luxury hotels), and small enough to print."""


class TripRequest(BaseModel):
    """The structured trip the offline CLI fills and the LLM extracts from free text."""

    legs: list[Leg] = Field(
        min_length=1, max_length=MAX_LEGS, description="Flight legs in travel order."
    )
    travelers: int = Field(default=1, ge=1, le=9)
    budget: float | None = Field(
        default=None,
        ge=0,
        le=MAX_BUDGET,
        allow_inf_nan=False,
        description="Total budget in USD, or null for none.",
    )
    cabin: Cabin = "economy"
    hotel_tier: int = Field(default=3, ge=1, le=5, description="Preferred hotel stars.")
    car: bool = Field(
        default=False,
        description="Rent a car at every destination (of car_class, seats for all). For cars at "
        "some destinations only, or a number of cars, leave it false and list them in cars.",
    )
    car_class: CarClass = "compact"
    cars: list[CarWish] = Field(
        default_factory=list,
        max_length=MAX_WISHES,
        description="Cars wanted at some destinations only, one entry per city (e.g. "
        "'a car only in Paris', 'two SUVs in Rome'). Only a city the trip stays in: where a "
        "leg lands and the next leg leaves from, never the first origin or the last "
        "destination. No car is booked where none is listed.",
    )
    hotels: list[HotelWish] = Field(
        default_factory=list,
        max_length=MAX_WISHES,
        description="A hotel tier wanted in one city the trip stays in (where a leg lands and "
        "the next leaves from), or no hotel there; one entry per city; every other stay gets a "
        "hotel_tier hotel.",
    )
    open_jaw: bool = Field(
        default=False,
        description="The legs need not connect: a leg may leave from somewhere other than where "
        "the previous one landed (an open jaw, e.g. into Paris and home from Rome), on purpose. "
        "Without it, every leg must start where the previous leg ended.",
    )

    notes: list[Note] = Field(
        default_factory=list,
        max_length=8,
        description="What the request asks that no other field holds, one short phrase each "
        "(e.g. 'a car only in Paris', 'keep it cheap', '5 nights in Rome', 'hotel near the "
        "Louvre'). The planner reads them; nothing checks them.",
    )
    said: SkipJsonSchema[str | None] = Field(
        default=None,
        max_length=SAID_CHARS,
        description="The traveller's request in their own words, as typed (set by the reader, "
        "not by the model).",
    )

    @model_validator(mode="after")
    def _legs_in_order(self) -> TripRequest:
        for before, after in zip(self.legs, self.legs[1:], strict=False):
            if after.date < before.date:
                raise ValueError(
                    f"leg {after.origin}-{after.destination} on {after.date} departs before "
                    f"the previous leg on {before.date}"
                )
            if not self.open_jaw and after.origin.upper() != before.destination.upper():
                raise ValueError(
                    f"leg {after.origin}-{after.destination} does not start where the previous "
                    f"leg {before.origin}-{before.destination} ends: fix the route, or say it "
                    "is an open jaw on purpose (open_jaw, --open-jaw)"
                )
        for leg in self.legs:
            if leg.origin.upper() == leg.destination.upper():
                raise ValueError(f"leg {leg.origin}-{leg.destination} goes nowhere")
        if self.car and self.cars:
            raise ValueError(
                "car (a car at every destination) and cars (cars at some destinations) are both "
                "given: list every destination that needs a car in cars and leave car false, or "
                "give car alone"
            )
        # Read lazily: `wishes` reads this module (and the airports, which do too).
        from domains.travel.wishes import wishes_problem

        if problem := wishes_problem(self):
            raise ValueError(problem)
        return self

    @property
    def rooms(self) -> int:
        """Rooms needed: two travellers share a room."""
        return (self.travelers + 1) // 2

    def goal(self) -> str:
        route = " -> ".join([self.legs[0].origin, *[leg.destination for leg in self.legs]])
        budget = f", budget ${self.budget:,.0f}" if self.budget is not None else ""
        first, last = self.legs[0].date, self.legs[-1].date
        when = f"on {first}" if first == last else f"from {first} to {last}"
        return f"Book a trip {route} {when} for {self.travelers} traveller(s){budget}"
