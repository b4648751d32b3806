"""What a trip asks for at each city it stays in: a car (which class, how many), a hotel (which
tier, or none). One reading of the request's wishes for the verifier, the planners and the
approval view, so they cannot disagree.

- A car: where `cars` lists the city (any of its airports), of the wish's class (else the
  trip's `car_class`), `count` cars when given, else enough seats for every traveller
  (`policy.cars_needed`); everywhere when `car` is set; nowhere else.
- A hotel: everywhere the trip stays a night, of the trip's `hotel_tier` unless a `hotels`
  wish for the city names a tier, or says none is wanted there.
"""

from __future__ import annotations

from dataclasses import dataclass

from domains.travel.inventory import AIRPORTS
from domains.travel.models import TripRequest
from domains.travel.policy import CAR_SEATS, car_seats, cars_needed

CITY_OF: dict[str, str] = {a.code: a.city for a in AIRPORTS}


def city_of(code: str) -> str:
    return CITY_OF.get(code.upper(), code.upper())


@dataclass(frozen=True)
class CarNeed:
    """The car a city's stay asks for."""

    car_class: str
    count: int | None
    """Cars asked for; None: enough seats for everyone."""

    def cars(self, car_class: str, travelers: int) -> int:
        """How many cars of `car_class` to book: the count asked, or enough seats for all."""
        return self.count if self.count is not None else cars_needed(car_class, travelers)

    def carries(self, cars: int, seats: int, travelers: int) -> bool:
        """Whether `cars` cars with `seats` seats in all meet it."""
        return cars >= self.count if self.count is not None else seats >= travelers

    def fits(self, car_class: str, cars: int, travelers: int) -> bool:
        return self.carries(cars, cars * car_seats(car_class), travelers)


def car_need(trip: TripRequest, city: str) -> CarNeed | None:
    """The car wanted in `city`, or None when no car is wanted there."""
    for wish in trip.cars:
        if city_of(wish.airport) == city:
            return CarNeed(wish.car_class or trip.car_class, wish.count)
    if trip.car:
        return CarNeed(trip.car_class, None)
    return None


def hotel_tier(trip: TripRequest, city: str) -> int | None:
    """The tier of hotel wanted in `city`; None when no hotel is wanted there."""
    for wish in trip.hotels:
        if city_of(wish.airport) == city:
            return (wish.tier or trip.hotel_tier) if wish.wanted else None
    return trip.hotel_tier


def wants_cars(trip: TripRequest) -> bool:
    return trip.car or bool(trip.cars)


def cars_rule(travelers: int) -> str:
    """How many cars of each class seat `travelers`: '3 economy, 2 compact, ...'."""
    return ", ".join(f"{cars_needed(cls, travelers)} {cls}" for cls in CAR_SEATS)


def cars_wanted(trip: TripRequest) -> str | dict[str, str] | None:
    """What a planner is told about cars: the cars for everyone at every destination (`car`),
    or per airport of a `cars` wish the count and class asked, or the seats rule; None: no car
    anywhere."""
    if trip.car:
        return cars_rule(trip.travelers)
    return {
        w.airport.upper(): (
            f"{w.count} {w.car_class or trip.car_class}"
            if w.count is not None
            else f"{w.car_class or trip.car_class}, seats for all: {cars_rule(trip.travelers)}"
        )
        for w in trip.cars
    } or None


def car_booking_problem(trip: TripRequest, airport: str, car_class: str, quantity: int) -> str:
    """Why booking `quantity` cars of `car_class` at `airport` is not what the trip asks ('' when
    it is): no car is wanted in that city, or more cars than asked for (or than seat everyone)."""
    city = city_of(airport)
    need = car_need(trip, city)
    if need is None:
        where = ", ".join(w.airport.upper() for w in trip.cars) or "no airport"
        return f"no car is wanted in {city}: the request asks for cars at {where} only"
    most = need.cars(car_class, trip.travelers)
    if quantity <= most:
        return ""
    if need.count is not None:
        return f"{quantity} {car_class} cars at {airport}; {need.count} asked for there"
    return f"{quantity} {car_class} cars for {trip.travelers} traveller(s); {most} seat everyone"


def counts_seats(trip: TripRequest, airport: str) -> bool:
    """Whether the cars at `airport` must seat every traveller (no count asked for there)."""
    need = car_need(trip, city_of(airport))
    return need is not None and need.count is None
