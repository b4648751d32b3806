"""What a trip asks for at each city it stays in: a car (which class, how many), a hotel (which
tier, or none). One reading of the request's wishes for the verifier, the planners and the
approval view, so they cannot disagree.

- Only where the trip stays (`stay_cities`): a city a leg lands in and the next leg leaves
  from. Not the origin, not the final destination of a one-way trip, not a connection's hub
  (a hub is never between two legs). A wish names one such city, once (`wishes_problem`, run by
  `TripRequest`'s validator on every path: CLI flags, LLM extraction, the Python API).
- A car: where `cars` lists the city (any of its airports), `count` cars exactly when given
  (more is as wrong as fewer), else enough seats for every traveller (`policy.cars_needed`);
  everywhere the trip stays when `car` is set; nowhere else. The class (the wish's, else the
  trip's `car_class`) is a preference, not a requirement: the rules planner falls back to any
  class when the wished one is sold out, and the verifier accepts any class.
- A hotel: everywhere the trip stays a night, of the trip's `hotel_tier` unless a `hotels`
  wish for the city names a tier, or says none is wanted there.
"""

from __future__ import annotations

from dataclasses import dataclass

from domains.travel.inventory import AIRPORTS
from domains.travel.models import CarWish, HotelWish, TripRequest
from domains.travel.policy import CAR_SEATS, car_seats, cars_needed

CITY_OF: dict[str, str] = {a.code: a.city for a in AIRPORTS}


def city_of(code: str) -> str:
    return CITY_OF.get(code.upper(), code.upper())


def stay_cities(trip: TripRequest) -> list[str]:
    """The cities the trip stays in, in travel order: where each leg but the last lands (and
    the next leg flies on from). Never the first origin, the last destination, nor the hub of a
    connecting flight. Cars and hotels are wished, booked and verified there only."""
    return list(dict.fromkeys(city_of(leg.destination) for leg in trip.legs[:-1]))


def _staying(stays: list[str]) -> str:
    if not stays:
        return "it has a single leg, so it stays nowhere"
    return f"it stays in {', '.join(stays)} only"


def wishes_problem(trip: TripRequest) -> str:
    """Why the trip's car or hotel wishes cannot be met as given ('' when they can): a wish
    names an unknown airport, a city the trip does not stay in, or a city another wish names."""
    stays = stay_cities(trip)
    lists: tuple[tuple[str, list[CarWish] | list[HotelWish]], ...] = (
        ("cars", trip.cars),
        ("hotels", trip.hotels),
    )
    for what, wishes in lists:
        seen: dict[str, str] = {}
        for wish in wishes:
            code = wish.airport.upper()
            if code not in CITY_OF:
                return (
                    f"{what}: unknown airport {wish.airport!r}: use the IATA code of an airport "
                    "of the city, e.g. CDG for Paris (`orchestrator airports` lists them all)"
                )
            city = city_of(code)
            if city not in stays:
                return (
                    f"{what}: the trip does not stay in {city} ({code}); cars and hotels are "
                    "booked only where it lands and flies on from (not where it starts or ends, "
                    f"nor at a connection): {_staying(stays)}"
                )
            if code in seen.values():
                return f"{what}: {code} listed twice: one entry per place"
            if city in seen:
                return (
                    f"{what}: {seen[city]} and {code} are both in {city}: one entry per city "
                    "(any one airport of it)"
                )
            seen[city] = code
    return ""


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
        """Whether `cars` cars with `seats` seats in all, all the cars of a stay, meet it:
        exactly the count asked (of any class), else seats for everyone."""
        return cars == self.count if self.count is not None else seats >= travelers

    def fits(self, car_class: str, cars: int, travelers: int) -> bool:
        """Whether one booking of `cars` cars of `car_class` stays within it: no more than the
        count asked (any class), else seats for everyone."""
        if self.count is not None:
            return cars <= self.count
        return cars * car_seats(car_class) >= travelers


def car_need(trip: TripRequest, city: str) -> CarNeed | None:
    """The car wanted in `city`, or None when no car is wanted there (nor anywhere the trip
    does not stay: `stay_cities`)."""
    if city not in stay_cities(trip):
        return None
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
    it is): the trip does not stay in that city, no car is wanted there, or more cars than asked
    for (or than seat everyone). The same reading as the verifier's (`car_need`)."""
    city = city_of(airport)
    need = car_need(trip, city)
    if need is None and city not in stay_cities(trip):
        return (
            f"no car is wanted in {city}: the trip does not stay there (not where it starts or "
            f"ends, nor at a connection): {_staying(stay_cities(trip))}"
        )
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
