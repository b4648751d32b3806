"""Building and checking a `TripRequest` from what a person typed, before anything is written."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from pydantic import ValidationError

from domains.travel.inventory import AIRPORTS, Inventory
from domains.travel.models import Leg, TripRequest
from domains.travel.services import INVENTORY_FILE

WINDOW_DAYS = 365


class TripInputError(ValueError):
    """A trip that cannot be planned as asked; the message says how to fix it."""


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TripInputError(f"{what} {text!r} is not a date: use YYYY-MM-DD") from None


def parse_leg(text: str) -> Leg:
    """`SFO-CDG:2027-01-10` -> a leg."""
    route, sep, day = text.partition(":")
    origin, dash, destination = route.partition("-")
    if not (sep and dash and origin and destination):
        raise TripInputError(f"leg {text!r} is not FROM-TO:DATE, e.g. SFO-CDG:2027-01-10")
    return Leg(origin=origin.upper(), destination=destination.upper(), date=parse_day(day, "date"))


def inventory_window(data_dir: str) -> tuple[date, date]:
    """The bookable dates: those of the existing inventory, or those a new one would have."""
    path = Path(data_dir) / INVENTORY_FILE
    if path.exists():
        return Inventory.open(path).window()
    today = date.today()
    return today, today + timedelta(days=WINDOW_DAYS - 1)


def check_trip(trip: TripRequest, window: tuple[date, date]) -> None:
    known = {a.code for a in AIRPORTS}
    for leg in trip.legs:
        for code in (leg.origin, leg.destination):
            if code.upper() not in known:
                raise TripInputError(
                    f"unknown airport {code!r}: use an IATA code such as SFO, JFK, CDG or LHR "
                    "(`orchestrator airports` lists them all)"
                )
        if not window[0] <= leg.date <= window[1]:
            raise TripInputError(
                f"{leg.date} is outside the inventory window {window[0]} to {window[1]}: "
                "pick dates inside it"
            )


def build_trip(
    *,
    legs: list[Leg],
    travelers: int,
    budget: float | None,
    cabin: str,
    hotel_tier: int,
    car: bool,
    car_class: str,
    window: tuple[date, date],
) -> TripRequest:
    if travelers < 1:
        raise TripInputError(f"--travelers must be at least 1, got {travelers}")
    if budget is not None and budget < 0:
        raise TripInputError(f"--budget cannot be negative, got {budget:g}")
    try:
        trip = TripRequest.model_validate(
            {
                "legs": [leg.model_dump() for leg in legs],
                "travelers": travelers,
                "budget": budget,
                "cabin": cabin,
                "hotel_tier": hotel_tier,
                "car": car,
                "car_class": car_class,
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise TripInputError(f"{where + ': ' if where else ''}{err['msg']}") from None
    check_trip(trip, window)
    return trip


def round_trip_legs(origin: str, destination: str, depart: date, back: date | None) -> list[Leg]:
    if back is not None and back < depart:
        raise TripInputError(f"--return {back} is before --depart {depart}: swap or fix the dates")
    legs = [Leg(origin=origin.upper(), destination=destination.upper(), date=depart)]
    if back is not None:
        legs.append(Leg(origin=destination.upper(), destination=origin.upper(), date=back))
    return legs


def showcase_trip(today: date) -> TripRequest:
    """The demo: a three-city trip whose cheapest good flights include a red-eye."""
    start = today + timedelta(days=45)
    return TripRequest(
        legs=[
            Leg(origin="SFO", destination="JFK", date=start),
            Leg(origin="JFK", destination="CDG", date=start + timedelta(days=3)),
            Leg(origin="CDG", destination="SFO", date=start + timedelta(days=7)),
        ],
        travelers=2,
        budget=7000,
        hotel_tier=4,
        car=True,
    )
