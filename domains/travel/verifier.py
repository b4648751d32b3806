"""The travel verifier: does the booking ledger hold the trip that was asked for?

It reads the run's bookings from the inventory (the ledger, by the run's idempotency-key prefix),
never the planner's notes, and checks, with the same date rules the offline planner plans with
(`domains.travel.policy`):
- one live flight per leg, between the requested cities (a sibling airport is fine), departing on
  the requested day or one day either side, with a seat per traveller, each leg leaving at least
  `MIN_CONNECTION` after the previous one lands; or, for a leg, two live flights that make a
  one-stop connection (`policy.connects`: origin -> hub, hub -> destination from the airport the
  first lands at, `MIN_CONNECTION` to `MAX_CONNECTION` later), each its own booking with a seat
  per traveller, the first leaving within the leg's days; nothing is asked of the hub (no
  hotel, no car), and the stay at the destination follows the second flight;
- a hotel room for every night between landing at a destination and leaving it (a flight that
  lands before 06:00 needs the night before too), with enough rooms for the travellers, except
  where a hotel wish says none is wanted;
- a car where one is wanted (`domains.travel.wishes.car_need`: every city the trip stays in
  with `car`, else the cities `cars` lists), from the landing day to the leaving day, with
  exactly the number of cars asked for (more is as unmet as fewer), or else seats for every
  traveller; of any class (the wished class is a preference); no car where none is wanted (one
  booked there is an orphan);
- the total of live bookings within the budget;
- no live booking that is not part of the trip (an orphan: a replaced or stray item).
Every sentence of the verdict is computed from what it read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from domains.travel.inventory import AIRPORTS
from domains.travel.models import Booking, Leg, TripRequest
from domains.travel.policy import (
    MAX_CONNECTION,
    MIN_CONNECTION,
    arrival,
    car_seats,
    connects,
    departure,
    layover,
    overnight_connection,
    stay_dates,
    utc,
)
from domains.travel.services import inventory_at
from domains.travel.wishes import car_need, hotel_tier
from orchestrator.verification import Verdict, VerificationView

FLEX_DAYS = 1
"""A leg's flight may leave this many days before or after the requested date."""

CITY_OF: dict[str, str] = {a.code: a.city for a in AIRPORTS}


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def label(booking: Mapping[str, Any]) -> str:
    """A booking in a few words, from its own record."""
    d = booking.get("details") or {}
    kind = booking["kind"]
    if kind == "flight" and d:
        return (
            f"flight {d['flight_no']} {d['origin']}->{d['destination']} "
            f"{str(d['depart_local'])[:16].replace('T', ' ')} x{booking['quantity']}"
        )
    if kind == "hotel" and d:
        return f"{d['name']} {d['city']} {d['check_in']}..{d['check_out']} x{d['rooms']} room(s)"
    if kind == "car" and d:
        return (
            f"{d['cars']} {d['car_class']} car(s) at {d['airport']} {d['pick_up']}..{d['drop_off']}"
        )
    return f"{kind} {booking['item_id']}"


@dataclass
class _Check:
    """The requirements walked so far: what holds, what does not, which bookings were used."""

    live: list[dict[str, Any]]
    unmet: list[str] = field(default_factory=list)
    met: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    stays: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)

    def unused(self, kind: str) -> list[dict[str, Any]]:
        return [b for b in self.live if b["kind"] == kind and b["ref"] not in self.used]


def _city(code: str) -> str:
    return CITY_OF.get(code, code)


def _day(iso: str) -> date:
    return date.fromisoformat(iso[:10])


def _nights(first: date, end: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((end - first).days)]


def _spans(days: Iterable[date]) -> str:
    """2027-01-10, 2027-01-11, 2027-01-12 -> '2027-01-10..2027-01-12'."""
    ordered = sorted(days)
    parts: list[str] = []
    start = prev = ordered[0]
    for day in [*ordered[1:], None]:
        if day is not None and prev is not None and day == prev + timedelta(days=1):
            prev = day
            continue
        parts.append(str(start) if start == prev else f"{start}..{prev}")
        if day is not None:
            start = prev = day
    return ", ".join(parts)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _flight_no(b: Mapping[str, Any]) -> str:
    d = b["details"]
    return f"{d['flight_no']} {d['origin']}->{d['destination']}"


def _after(previous: dict[str, Any] | None) -> datetime | None:
    """The earliest a leg may leave (UTC): MIN_CONNECTION after the previous leg lands."""
    return None if previous is None else utc(arrival(previous["details"])) + MIN_CONNECTION


def _connection(
    leg: Leg, c: _Check, after: datetime | None
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Two live flights that make `leg` as a one-stop connection (`policy.connects`), or why
    the flights booked for it do not: (segments, None), (None, problem) or (None, None) when
    nothing was booked towards it."""
    origin, destination = _city(leg.origin), _city(leg.destination)
    ends = (origin, destination)

    def departs(b: dict[str, Any]) -> datetime:
        return utc(departure(b["details"]))

    firsts = sorted(
        (
            b
            for b in c.unused("flight")
            if b["details"]
            and _city(b["details"]["origin"]) == origin
            and _city(b["details"]["destination"]) not in ends
            and abs((_day(b["details"]["depart_local"]) - leg.date).days) <= FLEX_DAYS
        ),
        key=departs,
    )
    # A second flight leaves at the latest MAX_CONNECTION after the first lands, and an
    # overnight first flight lands the day after it leaves.
    last_day = leg.date + timedelta(days=FLEX_DAYS + 1 + MAX_CONNECTION.days)
    seconds = sorted(
        (
            b
            for b in c.unused("flight")
            if b["details"]
            and _city(b["details"]["destination"]) == destination
            and _city(b["details"]["origin"]) not in ends
            and leg.date - timedelta(days=FLEX_DAYS)
            <= _day(b["details"]["depart_local"])
            <= last_day
        ),
        key=departs,
    )
    leaving = [b for b in firsts if after is None or departs(b) >= after]
    for a in leaving:
        for b in seconds:
            if connects(a["details"], b["details"]):
                return [a, b], None
    if not firsts and not seconds:
        return None, None
    if firsts and not leaving:
        c.used.add(firsts[0]["ref"])
        return None, (
            f"{_flight_no(firsts[0])} leaves before the previous flight lands plus "
            f"{_minutes(MIN_CONNECTION)} minutes"
        )
    if not seconds:
        a = leaving[0]
        c.used.add(a["ref"])
        hub = a["details"]["destination"]
        return None, f"{_flight_no(a)} booked, but no flight on from {hub} to {leg.destination}"
    if not leaving:
        b = seconds[0]
        c.used.add(b["ref"])
        hub = b["details"]["origin"]
        return None, f"{_flight_no(b)} booked, but no flight to {hub} from {leg.origin}"
    a = leaving[0]
    hub = a["details"]["destination"]
    b = next((x for x in seconds if x["details"]["origin"] == hub), seconds[0])
    c.used.update((a["ref"], b["ref"]))
    if b["details"]["origin"] != hub:
        return None, (
            f"{_flight_no(a)} lands at {hub} but {_flight_no(b)} leaves from "
            f"{b['details']['origin']}: the flights do not connect"
        )
    wait = layover(a["details"], b["details"])
    if wait < MIN_CONNECTION:
        return None, (
            f"connection at {hub} too short: {b['details']['flight_no']} leaves "
            f"{_minutes(wait)} minutes after {a['details']['flight_no']} lands, the minimum is "
            f"{_minutes(MIN_CONNECTION)}"
        )
    return None, (
        f"connection at {hub} too long: {b['details']['flight_no']} leaves "
        f"{_minutes(wait) // 60} hours after {a['details']['flight_no']} lands, the most is "
        f"{_minutes(MAX_CONNECTION) // 60}"
    )


def _check_legs(trip: TripRequest, c: _Check) -> list[list[dict[str, Any]] | None]:
    """Each leg's flights: one direct flight, or the two of a one-stop connection."""
    flights: list[list[dict[str, Any]] | None] = []
    previous: dict[str, Any] | None = None
    for i, leg in enumerate(trip.legs, 1):
        route = f"leg {i} {leg.origin}->{leg.destination} on {leg.date}"
        fitting = [
            b
            for b in c.unused("flight")
            if b["details"]
            and _city(b["details"]["origin"]) == _city(leg.origin)
            and _city(b["details"]["destination"]) == _city(leg.destination)
            and abs((_day(b["details"]["depart_local"]) - leg.date).days) <= FLEX_DAYS
        ]
        fitting.sort(key=lambda b: utc(departure(b["details"])))
        after = _after(previous)
        # The first flight that connects, if any: a stray earlier one stays an orphan.
        connecting = [b for b in fitting if after is None or utc(departure(b["details"])) >= after]
        segments: list[dict[str, Any]] | None = connecting[:1] or None
        if segments is None:
            segments, problem = _connection(leg, c, after)
            if segments is None and fitting and problem is None:
                c.unmet.append(
                    f"{route}: {fitting[0]['details']['flight_no']} leaves before the previous "
                    f"flight lands plus {_minutes(MIN_CONNECTION)} minutes"
                )
                c.used.add(fitting[0]["ref"])
                flights.append(None)
                continue
            if segments is None:
                c.unmet.append(f"{route}: {problem or 'no flight booked'}")
                flights.append(None)
                continue
        c.used.update(b["ref"] for b in segments)
        short = [b for b in segments if int(b["quantity"]) < trip.travelers]
        for b in short:
            c.unmet.append(
                f"{route}: {b['details']['flight_no']} holds "
                f"{plural(int(b['quantity']), 'seat')} for {plural(trip.travelers, 'traveller')}"
            )
        if not short:
            c.met.append(f"{route}: " + " + ".join(b["details"]["flight_no"] for b in segments))
        if len(segments) == 2:
            first, second = segments
            c.connections.append(
                {
                    "leg": i,
                    "hub": first["details"]["destination"],
                    "route": [
                        first["details"]["origin"],
                        first["details"]["destination"],
                        second["details"]["destination"],
                    ],
                    "bookings": [first["ref"], second["ref"]],
                    "layover_min": _minutes(layover(first["details"], second["details"])),
                    "overnight": overnight_connection(first["details"], second["details"]),
                }
            )
        flights.append(segments)
        previous = segments[-1]
    return flights


def _check_stays(
    trip: TripRequest, flights: list[list[dict[str, Any]] | None], c: _Check
) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """Hotels between consecutive legs; returns (city, landing, leaving) of each stay. A leg
    flown as a connection lands with its second flight; nothing is asked of its hub."""
    stays = []
    for i in range(len(trip.legs) - 1):
        arriving, departing = flights[i], flights[i + 1]
        landing = arriving[-1] if arriving else None
        leaving = departing[0] if departing else None
        city = _city(landing["details"]["destination"] if landing else trip.legs[i].destination)
        in_city = [b for b in c.unused("hotel") if b["details"].get("city") == city]
        if landing is None or leaving is None:
            # No dates to check without both flights; the missing flight is already unmet.
            c.used.update(b["ref"] for b in in_city)
            if not in_city and hotel_tier(trip, city) is not None:
                c.unmet.append(f"hotel in {city}: none booked")
            stays.append((city, landing, leaving))
            continue
        check_in, check_out, early = stay_dates(landing["details"], leaving["details"])
        if check_out <= check_in:
            stays.append((city, landing, leaving))
            continue  # leaves the day it lands: no night to sleep
        if hotel_tier(trip, city) is None:
            # No hotel wanted here: none is required, and one booked here is not part of it.
            stays.append((city, landing, leaving))
            continue
        c.stays.append(
            {
                "city": city,
                "check_in": check_in.isoformat(),
                "check_out": check_out.isoformat(),
                "extra_night": early,
            }
        )
        needed = _nights(check_in, check_out)
        covering = [
            b
            for b in in_city
            if _day(b["details"]["check_in"]) < check_out
            and _day(b["details"]["check_out"]) > check_in
        ]
        c.used.update(b["ref"] for b in covering)
        covered = {
            night
            for b in covering
            if int(b["details"]["rooms"]) >= trip.rooms
            for night in _nights(_day(b["details"]["check_in"]), _day(b["details"]["check_out"]))
        }
        short = [b for b in covering if int(b["details"]["rooms"]) < trip.rooms]
        for b in short:
            c.unmet.append(
                f"hotel in {city}: {b['details']['name']} holds "
                f"{plural(int(b['details']['rooms']), 'room')}, "
                f"{trip.travelers} traveller(s) need {trip.rooms}"
            )
        missing = [night for night in needed if night not in covered]
        if missing and not short:
            why = " (the flight lands before 06:00)" if early and check_in in missing else ""
            c.unmet.append(
                f"hotel in {city}: no room booked for the night(s) of {_spans(missing)}{why}"
            )
        elif not missing:
            c.met.append(f"hotel in {city} {check_in}..{check_out}")
        stays.append((city, landing, leaving))
    return stays


def _check_cars(
    trip: TripRequest,
    stays: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
    c: _Check,
) -> None:
    """A car wherever one is wanted (`wishes.car_need`), none required anywhere else."""
    for city, landing, leaving in stays:
        need = car_need(trip, city)
        if need is None:
            continue  # no car wanted here: one booked here stays unused, an orphan
        in_city = [b for b in c.unused("car") if _city(b["details"].get("airport", "")) == city]
        if landing is None or leaving is None:
            c.used.update(b["ref"] for b in in_city)
            if not in_city:
                c.unmet.append(f"car in {city}: none booked")
            continue
        check_in, check_out, _ = stay_dates(landing["details"], leaving["details"])
        if check_out <= check_in:
            continue  # no stay here to drive through
        pick_up = _day(landing["details"]["arrive_local"])
        drop_off = _day(leaving["details"]["depart_local"])
        covering = [
            b
            for b in in_city
            if _day(b["details"]["pick_up"]) <= pick_up
            and _day(b["details"]["drop_off"]) >= drop_off
        ]
        c.used.update(b["ref"] for b in covering)
        if not covering:
            c.unmet.append(f"car in {city} from {pick_up} to {drop_off}: none booked")
            continue
        cars = sum(int(b["details"]["cars"]) for b in covering)
        seats = sum(
            int(b["details"]["cars"]) * car_seats(b["details"]["car_class"]) for b in covering
        )
        if need.carries(cars, seats, trip.travelers):
            c.met.append(f"car in {city} {pick_up}..{drop_off}")
        elif need.count is not None:
            # The count is exact: more cars than asked are as wrong as fewer. The class is a
            # preference only (the planner falls back to any class), so it is not checked.
            at = "/".join(sorted({str(b["details"]["airport"]) for b in covering}))
            c.unmet.append(
                f"car in {city}: {plural(cars, 'car')} booked at {at}, {need.count} asked for"
            )
        else:
            c.unmet.append(
                f"car in {city}: {plural(seats, 'seat')} for {plural(trip.travelers, 'traveller')}"
            )


def verdict_of(trip: TripRequest, ledger: list[Booking]) -> Verdict:
    """The verdict for `trip` from its run's bookings (live and cancelled)."""
    records = [b.model_dump(mode="json") for b in ledger]
    live = [b for b in records if b["status"] == "confirmed"]
    check = _Check(live=live)
    flights = _check_legs(trip, check)
    stays = _check_stays(trip, flights, check)
    _check_cars(trip, stays, check)
    total = round(sum(float(b["total_price"]) for b in live), 2)
    if trip.budget is not None and total > trip.budget + 0.005:
        check.unmet.append(
            f"the bookings total {money(total)}, {money(total - trip.budget)} over the budget "
            f"of {money(trip.budget)}"
        )
    orphans = [b for b in live if b["ref"] not in check.used]
    for b in orphans:
        check.unmet.append(
            f"booking {b['ref']} ({label(b)}) is not part of the trip and is still confirmed"
        )
    kinds = ", ".join(
        plural(n, kind) for kind in ("flight", "hotel", "car") if (n := _count(live, kind))
    )
    facts = {
        "bookings": records,
        "booked_total": total,
        "budget": trip.budget,
        "stays": check.stays,
        "met": check.met,
        "connections": check.connections,
        "orphans": [b["ref"] for b in orphans],
    }
    if not check.unmet:
        within = ""
        if trip.budget is not None:
            within = f", within the budget of {money(trip.budget)}"
        reason = f"all {plural(len(live), 'item')} booked ({kinds}), total {money(total)}{within}"
        return Verdict(status="completed", reason=reason, facts=facts)
    shown = "; ".join(check.unmet[:3])
    more = len(check.unmet) - 3
    if more > 0:
        shown += f"; and {more} more"
    if not live:
        return Verdict(
            status="failed", reason=f"nothing is booked; {shown}", unmet=check.unmet, facts=facts
        )
    booked = f"{plural(len(live), 'item')} booked ({kinds}), total {money(total)}"
    return Verdict(status="partial", reason=f"{booked}; {shown}", unmet=check.unmet, facts=facts)


def _count(live: list[dict[str, Any]], kind: str) -> int:
    return sum(1 for b in live if b["kind"] == kind)


class TripVerifier:
    """Implements `Verifier` for runs whose request is a `TripRequest`."""

    async def verify(self, view: VerificationView) -> Verdict:
        try:
            trip = TripRequest.model_validate(view.request or {})
        except ValidationError as exc:
            reason = f"no valid trip request: {exc.errors()[0]['msg']}"
            return Verdict(status="failed", reason=reason, unmet=[reason])
        ledger = await asyncio.to_thread(_ledger, view.context.data_dir, view.ledger_prefix)
        return verdict_of(trip, ledger)


def _ledger(data_dir: str, prefix: str) -> list[Booking]:
    return inventory_at(data_dir).bookings_keyed(prefix)
