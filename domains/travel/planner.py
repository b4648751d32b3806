"""The offline travel planner: deterministic, round by round, from what the workers found.

Phases, each possibly spanning several rounds:
1. flights: one search per leg, all in parallel. An empty leg is searched again a day earlier, a
   day later and from/to the city's other airports, in parallel; the best fitting flight wins.
2. stays: once every leg has a flight, hotels (and cars) are searched in parallel for the dates
   those flights imply, with an extra night after an early landing. An empty hotel search is
   retried a tier lower (then higher); an empty car search with any class, then without a car.
3. budget: the total is checked against the budget; over it, the planner switches to the
   cheapest flights, then cheaper hotels, then economy cars, and otherwise stops `partial`.
4. book: every booking in one parallel batch (one approval). A booking that fails is replaced by
   the next-best option, or the leg's other bookings are cancelled and the run ends `partial`.

Its memory between rounds lives in `notes` (small, JSON). Every choice it makes is written to
`decisions`, which the synthesizer shows as the decisions log.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from domains.travel.models import TripRequest
from domains.travel.policy import (
    MAX_CONNECTION,
    MIN_CONNECTION,
    arrival,
    cars_needed,
    choose_connection,
    choose_flight,
    connects,
    layover,
    overnight_connection,
    stay_dates,
    tier_order,
)
from domains.travel.wishes import car_need, hotel_tier
from domains.travel.workers.cancel import REASON_CHARS
from orchestrator.planning import Finish, NewTask, PlanOutcome, PlanUpdate, PlanView

Notes = dict[str, Any]

RELEASE_TRIES = 3
"""Times a compensating cancellation is tried (each try with the worker's own retries) before
the run ends and reports the booking as still confirmed."""


def _money(amount: float) -> str:
    return f"${amount:,.0f}"


def _hm(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes % 60 else f"{minutes // 60} h"


class TravelRulesPlanner:
    """Implements `Planner` for a `TripRequest` given as the run's `request`."""

    def __init__(self, city_of: Mapping[str, str], siblings: Mapping[str, list[str]]) -> None:
        self._city_of = city_of
        self._siblings = siblings

    async def plan(self, view: PlanView) -> PlanOutcome:
        try:
            trip = TripRequest.model_validate(view.request or {})
        except ValidationError as exc:
            reason = f"no valid trip request: {exc.errors()[0]['msg']}"
            return PlanOutcome(PlanUpdate(finish=Finish(status="failed", reason=reason)))
        return PlanOutcome(_Round(view, trip, self._city_of, self._siblings).run())


class _Round:
    """One planning round: reads the board and notes, fills `add`, `decisions` and `finish`."""

    def __init__(
        self,
        view: PlanView,
        trip: TripRequest,
        city_of: Mapping[str, str],
        siblings: Mapping[str, list[str]],
    ) -> None:
        self.view = view
        self.trip = trip
        self.city_of = city_of
        self.siblings = siblings
        self.notes: Notes = copy.deepcopy(dict(view.notes)) or self._fresh_notes()
        self.add: list[NewTask] = []
        self.cancel: list[str] = []
        self.retry: list[str] = []
        self.decisions: list[str] = []
        self.finish: Finish | None = None

    def run(self) -> PlanUpdate:
        phase = self.notes["phase"]
        if phase == "flights":
            self._flights()
        if self.notes["phase"] == "stays":
            self._stays()
        if self.notes["phase"] == "budget":
            self._budget()
        if self.notes["phase"] == "book" and not self.add:
            self._book()
        elif self.notes["phase"] == "booking":
            self._after_booking()
        return PlanUpdate(
            add=self.add,
            cancel=self.cancel,
            retry=self.retry,
            decisions=self.decisions,
            finish=self.finish,
            notes=self.notes,
        )

    # -- bookkeeping -------------------------------------------------------------------------

    def _fresh_notes(self) -> Notes:
        return {
            "phase": "flights",
            "legs": [{"searches": [], "choice": None} for _ in self.trip.legs],
            "stays": [],
            "cars": [],
            "budget_steps": [],
            "cheapest_flights": False,
            "bookings": {},
        }

    def _task(
        self,
        task_id: str,
        worker: str,
        inputs: dict[str, Any],
        reason: str,
        *,
        reuse: bool = True,
        after: list[str] | None = None,
    ) -> str:
        """Adds a task, or reuses an identical search already on the board (never a side effect)."""
        if reuse:
            for task in [*self.view.tasks.values(), *self._added_as_tasks()]:
                same = task["worker"] == worker and task["inputs"] == inputs
                if same and task["status"] != "failed":
                    return str(task["id"])
        n = 1
        unique = task_id
        while unique in self.view.tasks or any(t.id == unique for t in self.add):
            n += 1
            unique = f"{task_id}-{n}"
        deps = sorted({d for d in after or [] if d in self.view.tasks})
        self.add.append(
            NewTask(id=unique, worker=worker, inputs=inputs, reason=reason, depends_on=deps)
        )
        return unique

    def _source(self, option: dict[str, Any]) -> list[str]:
        """The finished search that found `option`: what a task built on it depends on."""
        for task_id, task in self.view.tasks.items():
            if task["status"] == "done" and task["worker"].startswith("search_"):
                found = self.view.output_of(task_id) or {}
                if any(o["id"] == option["id"] for o in found.get("options", [])):
                    return [task_id]
        return []

    def _flights_around(self, leg: int) -> list[str]:
        """The searches behind the flights that land before, and leave after, stay `leg`."""
        return [s for f in (self._landing(leg), self._leaving(leg + 1)) for s in self._source(f)]

    def _landing(self, i: int) -> dict[str, Any]:
        """The flight that ends leg `i`: its only flight, or the second of a connection."""
        state = self.notes["legs"][i]
        return dict(state.get("onward") or state["choice"])

    def _leaving(self, i: int) -> dict[str, Any]:
        """The flight that starts leg `i`."""
        return dict(self.notes["legs"][i]["choice"])

    @staticmethod
    def _segments(state: dict[str, Any]) -> list[dict[str, Any]]:
        return [state["choice"], *([state["onward"]] if state.get("onward") else [])]

    def _added_as_tasks(self) -> list[dict[str, Any]]:
        return [
            {"id": t.id, "worker": t.worker, "inputs": t.inputs, "status": "pending"}
            for t in self.add
        ]

    def _status(self, task_id: str) -> str:
        if any(t.id == task_id for t in self.add):
            return "pending"
        return str(self.view.tasks[task_id]["status"])

    def _options(self, task_id: str) -> list[dict[str, Any]] | None:
        """The options a finished search found; None while it runs; [] when it failed."""
        status = self._status(task_id)
        if status in ("pending", "running"):
            return None
        output = self.view.output_of(task_id)
        return list(output["options"]) if output else []

    # -- phase 1: flights --------------------------------------------------------------------

    def _flight_search(
        self, i: int, origin: str, destination: str, day: date, why: str, name: str = ""
    ) -> str:
        inputs = {
            "origin": origin,
            "destination": destination,
            "date": day.isoformat(),
            "travelers": self.trip.travelers,
            "cabin": self.trip.cabin,
            "max_results": 6,
        }
        return self._task(name or f"flights-{i + 1}", "search_flights", inputs, why)

    def _flights(self) -> None:
        legs = self.notes["legs"]
        if not legs[0]["searches"]:
            for i, leg in enumerate(self.trip.legs):
                legs[i]["searches"] = [
                    self._flight_search(i, leg.origin, leg.destination, leg.date, "leg as asked")
                ]
            self.decisions.append(
                f"search flights for all {len(legs)} legs in parallel: "
                + ", ".join(f"{x.origin}->{x.destination} {x.date}" for x in self.trip.legs)
            )
            return
        for i, state in enumerate(legs):
            # A route not served is known from its first search: its connection (and a direct
            # flight from the city's other airports) is searched at once, whatever the legs
            # before it still wait for.
            hubs = [] if state["choice"] or state.get("connection") else self._unserved_hubs(state)
            if hubs:
                leg = self.trip.legs[i]
                if self.siblings.get(leg.origin) or self.siblings.get(leg.destination):
                    self._widen_leg(i)
                self._start_connection(i, hubs)
        for i, state in enumerate(legs):
            if state["choice"] is not None:
                continue
            found = [self._options(t) for t in state["searches"]]
            if any(f is None for f in found):
                return  # still searching
            if i and legs[i - 1]["choice"] is None:
                return
            previous = self._landing(i - 1) if i else None
            options = [o for f in found for o in (f or [])]
            choice = choose_flight(
                options,
                self.trip.travelers,
                after=previous,
                cheapest=self.notes["cheapest_flights"],
            )
            if choice is not None:
                state["choice"] = choice
                self.decisions.append(self._describe_flight_choice(i, choice, len(options)))
                continue
            if state.get("connection"):
                if not self._connect_leg(i, previous):
                    return  # still searching, or the run ends without a connection
                continue
            if state.get("widened"):
                self.finish = Finish(
                    status="partial",
                    reason=f"no flight for leg {i + 1} "
                    f"({self.trip.legs[i].origin}->{self.trip.legs[i].destination}) around "
                    f"{self.trip.legs[i].date}, even a day either side or from other airports",
                )
                return
            self._widen_leg(i, self._why_none_fits(options, previous))
            return
        if all(s["choice"] is not None for s in legs):
            self.notes["phase"] = "stays"

    def _describe_flight_choice(self, i: int, choice: dict[str, Any], n: int) -> str:
        leg = self.trip.legs[i]
        moved = ""
        if choice["depart_local"][:10] != leg.date.isoformat():
            moved = f" (moved from {leg.date}: nothing fit that day)"
        if (choice["origin"], choice["destination"]) != (leg.origin, leg.destination):
            moved += f" (via {choice['origin']}->{choice['destination']}: other airports)"
        rule = "cheapest fare" if self.notes["cheapest_flights"] else "best price for the time"
        return (
            f"leg {i + 1}: chose {choice['flight_no']} {choice['origin']}->{choice['destination']} "
            f"departing {choice['depart_local'][:16]} arriving {choice['arrive_local'][:16]}, "
            f"{_money(choice['price'])} per traveller ({rule} of {n}){moved}"
        )

    def _unserved_hubs(self, state: dict[str, Any]) -> list[str]:
        """The hubs the leg's as-asked search offers when no flight is scheduled on the route
        (not served, rather than sold out); [] otherwise."""
        found = self.view.output_of(state["searches"][0]) or {}
        return [str(h) for h in found.get("hubs") or []] if found.get("scheduled") == 0 else []

    def _start_connection(self, i: int, hubs: list[str]) -> None:
        leg = self.trip.legs[i]
        self.notes["legs"][i]["connection"] = {
            "hubs": hubs,
            "first": {hub: [self._first_segment_search(i, hub, leg.date)] for hub in hubs},
            "second": {},
            "widened": False,
        }
        self.decisions.append(
            f"leg {i + 1}: no flight is scheduled {leg.origin}->{leg.destination} around "
            f"{leg.date} (the route is not served, not sold out); searching one-stop "
            f"connections via {', '.join(hubs)}"
        )

    def _first_segment_search(self, i: int, hub: str, day: date) -> str:
        origin = self.trip.legs[i].origin
        name = f"flights-{i + 1}-{origin}-{hub}"
        return self._flight_search(i, origin, hub, day, f"first segment via {hub}", name)

    def _connection_options(
        self, state: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The first and the second segments the leg's connection searches found. `first` holds
        each hub's searches of the first segment, `second` each hub's of the onward flight by
        day (a day is searched once)."""
        connection = state["connection"]
        firsts = [o for ts in connection["first"].values() for t in ts for o in self._found(t)]
        seconds = [
            o for ts in connection["second"].values() for t in ts.values() for o in self._found(t)
        ]
        return firsts, seconds

    def _found(self, task_id: str) -> list[dict[str, Any]]:
        return self._options(task_id) or []

    def _connect_leg(self, i: int, previous: dict[str, Any] | None) -> bool:
        """One step of a one-stop leg: the first segments on the leg's day, then the onward
        flights on the days those land and the day after, then the best pair
        (`policy.choose_connection`); without one, first segments a day either side once. True
        once the leg has its two flights."""
        leg = self.trip.legs[i]
        state = self.notes["legs"][i]
        connection = state["connection"]
        if any(self._options(t) is None for ts in connection["first"].values() for t in ts):
            return False
        searched = False
        for hub, ids in connection["first"].items():
            fitting = [
                o
                for t in ids
                for o in self._options(t) or []
                if choose_flight([o], self.trip.travelers, after=previous) is not None
            ]
            lands = {arrival(o).date() for o in fitting}
            onward = connection["second"].setdefault(hub, {})
            for day in sorted({d + timedelta(days=n) for d in lands for n in (0, 1)}):
                if day.isoformat() in onward:
                    continue
                name = f"flights-{i + 1}-{hub}-{leg.destination}"
                onward[day.isoformat()] = self._flight_search(
                    i, hub, leg.destination, day, f"second segment via {hub}", name
                )
                searched = True
        if searched:
            self.decisions.append(
                f"leg {i + 1}: first segments with seats via "
                f"{', '.join(h for h, ts in connection['second'].items() if ts)}; searching the "
                f"onward flights to {leg.destination} on the days they land and the day after"
            )
            return False
        if any(
            self._options(t) is None for ts in connection["second"].values() for t in ts.values()
        ):
            return False
        firsts, seconds = self._connection_options(state)
        pair = choose_connection(
            firsts,
            seconds,
            self.trip.travelers,
            after=previous,
            cheapest=self.notes["cheapest_flights"],
        )
        if pair is None and not connection["widened"]:
            connection["widened"] = True
            for hub, ids in connection["first"].items():
                for day in (leg.date - timedelta(days=1), leg.date + timedelta(days=1)):
                    ids.append(self._first_segment_search(i, hub, day))
            self.decisions.append(
                f"leg {i + 1}: no connection via {', '.join(connection['hubs'])} on {leg.date}; "
                "searching first segments a day earlier and a day later"
            )
            return False
        if pair is None:
            self.finish = Finish(
                status="partial",
                reason=f"no flight for leg {i + 1} ({leg.origin}->{leg.destination}) around "
                f"{leg.date}: the route is not served, and no one-stop connection via "
                f"{', '.join(connection['hubs'])} has seats for everyone and "
                f"{_hm(MIN_CONNECTION)} to {_hm(MAX_CONNECTION)} to connect, even a day "
                "either side",
            )
            return False
        state["choice"], state["onward"] = pair
        self.decisions.append(self._describe_connection_choice(i, *pair))
        return True

    def _describe_connection_choice(
        self, i: int, first: dict[str, Any], second: dict[str, Any]
    ) -> str:
        rule = "cheapest fares" if self.notes["cheapest_flights"] else "best price for the time"
        night = " (overnight at the hub, no hotel booked there)"
        return (
            f"leg {i + 1}: chose a connection {first['origin']} -> {first['destination']} -> "
            f"{second['destination']}: {first['flight_no']} departing "
            f"{first['depart_local'][:16]} arriving {first['arrive_local'][:16]}, then "
            f"{second['flight_no']} departing {second['depart_local'][:16]} arriving "
            f"{second['arrive_local'][:16]} ({_hm(layover(first, second))} to connect"
            f"{night if overnight_connection(first, second) else ''}), "
            f"{_money(first['price'] + second['price'])} per traveller ({rule})"
        )

    def _why_none_fits(self, options: list[dict[str, Any]], previous: dict[str, Any] | None) -> str:
        """Why no searched flight can be the leg's: the seats, or the connection after the
        previous leg lands (a full flight and a flight too early call for the same widening,
        but the traveller should read which it was)."""
        seated = [o for o in options if o["seats_left"] >= self.trip.travelers]
        if seated and previous is not None:
            return (
                f"no flight with seats leaves {_hm(MIN_CONNECTION)} or more after the previous "
                f"leg lands ({previous['arrive_local'][:16]} local)"
            )
        return f"no seats for {self.trip.travelers}" if options else "no seats"

    def _widen_leg(self, i: int, why_not: str = "") -> None:
        leg = self.trip.legs[i]
        state = self.notes["legs"][i]
        state["widened"] = True
        unserved = bool(self._unserved_hubs(state))
        tries: list[tuple[str, str, date, str]] = []
        if not unserved:
            # A route that is not served at all is not served a day either side.
            tries += [
                (leg.origin, leg.destination, leg.date - timedelta(days=1), "a day earlier"),
                (leg.origin, leg.destination, leg.date + timedelta(days=1), "a day later"),
            ]
        for alt in self.siblings.get(leg.origin, []):
            tries.append((alt, leg.destination, leg.date, f"from {alt}"))
        for alt in self.siblings.get(leg.destination, []):
            tries.append((leg.origin, alt, leg.date, f"to {alt}"))
        for origin, destination, day, why in tries:
            state["searches"].append(self._flight_search(i, origin, destination, day, why))
        route = f"{leg.origin}->{leg.destination}"
        why = "the route is not served" if unserved else why_not or "no seats"
        self.decisions.append(
            f"leg {i + 1}: {route} on {leg.date}: {why}; searching "
            + ", ".join(t[3] for t in tries)
        )

    # -- phase 2: stays and cars -------------------------------------------------------------

    def _plan_stays(self) -> None:
        stays: list[dict[str, Any]] = []
        cars: list[dict[str, Any]] = []
        for i in range(len(self.notes["legs"]) - 1):
            landing, leaving = self._landing(i), self._leaving(i + 1)
            check_in, check_out, early = stay_dates(landing, leaving)
            city = self.city_of.get(landing["destination"], landing["destination"])
            if check_out <= check_in:
                self.decisions.append(f"no hotel in {city}: the next flight leaves the same day")
                continue
            tier = hotel_tier(self.trip, city)
            need = car_need(self.trip, city)
            if need is not None:
                pick_up = landing["arrive_local"][:10]
                cars.append(
                    {
                        "airport": landing["destination"],
                        "pick_up": pick_up,
                        "drop_off": max(check_out.isoformat(), pick_up),
                        "classes": [need.car_class, None],
                        "count": need.count,
                        "searches": [],
                        "choice": None,
                        "leg": i,
                    }
                )
            elif self.trip.cars:
                self.decisions.append(f"no car in {city}: the request asks for none there")
            if tier is None:
                self.decisions.append(f"no hotel in {city}: the request asks for none there")
                continue
            if early:
                self.decisions.append(
                    f"extra night added in {city}: {landing['flight_no']} lands "
                    f"{landing['arrive_local'][11:16]} on {landing['arrive_local'][:10]}, so the "
                    f"room is booked from {check_in} to be ready on arrival"
                )
            stays.append(
                {
                    "city": city,
                    "check_in": check_in.isoformat(),
                    "check_out": check_out.isoformat(),
                    "tiers": tier_order(tier),
                    "searches": [],
                    "choice": None,
                    "leg": i,
                    "extra_night": early,
                }
            )
        self.notes["stays"], self.notes["cars"] = stays, cars

    def _hotel_search(self, stay: dict[str, Any]) -> None:
        tier = stay["tiers"][len(stay["searches"])]
        inputs = {
            "city": stay["city"],
            "check_in": stay["check_in"],
            "check_out": stay["check_out"],
            "rooms": self.trip.rooms,
            "tier": tier,
            "max_results": 6,
        }
        why = f"{tier}-star rooms {stay['check_in']}..{stay['check_out']}"
        after = self._flights_around(stay["leg"])
        stay["searches"].append(
            self._task(f"hotels-{stay['leg'] + 1}", "search_hotels", inputs, why, after=after)
        )

    def _car_search(self, car: dict[str, Any]) -> None:
        car_class = car["classes"][len(car["searches"])]
        inputs = {
            "airport": car["airport"],
            "pick_up": car["pick_up"],
            "drop_off": car["drop_off"],
            "car_class": car_class,
            "max_results": 6,
        }
        why = f"{car_class or 'any'} car {car['pick_up']}..{car['drop_off']}"
        after = self._flights_around(car["leg"])
        car["searches"].append(
            self._task(f"cars-{car['leg'] + 1}", "search_cars", inputs, why, after=after)
        )

    def _stays(self) -> None:
        if not self.notes["stays"] and not self.notes.get("stays_planned"):
            self.notes["stays_planned"] = True
            self._plan_stays()
            for stay in self.notes["stays"]:
                self._hotel_search(stay)
            for car in self.notes["cars"]:
                self._car_search(car)
            if self.add:
                self.decisions.append(
                    f"flights chosen; searching {len(self.notes['stays'])} hotel stays"
                    + (f" and {len(self.notes['cars'])} car rentals" if self.notes["cars"] else "")
                    + " in parallel for the dates the flights imply"
                )
                return
        waiting = False
        for stay in self.notes["stays"]:
            if stay["choice"] is not None:
                continue
            options = self._options(stay["searches"][-1])
            if options is None:
                waiting = True
            elif options:
                stay["choice"] = min(options, key=lambda o: o["total_price"])
            elif stay.get("fallback"):
                # A cheaper tier was tried for the budget and had nothing: keep what was found.
                kept: dict[str, Any] = stay.pop("fallback")
                stay["choice"] = kept
                self.decisions.append(
                    f"no cheaper rooms in {stay['city']} {stay['check_in']}..{stay['check_out']}; "
                    f"keeping {kept['name']} ({kept['tier']}*)"
                )
            elif len(stay["searches"]) < len(stay["tiers"]):
                tried = stay["tiers"][len(stay["searches"]) - 1]
                following = stay["tiers"][len(stay["searches"])]
                self.decisions.append(
                    f"no {tried}-star rooms in {stay['city']} "
                    f"{stay['check_in']}..{stay['check_out']} (sold out); trying {following} stars"
                )
                self._hotel_search(stay)
                waiting = True
            else:
                self.finish = Finish(
                    status="partial",
                    reason=f"no hotel rooms free in {stay['city']} "
                    f"{stay['check_in']}..{stay['check_out']} at any tier",
                )
                return
        for car in self.notes["cars"]:
            if car["choice"] is not None or car.get("dropped"):
                continue
            found = self._options(car["searches"][-1])
            options = None if found is None else self._cars_that_fit(car, found)
            if options is None:
                waiting = True
            elif options:
                car["choice"] = min(options, key=lambda o: self._car_cost(car, o))
            elif car.get("fallback"):
                kept_car: dict[str, Any] = car.pop("fallback")
                car["choice"] = kept_car
                self.decisions.append(
                    f"no cheaper cars at {car['airport']}; keeping the "
                    f"{kept_car['car_class']} found before"
                )
            elif len(car["searches"]) < len(car["classes"]):
                self.decisions.append(
                    f"no {car['classes'][len(car['searches']) - 1]} cars at {car['airport']}; "
                    "trying any class"
                )
                self._car_search(car)
                waiting = True
            else:
                car["dropped"] = True
                seen = ", ".join(f"{o['car_class']} ({o['cars_left']} left)" for o in found or [])
                wanted = (
                    f"{car['count']} cars are left"
                    if car.get("count")
                    else f"carries {self.trip.travelers} travellers with the cars left"
                )
                why = f"no class {wanted}: {seen}" if found else "none free for those dates"
                self.decisions.append(
                    f"no car at {car['airport']} {car['pick_up']}..{car['drop_off']}: {why}; "
                    "continuing without one"
                )
        if not waiting:
            self.notes["phase"] = "budget"

    def _car_quantity(self, car: dict[str, Any], option: dict[str, Any]) -> int:
        """Cars of `option` to book for the rental `car`: the count asked for there, or
        enough seats for every traveller."""
        count = car.get("count")
        return int(count) if count else cars_needed(option["car_class"], self.trip.travelers)

    def _cars_that_fit(
        self, car: dict[str, Any], options: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Car options of which enough are left for the rental `car` (`_car_quantity`)."""
        return [o for o in options if o["cars_left"] >= self._car_quantity(car, o)]

    def _car_cost(self, car: dict[str, Any], option: dict[str, Any]) -> float:
        return float(option["total_price"]) * self._car_quantity(car, option)

    # -- phase 3: budget ---------------------------------------------------------------------

    def _total(self) -> float:
        fares = sum(f["price"] for s in self.notes["legs"] for f in self._segments(s))
        flights = fares * self.trip.travelers
        hotels = sum(s["choice"]["total_price"] for s in self.notes["stays"])
        cars = sum(self._car_cost(c, c["choice"]) for c in self.notes["cars"] if c["choice"])
        return float(flights + hotels + cars)

    def _budget(self) -> None:
        total = self._total()
        self.notes["total"] = total
        budget = self.trip.budget
        if budget is None or total <= budget:
            if budget is not None:
                self.decisions.append(
                    f"total {_money(total)} is within the budget of {_money(budget)}"
                )
            self.notes["phase"] = "book"
            return
        steps = self.notes["budget_steps"]
        over = f"total {_money(total)} is over the budget of {_money(budget)}"
        if "cheapest_flights" not in steps:
            steps.append("cheapest_flights")
            self.notes["cheapest_flights"] = True
            changed = self._rechoose_cheapest_flights()
            if changed:
                self.decisions.append(f"{over}; switching to the cheapest fares")
                self._restart_stays()
                return
        if "cheaper_hotels" not in steps and any(
            s["tiers"][len(s["searches"]) - 1] > 1 for s in self.notes["stays"]
        ):
            steps.append("cheaper_hotels")
            self.decisions.append(f"{over}; searching hotels one tier lower")
            for stay in self.notes["stays"]:
                current = stay["tiers"][len(stay["searches"]) - 1]
                if current > 1:
                    stay["tiers"] = [*stay["tiers"][: len(stay["searches"])], current - 1]
                    stay["fallback"], stay["choice"] = stay["choice"], None
                    self._hotel_search(stay)
            self.notes["phase"] = "stays"
            return
        if "economy_cars" not in steps and any(
            c["choice"] and c["choice"]["car_class"] != "economy" for c in self.notes["cars"]
        ):
            steps.append("economy_cars")
            self.decisions.append(f"{over}; searching economy cars")
            for car in self.notes["cars"]:
                if car["choice"] and car["choice"]["car_class"] != "economy":
                    car["classes"] = [*car["classes"][: len(car["searches"])], "economy"]
                    car["fallback"], car["choice"] = car["choice"], None
                    self._car_search(car)
            self.notes["phase"] = "stays"
            return
        self.finish = Finish(
            status="partial",
            reason=f"over budget: the cheapest plan found costs {_money(total)} against a budget "
            f"of {_money(budget)}; nothing was booked",
        )

    def _rechoose_cheapest_flights(self) -> bool:
        changed = False
        previous = None
        for i, state in enumerate(self.notes["legs"]):
            if state.get("onward"):
                firsts, seconds = self._connection_options(state)
                pair = choose_connection(
                    firsts, seconds, self.trip.travelers, after=previous, cheapest=True
                )
                current = (state["choice"]["id"], state["onward"]["id"])
                if pair is not None and (pair[0]["id"], pair[1]["id"]) != current:
                    state["choice"], state["onward"] = pair
                    changed = True
                    self.decisions.append(self._describe_connection_choice(i, *pair))
                previous = state["onward"]
                continue
            options = [o for t in state["searches"] for o in (self._options(t) or [])]
            cheapest = choose_flight(options, self.trip.travelers, after=previous, cheapest=True)
            if cheapest is not None and cheapest["id"] != state["choice"]["id"]:
                state["choice"] = cheapest
                changed = True
                self.decisions.append(self._describe_flight_choice(i, cheapest, len(options)))
            previous = state["choice"]
        return changed

    def _restart_stays(self) -> None:
        self.notes["stays"], self.notes["cars"] = [], []
        self.notes["stays_planned"] = False
        self.notes["phase"] = "stays"
        self._stays()

    # -- phase 4: booking --------------------------------------------------------------------

    def _book_task(self, slot: str, kind: str, option: dict[str, Any], quantity: int) -> None:
        label, price = label_and_price(kind, option, quantity)
        inputs = {
            "kind": kind,
            "item_id": option["id"],
            "quantity": quantity,
            "label": label,
            "price": round(price, 2),
        }
        task_id = self._task(
            f"book-{slot}", "book", inputs, f"book {label}", reuse=False, after=self._source(option)
        )
        self.notes["bookings"][task_id] = {"slot": slot, "tried": [option["id"]]}

    def _book(self) -> None:
        for i, state in enumerate(self.notes["legs"]):
            if state.get("onward"):
                # A connection: each flight its own booking, the two slots 'a' and 'b'.
                for part, flight in zip("ab", self._segments(state), strict=True):
                    self._book_task(f"flight-{i + 1}{part}", "flight", flight, self.trip.travelers)
                continue
            self._book_task(f"flight-{i + 1}", "flight", state["choice"], self.trip.travelers)
        for stay in self.notes["stays"]:
            self._book_task(f"hotel-{stay['leg'] + 1}", "hotel", stay["choice"], self.trip.rooms)
        for car in self.notes["cars"]:
            if car["choice"]:
                quantity = self._car_quantity(car, car["choice"])
                self._book_task(f"car-{car['leg'] + 1}", "car", car["choice"], quantity)
        self.decisions.append(
            f"book {len(self.add)} items in one batch, total {_money(self.notes['total'])}"
        )
        self.notes["phase"] = "booking"

    def _after_booking(self) -> None:
        bookings: dict[str, Any] = self.notes["bookings"]
        statuses = {task_id: self._status(task_id) for task_id in bookings}
        releases = {t: self._status(t) for t in self.notes.get("releases", [])}
        if any(s in ("pending", "running") for s in [*statuses.values(), *releases.values()]):
            return
        stuck = [t for t, s in releases.items() if s == "failed"]
        # The engine refuses to retry a task past `max_identical_failures`: stop before that.
        tries = min(RELEASE_TRIES, self.view.context.max_identical_failures)
        again = [t for t in stuck if self.view.tasks[t]["failures"] < tries]
        if again:
            # A compensation that failed is tried again, never reported as done.
            self.retry = again
            self.decisions.append(
                "cancelling "
                + ", ".join(f"{t} failed ({self.view.tasks[t]['error']})" for t in again)
                + "; trying again"
            )
            return
        rejected = [t for t, s in statuses.items() if s == "cancelled"]
        failed = [t for t, s in statuses.items() if s == "failed"]
        if failed and not self.notes.get("compensating"):
            lost = [t for t in failed if not self._book_alternative(t)]
            essential = [t for t in lost if not bookings[t]["slot"].startswith("car-")]
            if essential:
                self._cancel_trip(essential[0])
            for task_id in lost:
                if task_id not in essential:
                    self.decisions.append(
                        f"{bookings[task_id]['slot']} could not be booked "
                        f"({self.view.tasks[task_id]['error']}) and no other car fits; "
                        "keeping the rest of the trip without it"
                    )
            if self.add or self.notes.get("compensating"):
                return
        done = [t for t, s in statuses.items() if s == "done"]
        released = [t for t, s in releases.items() if s == "done"]
        refs_released = {(self.view.output_of(t) or {}).get("ref") for t in released}
        kept = [t for t in done if (self.view.output_of(t) or {}).get("ref") not in refs_released]
        total = sum((self.view.output_of(t) or {}).get("total_price", 0.0) for t in kept)
        booked = f"{len(kept)} booked, total {_money(total)}"
        if self.notes.get("compensating"):
            reason = f"{self.notes['compensating']}; cancelled {len(released)} booking(s)"
            if stuck:
                refs = ", ".join(str(self.view.tasks[t]["inputs"]["ref"]) for t in stuck)
                reason += f"; could not cancel {refs}, which stay confirmed"
            self.finish = Finish(status="partial", reason=f"{reason}; {booked}")
        elif rejected or failed:
            parts = []
            if rejected:
                parts.append(f"{len(rejected)} booking(s) dropped at your request")
            if failed:
                parts.append(f"{len(failed)} booking(s) could not be made")
            self.finish = Finish(status="partial", reason="; ".join(parts) + f"; {booked}")
        else:
            self.finish = Finish(status="completed", reason=f"all {booked}")

    def _book_alternative(self, failed_id: str) -> bool:
        """Books the next-best option of the same search in place of a failed booking."""
        record = self.notes["bookings"][failed_id]
        slot: str = record["slot"]
        kind, index = slot.rsplit("-", 1)
        part = index[-1] if index[-1] in "ab" else ""
        i = int(index.rstrip("ab")) - 1
        options: list[dict[str, Any]]
        if kind == "flight":
            state = self.notes["legs"][i]
            if part:
                firsts, seconds = self._connection_options(state)
                hub = state["choice"]["destination"]
                options = [
                    o
                    for o in (firsts if part == "a" else seconds)
                    if hub in (o["destination"], o["origin"])
                ]
            else:
                options = [o for t in state["searches"] for o in (self._options(t) or [])]
            options = [o for o in options if self._fits_booked_plan(i, o, part)]
        elif kind == "hotel":
            stay = next(s for s in self.notes["stays"] if s["leg"] == i)
            options = self._options(stay["searches"][-1]) or []
        else:
            car = next(c for c in self.notes["cars"] if c["leg"] == i)
            options = self._cars_that_fit(car, self._options(car["searches"][-1]) or [])
        remaining = [o for o in options if o["id"] not in record["tried"]]
        if kind == "flight":
            remaining = [o for o in remaining if o["seats_left"] >= self.trip.travelers]
        if not remaining:
            return False
        price_key = "price" if kind == "flight" else "total_price"
        option = min(remaining, key=lambda o: o[price_key])
        if kind == "car":
            quantity = self._car_quantity(car, option)
        else:
            quantity = self.trip.travelers if kind == "flight" else self.trip.rooms
        if kind == "flight":
            # The plan now holds the replacement: a later replacement must fit it, not the
            # flight that could not be booked.
            self.notes["legs"][i]["onward" if part == "b" else "choice"] = option
        before = len(self.add)
        self._book_task(slot, kind, option, quantity)
        new_id = self.add[before].id if len(self.add) > before else None
        if new_id:
            self.notes["bookings"][new_id]["tried"] = [*record["tried"], option["id"]]
        del self.notes["bookings"][failed_id]
        label, _ = label_and_price(kind, option, quantity)
        self.decisions.append(
            f"booking {failed_id} failed ({self.view.tasks[failed_id]['error']}); "
            f"booking the next option instead: {label}"
        )
        return True

    def _fits_booked_plan(self, i: int, option: dict[str, Any], part: str = "") -> bool:
        """Whether a replacement flight for leg `i` keeps the rest of the plan valid (`part`:
        '' for a leg's only flight, 'a' or 'b' for the first or second of a connection).

        It must connect with the flights before and after it (with the other half of its
        connection by the connection rules); every night it needs must still have its room (the
        stay at its destination from landing, a red-eye's night before included, and the stay
        it leaves until it departs: an unused night is fine, a night without a room is not);
        and the cars on either side must still cover it. The rules are the verifier's
        (`domains.travel.policy`).
        """
        legs = self.notes["legs"]
        travelers = self.trip.travelers
        if option["seats_left"] < travelers:
            return False
        if part == "b":
            if not connects(legs[i]["choice"], option):
                return False
        elif i and choose_flight([option], travelers, after=self._landing(i - 1)) is None:
            return False
        after = self._leaving(i + 1) if i + 1 < len(legs) else None
        if part == "a":
            if not connects(option, legs[i]["onward"]):
                return False
        elif after is not None and choose_flight([after], 1, after=option) is None:
            return False
        if part != "b":
            # It leaves the previous stay: that room and car must last until it departs.
            leaving = option["depart_local"][:10]
            left = next((s for s in self.notes["stays"] if s["leg"] == i - 1), None)
            if left is not None and leaving > left["check_out"]:
                return False
            left_car = next(
                (c for c in self.notes["cars"] if c["leg"] == i - 1 and c["choice"]), None
            )
            if left_car is not None and left_car["choice"]["drop_off"] < leaving:
                return False
        if part == "a":
            return True
        # It lands where the next stay begins: the room and car must be there from its landing.
        landing = option["arrive_local"][:10]
        stay = next((s for s in self.notes["stays"] if s["leg"] == i), None)
        if stay is not None and after is not None:
            check_in, check_out, _ = stay_dates(option, after)
            if not (
                stay["check_in"] <= check_in.isoformat()
                and check_out.isoformat() <= stay["check_out"]
            ):
                return False
        car = next((c for c in self.notes["cars"] if c["leg"] == i and c["choice"]), None)
        return not (car is not None and car["choice"]["pick_up"] > landing)

    def _cancel_trip(self, failed_id: str) -> None:
        """Compensates: a flight or a stay that cannot be had leaves no trip, so every booking
        this run confirmed is cancelled (a return flight alone is not a trip)."""
        slot = self.notes["bookings"][failed_id]["slot"]
        reason = f"{slot} could not be booked ({self.view.tasks[failed_id]['error']})"
        self.notes["compensating"] = reason
        for task_id, record in self.notes["bookings"].items():
            if self._status(task_id) != "done":
                continue
            ref = (self.view.output_of(task_id) or {}).get("ref")
            if ref:
                release = self._task(
                    f"cancel-{record['slot']}",
                    "cancel",
                    {"ref": ref, "reason": reason[:REASON_CHARS]},
                    f"release {record['slot']}",
                    reuse=False,
                    after=[task_id],
                )
                self.notes.setdefault("releases", []).append(release)
        self.decisions.append(
            f"{reason}; no alternative left, so cancelling the trip's other bookings"
        )


def label_and_price(kind: str, option: dict[str, Any], quantity: int) -> tuple[str, float]:
    """How a booking of `quantity` of `option` reads, and what it costs in total."""
    if kind == "flight":
        label = (
            f"flight {option['flight_no']} {option['origin']}->{option['destination']} "
            f"{option['depart_local'][:16]} x{quantity}"
        )
        return label, float(option["price"]) * quantity
    if kind == "hotel":
        label = (
            f"{option['name']} ({option['tier']}*) {option['city']} "
            f"{option['check_in']}..{option['check_out']} x{option['rooms']} room(s)"
        )
        return label, float(option["total_price"])
    dates = f"{option['pick_up']}..{option['drop_off']}"
    label = f"{quantity} x {option['car_class']} car at {option['airport']} {dates}"
    return label, float(option["total_price"]) * quantity
