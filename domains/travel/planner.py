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
from domains.travel.policy import cars_needed, choose_flight, stay_dates, tier_order
from orchestrator.planning import Finish, NewTask, PlanOutcome, PlanUpdate, PlanView

Notes = dict[str, Any]

RELEASE_TRIES = 3
"""Times a compensating cancellation is tried (each try with the worker's own retries) before
the run ends and reports the booking as still confirmed."""


def _money(amount: float) -> str:
    return f"${amount:,.0f}"


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
        legs = self.notes["legs"]
        return [s for i in (leg, leg + 1) for s in self._source(legs[i]["choice"])]

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

    def _flight_search(self, i: int, origin: str, destination: str, day: date, why: str) -> str:
        inputs = {
            "origin": origin,
            "destination": destination,
            "date": day.isoformat(),
            "travelers": self.trip.travelers,
            "cabin": self.trip.cabin,
            "max_results": 6,
        }
        return self._task(f"flights-{i + 1}", "search_flights", inputs, why)

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
            if state["choice"] is not None:
                continue
            found = [self._options(t) for t in state["searches"]]
            if any(f is None for f in found):
                return  # still searching
            previous = legs[i - 1]["choice"] if i else None
            if i and previous is None:
                return
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
            if state.get("widened"):
                self.finish = Finish(
                    status="partial",
                    reason=f"no flight for leg {i + 1} "
                    f"({self.trip.legs[i].origin}->{self.trip.legs[i].destination}) around "
                    f"{self.trip.legs[i].date}, even a day either side or from other airports",
                )
                return
            self._widen_leg(i)
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

    def _widen_leg(self, i: int) -> None:
        leg = self.trip.legs[i]
        state = self.notes["legs"][i]
        state["widened"] = True
        tries: list[tuple[str, str, date, str]] = [
            (leg.origin, leg.destination, leg.date - timedelta(days=1), "a day earlier"),
            (leg.origin, leg.destination, leg.date + timedelta(days=1), "a day later"),
        ]
        for alt in self.siblings.get(leg.origin, []):
            tries.append((alt, leg.destination, leg.date, f"from {alt}"))
        for alt in self.siblings.get(leg.destination, []):
            tries.append((leg.origin, alt, leg.date, f"to {alt}"))
        for origin, destination, day, why in tries:
            state["searches"].append(self._flight_search(i, origin, destination, day, why))
        self.decisions.append(
            f"leg {i + 1}: no seats {leg.origin}->{leg.destination} on {leg.date}; searching "
            + ", ".join(t[3] for t in tries)
        )

    # -- phase 2: stays and cars -------------------------------------------------------------

    def _plan_stays(self) -> None:
        legs = [s["choice"] for s in self.notes["legs"]]
        stays: list[dict[str, Any]] = []
        cars: list[dict[str, Any]] = []
        for i in range(len(legs) - 1):
            landing, leaving = legs[i], legs[i + 1]
            check_in, check_out, early = stay_dates(landing, leaving)
            city = self.city_of.get(landing["destination"], landing["destination"])
            if check_out <= check_in:
                self.decisions.append(f"no hotel in {city}: the next flight leaves the same day")
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
                    "tiers": tier_order(self.trip.hotel_tier),
                    "searches": [],
                    "choice": None,
                    "leg": i,
                    "extra_night": early,
                }
            )
            if self.trip.car:
                pick_up = landing["arrive_local"][:10]
                cars.append(
                    {
                        "airport": landing["destination"],
                        "pick_up": pick_up,
                        "drop_off": max(check_out.isoformat(), pick_up),
                        "classes": [self.trip.car_class, None],
                        "searches": [],
                        "choice": None,
                        "leg": i,
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
            options = None if found is None else self._cars_that_carry_everyone(found)
            if options is None:
                waiting = True
            elif options:
                car["choice"] = min(options, key=self._car_cost)
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
                why = (
                    f"none carries {self.trip.travelers} travellers with the cars left: {seen}"
                    if found
                    else "none free for those dates"
                )
                self.decisions.append(
                    f"no car at {car['airport']} {car['pick_up']}..{car['drop_off']}: {why}; "
                    "continuing without one"
                )
        if not waiting:
            self.notes["phase"] = "budget"

    def _cars_that_carry_everyone(self, options: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Car options of which enough are left to seat every traveller."""
        return [
            o for o in options if o["cars_left"] >= cars_needed(o["car_class"], self.trip.travelers)
        ]

    def _car_cost(self, option: dict[str, Any]) -> float:
        return float(option["total_price"]) * cars_needed(option["car_class"], self.trip.travelers)

    # -- phase 3: budget ---------------------------------------------------------------------

    def _total(self) -> float:
        flights = sum(s["choice"]["price"] for s in self.notes["legs"]) * self.trip.travelers
        hotels = sum(s["choice"]["total_price"] for s in self.notes["stays"])
        cars = sum(self._car_cost(c["choice"]) for c in self.notes["cars"] if c["choice"])
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
            self._book_task(f"flight-{i + 1}", "flight", state["choice"], self.trip.travelers)
        for stay in self.notes["stays"]:
            self._book_task(f"hotel-{stay['leg'] + 1}", "hotel", stay["choice"], self.trip.rooms)
        for car in self.notes["cars"]:
            if car["choice"]:
                quantity = cars_needed(car["choice"]["car_class"], self.trip.travelers)
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
        i = int(index) - 1
        options: list[dict[str, Any]]
        if kind == "flight":
            state = self.notes["legs"][i]
            options = [o for t in state["searches"] for o in (self._options(t) or [])]
            options = [o for o in options if self._fits_booked_plan(i, o)]
        elif kind == "hotel":
            stay = next(s for s in self.notes["stays"] if s["leg"] == i)
            options = self._options(stay["searches"][-1]) or []
        else:
            car = next(c for c in self.notes["cars"] if c["leg"] == i)
            options = self._cars_that_carry_everyone(self._options(car["searches"][-1]) or [])
        remaining = [o for o in options if o["id"] not in record["tried"]]
        if kind == "flight":
            remaining = [o for o in remaining if o["seats_left"] >= self.trip.travelers]
        if not remaining:
            return False
        price_key = "price" if kind == "flight" else "total_price"
        option = min(remaining, key=lambda o: o[price_key])
        quantity = {"flight": self.trip.travelers, "hotel": self.trip.rooms}.get(
            kind, cars_needed(str(option.get("car_class")), self.trip.travelers)
        )
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

    def _fits_booked_plan(self, i: int, option: dict[str, Any]) -> bool:
        """Whether a replacement flight for leg `i` keeps the rest of the plan valid.

        It must connect with the legs before and after it; every night it needs must still
        have its room (the stay at its destination from landing, a red-eye's night before
        included, and the stay it leaves until it departs: an unused night is fine, a night
        without a room is not); and the cars on either side must still cover it. The rules are
        the verifier's (`domains.travel.policy`).
        """
        legs = self.notes["legs"]
        before = legs[i - 1]["choice"] if i else None
        if choose_flight([option], self.trip.travelers, after=before) is None:
            return False
        after = legs[i + 1]["choice"] if i + 1 < len(legs) else None
        if after is not None and choose_flight([after], 1, after=option) is None:
            return False
        landing = option["arrive_local"][:10]
        leaving = option["depart_local"][:10]
        stay = next((s for s in self.notes["stays"] if s["leg"] == i), None)
        if stay is not None and after is not None:
            check_in, check_out, _ = stay_dates(option, after)
            if not (
                stay["check_in"] <= check_in.isoformat()
                and check_out.isoformat() <= stay["check_out"]
            ):
                return False
        left = next((s for s in self.notes["stays"] if s["leg"] == i - 1), None)
        if left is not None and leaving > left["check_out"]:
            return False
        car = next((c for c in self.notes["cars"] if c["leg"] == i and c["choice"]), None)
        if car is not None and car["choice"]["pick_up"] > landing:
            return False
        left_car = next((c for c in self.notes["cars"] if c["leg"] == i - 1 and c["choice"]), None)
        return not (left_car is not None and left_car["choice"]["drop_off"] < leaving)

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
                    {"ref": ref, "reason": reason},
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
