"""The offline planner's documented choices: which flight, which stay, what a red-eye implies.

Flight policy: among flights with enough seats, minimise
    fare x travellers + VALUE_OF_HOUR x flight hours x travellers
so a much cheaper but longer flight wins, and a slightly cheaper but far longer one does not.
A leg after the first must depart at least MIN_CONNECTION after the previous leg lands.
Under budget pressure the planner switches to the plain cheapest fare.

Connection policy: a leg with no direct flight (the route is not served) may be two flights via
one hub, each its own booking: origin -> hub, then hub -> destination, the second departing at
least MIN_CONNECTION and at most MAX_CONNECTION after the first lands (in UTC), so at the latest
the next day. The hub is only changed at: no hotel or car is booked there (an overnight
connection is the traveller's night at the airport, and the itinerary says so), and the stay at
the destination follows the second flight's landing. A connection costs its two fares plus
VALUE_OF_HOUR for every hour from the first departure to the last landing, layover included.

Stay policy: a stay runs from the day a flight lands to the day the next flight leaves. A flight
that lands between 00:00 and 06:00 local time (a red-eye) needs the room from the night before,
so the stay gets one extra night. Hotels: the cheapest stay in the preferred tier; when none is
free, the next tier down, then up.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

VALUE_OF_HOUR = 25.0
MIN_CONNECTION = timedelta(minutes=90)
MAX_CONNECTION = timedelta(hours=24)
"""The longest wait at a hub between the two flights of a one-stop leg."""
EARLY_ARRIVAL_HOUR = 6


def arrival(option: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(option["arrive_local"])


def departure(option: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(option["depart_local"])


def lands_early(option: dict[str, Any]) -> bool:
    """Lands between 00:00 and 06:00 local time: the traveller needs the room the night before."""
    return arrival(option).hour < EARLY_ARRIVAL_HOUR


def flight_score(option: dict[str, Any], travelers: int) -> float:
    return float(option["price"] + VALUE_OF_HOUR * option["duration_min"] / 60) * travelers


def choose_flight(
    options: list[dict[str, Any]],
    travelers: int,
    *,
    after: dict[str, Any] | None = None,
    cheapest: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any] | None:
    """The best flight by the policy above, or None when no option fits."""
    fitting = [
        o
        for o in options
        if o["id"] not in exclude
        and o["seats_left"] >= travelers
        and (after is None or utc(departure(o)) >= utc(arrival(after)) + MIN_CONNECTION)
    ]
    if not fitting:
        return None
    if cheapest:
        return min(fitting, key=lambda o: (o["price"], o["duration_min"]))
    return min(fitting, key=lambda o: flight_score(o, travelers))


def utc(moment: datetime) -> datetime:
    offset = moment.utcoffset() or timedelta(0)
    return moment.replace(tzinfo=None) - offset


def layover(first: dict[str, Any], second: dict[str, Any]) -> timedelta:
    """The time between `first` landing and `second` leaving (in UTC)."""
    return utc(departure(second)) - utc(arrival(first))


def connects(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether `second` continues `first` as a one-stop connection: from the airport `first`
    lands at, MIN_CONNECTION to MAX_CONNECTION after it lands."""
    return (
        first["destination"] == second["origin"]
        and MIN_CONNECTION <= layover(first, second) <= MAX_CONNECTION
    )


def overnight_connection(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """The second flight leaves on a later local day than the first lands: a night at the hub."""
    return departure(second).date() > arrival(first).date()


def connection_score(first: dict[str, Any], second: dict[str, Any], travelers: int) -> float:
    hours = (utc(arrival(second)) - utc(departure(first))).total_seconds() / 3600
    return float(first["price"] + second["price"] + VALUE_OF_HOUR * hours) * travelers


def choose_connection(
    firsts: list[dict[str, Any]],
    seconds: list[dict[str, Any]],
    travelers: int,
    *,
    after: dict[str, Any] | None = None,
    cheapest: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The best pair of flights (origin -> hub, hub -> destination) by the connection policy
    above, both with seats for everyone, the first leaving MIN_CONNECTION after `after` lands;
    None when no pair fits."""
    fitting_firsts = [
        a
        for a in firsts
        if a["id"] not in exclude
        and a["seats_left"] >= travelers
        and (after is None or utc(departure(a)) >= utc(arrival(after)) + MIN_CONNECTION)
    ]
    pairs = [
        (a, b)
        for a in fitting_firsts
        for b in seconds
        if b["id"] not in exclude and b["seats_left"] >= travelers and connects(a, b)
    ]
    if not pairs:
        return None
    if cheapest:
        return min(
            pairs,
            key=lambda p: (p[0]["price"] + p[1]["price"], utc(arrival(p[1])), p[0]["id"]),
        )
    return min(pairs, key=lambda p: (connection_score(p[0], p[1], travelers), p[0]["id"]))


def stay_dates(landing: dict[str, Any], leaving: dict[str, Any]) -> tuple[date, date, bool]:
    """Check-in, check-out and whether an extra night was added for an early landing."""
    check_in = arrival(landing).date()
    early = lands_early(landing)
    if early:
        check_in -= timedelta(days=1)
    return check_in, departure(leaving).date(), early


CAR_SEATS: dict[str, int] = {"economy": 4, "compact": 5, "midsize": 5, "suv": 7, "luxury": 4}
"""Travellers one car of each class carries: a party of nine needs two SUVs, not one compact."""


def car_seats(car_class: str) -> int:
    return CAR_SEATS.get(car_class, 4)


def cars_needed(car_class: str, travelers: int) -> int:
    """How many cars of `car_class` carry `travelers`."""
    return -(-travelers // car_seats(car_class))


def tier_order(preferred: int) -> list[int]:
    """Tiers to try in turn: the preferred one, then down to 1, then up to 5."""
    return [preferred, *range(preferred - 1, 0, -1), *range(preferred + 1, 6)]
