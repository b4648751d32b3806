"""Building and checking a `TripRequest` from what a person typed, before anything is written."""

from __future__ import annotations

import math
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from domains.travel.inventory import AIRPORTS, clock
from domains.travel.models import CarWish, HotelWish, Leg, TripRequest
from domains.travel.services import existing_inventory
from domains.travel.wishes import wishes_problem

WINDOW_DAYS = 365


class TripInputError(ValueError):
    """A trip that cannot be planned as asked; the message says how to fix it."""


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TripInputError(f"{what} {text!r} is not a date: use YYYY-MM-DD") from None


def make_leg(origin: str, destination: str, day: date) -> Leg:
    """A leg between two airport codes; `TripInputError` when a code is not three letters."""
    for code in (origin, destination):
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise TripInputError(
                f"{code!r} is not an airport code: use a three-letter IATA code such as SFO, "
                "JFK, CDG or LHR (`orchestrator airports` lists them all)"
            )
    return Leg(origin=origin.upper(), destination=destination.upper(), date=day)


def parse_leg(text: str) -> Leg:
    """`SFO-CDG:2027-01-10` -> a leg."""
    route, sep, day = text.partition(":")
    origin, dash, destination = route.partition("-")
    if not (sep and dash and origin and destination) or "-" in destination:
        raise TripInputError(
            f"leg {text!r} is not FROM-TO:DATE, e.g. SFO-CDG:2027-01-10 (one leg per --leg)"
        )
    return make_leg(origin, destination, parse_day(day, "date"))


def inventory_window(data_dir: str) -> tuple[date, date]:
    """The bookable dates: those of the existing inventory from today on (`Inventory.window`),
    or those a new one would have."""
    inventory = existing_inventory(data_dir)
    if inventory is not None:
        return inventory.window()
    today = clock.today()
    return today, today + timedelta(days=WINDOW_DAYS - 1)


_ZONES = {a.code: ZoneInfo(a.tz) for a in AIRPORTS}


def check_trip(trip: TripRequest, window: tuple[date, date]) -> None:
    """Known airports, and every leg's date inside `window` (the bookable dates, from today on:
    `inventory_window`) and not in the past. A leg's date is its local date at the origin, so
    it is in the past once it is before today there or here (`clock.today()`, what `+0`
    means): whichever comes later."""
    for leg in trip.legs:
        for code in (leg.origin, leg.destination):
            if code.upper() not in _ZONES:
                raise TripInputError(
                    f"unknown airport {code!r}: use an IATA code such as SFO, JFK, CDG or LHR "
                    "(`orchestrator airports` lists them all)"
                )
        today = max(clock.today(), clock.today_in(_ZONES[leg.origin.upper()]))
        first, last = max(window[0], today), window[1]
        if leg.date < today or not window[0] <= leg.date <= last:
            raise TripInputError(_not_bookable(leg.date, today, first, last))
    check_wishes(trip)


def _not_bookable(day: date, today: date, first: date, last: date) -> str:
    """One line: why `day` cannot be booked, and which dates can."""
    problem = f"{day} is in the past, outside" if day < today else f"{day} is outside"
    if first > last:
        return (
            f"{problem} the inventory window: its last day, {last}, is in the past, so nothing "
            "in it can be booked any more; use a fresh data directory for a new one"
        )
    return f"{problem} the inventory window: the inventory can book from {first} to {last}"


def check_wishes(trip: TripRequest) -> None:
    """Each car or hotel wish names a known airport of a city the trip stays in (lands in and
    flies on from), once: `wishes.wishes_problem`, which `TripRequest`'s validator runs too;
    checked again here for a request built without validation (`model_construct`)."""
    if problem := wishes_problem(trip):
        raise TripInputError(problem)


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
    open_jaw: bool = False,
    cars: list[CarWish] | None = None,
    hotels: list[HotelWish] | None = None,
) -> TripRequest:
    if travelers < 1:
        raise TripInputError(f"--travelers must be at least 1, got {travelers}")
    check_budget(budget)
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
                "open_jaw": open_jaw,
                "cars": [w.model_dump() for w in cars or []],
                "hotels": [w.model_dump() for w in hotels or []],
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise TripInputError(f"{where + ': ' if where else ''}{message}") from None
    check_trip(trip, window)
    return trip


def check_budget(budget: float | None, flag: str = "--budget") -> None:
    """A budget is a finite number of USD, zero or more (`inf`, `1e400` and `nan` are not)."""
    if budget is None:
        return
    if not math.isfinite(budget):
        raise TripInputError(f"{flag} must be a finite amount in USD, got {budget:g}")
    if budget < 0:
        raise TripInputError(f"{flag} cannot be negative, got {budget:g}")


def round_trip_legs(origin: str, destination: str, depart: date, back: date | None) -> list[Leg]:
    if back is not None and back < depart:
        raise TripInputError(f"--return {back} is before --depart {depart}: swap or fix the dates")
    legs = [make_leg(origin, destination, depart)]
    if back is not None:
        legs.append(make_leg(destination, origin, back))
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
