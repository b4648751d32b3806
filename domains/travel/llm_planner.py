"""What the travel domain adds when an LLM plans a trip: facts, booking checks, an itinerary.

`TravelGuide` gives the LLM planner the facts it needs to book (the bookable options of recent
searches, with ids and prices, and the money left) and reviews each answer before validation:
- a booking must name an option that a search of this run returned, in the right quantity;
- its price is taken from that search, never from the model, so the approval shows the truth;
- bookings that would take the trip over its budget are refused;
- a cancellation must name a booking this run made.
So text that came back from a worker (a hotel description that says "book 10 rooms") cannot
lead to a booking that the budget, the validation or the approval step would refuse.

The itinerary of a run an LLM planned is the same one the offline planner's runs get: read from
the booking ledger, never from what the model said it booked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from domains.travel import prompts
from domains.travel.itinerary import ItinerarySynthesizer
from domains.travel.models import TripRequest
from domains.travel.policy import (
    CAR_SEATS,
    EARLY_ARRIVAL_HOUR,
    MAX_CONNECTION,
    MIN_CONNECTION,
    cars_needed,
    lands_early,
    stay_dates,
)
from domains.travel.wishes import car_booking_problem, cars_wanted, counts_seats
from domains.travel.workers.book import BookInput
from domains.travel.workers.cancel import CancelInput
from orchestrator.llm.planner import NOT_SHOWN, LLMPlanner, clip
from orchestrator.planning import NewTask, PlanUpdate, PlanView
from orchestrator.refs import has_refs
from state import Task, TaskResult

SEARCH_KINDS = {"search_flights": "flight", "search_hotels": "hotel", "search_cars": "car"}
RECENT_SEARCHES = 8
"""Searches whose options are shown to the planner (the latest current ones)."""
NAME_CHARS = 40


def _done_output(task: Task, results: Mapping[str, TaskResult]) -> dict[str, Any] | None:
    result = results.get(task["result_ref"] or "")
    if task["status"] != "done" or result is None or not result["ok"]:
        return None
    return result["output"]


def option_index(
    tasks: Mapping[str, Task], results: Mapping[str, TaskResult]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every option a search of this run found, by id: (kind, option)."""
    index: dict[str, tuple[str, dict[str, Any]]] = {}
    for task in tasks.values():
        kind = SEARCH_KINDS.get(task["worker"])
        output = _done_output(task, results) if kind else None
        for option in (output or {}).get("options", []):
            index[str(option["id"])] = (str(kind), option)
    return index


def _compact_option(kind: str, o: Mapping[str, Any], travelers: int) -> dict[str, Any]:
    """Ids, times and prices only: descriptions are third-party text and stay out. A stay's id
    holds its hotel, dates and rooms, a rental's its airport, class and dates: not repeated.
    A flight departs on the day its id names (the day searched), so only the time is shown; its
    seats only when they cannot carry every traveller."""
    if kind == "flight":
        row = {
            "id": o["id"],
            "departs": str(o["depart_local"])[11:16],
            "arrives": str(o["arrive_local"])[:16],
            "fare": _number(o["price"]),
        }
        if o["seats_left"] < travelers:
            row["seats"] = o["seats_left"]
        if o["red_eye"]:
            row["red_eye"] = True
        return row
    if kind == "hotel":
        return {
            "id": o["id"],
            "name": clip(str(o["name"]), NAME_CHARS),
            "stars": o["tier"],
            "price": _number(o["total_price"]),
        }
    return {"id": o["id"], "price_per_car": _number(o["total_price"])}


def _number(value: Any) -> Any:
    """A whole amount without its `.0`: the same price in fewer characters."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass(frozen=True)
class Money:
    budget: float | None
    booked: float
    """Confirmed bookings of this run, less those cancelled since."""
    awaiting: float
    """Bookings planned or running, at their search price."""

    @property
    def remaining(self) -> float | None:
        return None if self.budget is None else round(self.budget - self.booked - self.awaiting, 2)


def money(view: PlanView, budget: float | None) -> Money:
    cancelled: set[str] = set()
    for task in view.tasks.values():
        output = _done_output(task, view.results) if task["worker"] == "cancel" else None
        if output and output.get("status") == "cancelled":
            cancelled.add(str(output["ref"]))
    booked = awaiting = 0.0
    for task in view.tasks.values():
        if task["worker"] != "book":
            continue
        output = _done_output(task, view.results)
        if output is not None:
            if output.get("status") == "confirmed" and output["ref"] not in cancelled:
                booked += float(output["total_price"])
        elif task["status"] in ("pending", "running"):
            awaiting += float(task["inputs"].get("price") or 0.0)
    return Money(budget=budget, booked=round(booked, 2), awaiting=round(awaiting, 2))


def _label(kind: str, o: Mapping[str, Any], quantity: int) -> str:
    if kind == "flight":
        return (
            f"flight {o['flight_no']} {o['origin']}->{o['destination']} "
            f"{str(o['depart_local'])[:16]} x{quantity}"
        )
    if kind == "hotel":
        return (
            f"{clip(str(o['name']), NAME_CHARS)} ({o['tier']}*) {o['city']} "
            f"{o['check_in']}..{o['check_out']} x{o['rooms']} room(s)"
        )
    return f"{o['car_class']} car at {o['airport']} {o['pick_up']}..{o['drop_off']} x{quantity}"


def _price(kind: str, o: Mapping[str, Any], quantity: int) -> float:
    if kind == "flight":
        return round(float(o["price"]) * quantity, 2)
    if kind == "hotel":
        return round(float(o["total_price"]), 2)
    return round(float(o["total_price"]) * quantity, 2)


def _example_flight(depart: str, arrive: str) -> dict[str, Any]:
    return {"depart_local": depart, "arrive_local": arrive}


def date_rules() -> str:
    """The date rules, written from the policy the verifier and the offline planner use: the
    red-eye example is computed by `stay_dates` and `lands_early` themselves."""
    red_eye = _example_flight("2027-03-01T22:00:00-05:00", "2027-03-02T05:40:00+01:00")
    leaving = _example_flight("2027-03-06T11:00:00+01:00", "2027-03-06T14:00:00-05:00")
    check_in, check_out, _ = stay_dates(red_eye, leaving)
    assert lands_early(red_eye)
    seats = ", ".join(f"{cls} {n}" for cls, n in CAR_SEATS.items())
    return prompts.TRAVEL_DATE_RULES.format(
        early_hour=EARLY_ARRIVAL_HOUR,
        red_eye=(
            f"lands {red_eye['arrive_local'][:16]}, next flight out "
            f"{leaving['depart_local'][:10]}: check_in {check_in}, check_out {check_out}"
        ),
        min_connection=int(MIN_CONNECTION.total_seconds() // 60),
        max_connection=int(MAX_CONNECTION.total_seconds() // 3600),
        car_seats=seats,
    )


def _cars_rule(travelers: int) -> str:
    return ", ".join(f"{cars_needed(cls, travelers)} {cls}" for cls in CAR_SEATS)


def _search_key(task: Task) -> tuple[str, ...]:
    """What a search is for: a newer search with the same key supersedes an older one."""
    inputs = task["inputs"]
    if task["worker"] == "search_flights":
        return ("flight", str(inputs.get("origin")), str(inputs.get("destination")))
    if task["worker"] == "search_hotels":
        return ("hotel", str(inputs.get("city", "")).lower())
    return ("car", str(inputs.get("airport")))


def booking_statuses(
    tasks: Mapping[str, Task], results: Mapping[str, TaskResult]
) -> dict[str, str]:
    """Each booking ref of this run and its status now: a later cancel's result wins."""
    status: dict[str, str] = {}
    for task in tasks.values():
        output = _done_output(task, results) if task["worker"] in ("book", "cancel") else None
        if output and "ref" in output:
            if task["worker"] == "book":
                status.setdefault(str(output["ref"]), str(output["status"]))
            elif output.get("status") == "cancelled":
                status[str(output["ref"])] = "cancelled"
    return status


def held_items(
    tasks: Mapping[str, Task],
    results: Mapping[str, TaskResult],
    cancelling: Collection[str] = (),
) -> dict[str, str]:
    """Option ids a live booking of this run holds (unless `cancelling` names its ref), or that
    a pending booking will take, each with the task that holds it."""
    live = booking_statuses(tasks, results)
    held: dict[str, str] = {}
    for task in tasks.values():
        if task["worker"] != "book":
            continue
        output = _done_output(task, results)
        if output is not None:
            ref = str(output["ref"])
            if live.get(ref) == "confirmed" and ref not in cancelling:
                held[str(output["item_id"])] = f"task {task['id']}, booking {ref}"
        elif task["status"] in ("pending", "running"):
            held[str(task["inputs"].get("item_id"))] = f"task {task['id']}, not done yet"
    return held


def taken_items(tasks: Mapping[str, Task], results: Mapping[str, TaskResult]) -> set[str]:
    """Option ids that a live booking of this run holds, or that a pending booking will take."""
    return set(held_items(tasks, results))


def _live_car_seats(
    view: PlanView, index: Mapping[str, tuple[str, dict[str, Any]]], airport: str
) -> int:
    """Seats of the cars this run already holds (or will, pending) at `airport`."""
    seats = 0
    for item in taken_items(view.tasks, view.results):
        found = index.get(item)
        if found and found[0] == "car" and str(found[1]["airport"]) == airport:
            quantity = next(
                (
                    int(t["inputs"].get("quantity") or 1)
                    for t in view.tasks.values()
                    if t["worker"] == "book" and str(t["inputs"].get("item_id")) == item
                ),
                1,
            )
            seats += quantity * CAR_SEATS.get(str(found[1]["car_class"]), 4)
    return seats


class TravelGuide:
    """Implements `PlanningGuide` for trips given as a `TripRequest` in the run's request."""

    name = "travel"
    filled: ClassVar[Mapping[str, tuple[str, ...]]] = {"book": ("label", "price")}
    """Inputs `review` writes from the search, whatever the model sends: not in the catalogue."""

    def _trip(self, view: PlanView) -> TripRequest | None:
        try:
            return TripRequest.model_validate(view.request or {})
        except ValidationError:
            return None

    def rules(self, view: PlanView) -> str:
        """Fixed for every run: the system prompt's rules (the cache-friendly prefix)."""
        return date_rules() + "\n" + prompts.TRAVEL_BOOKING_RULES

    def covered(self, facts: Mapping[str, Any]) -> list[str]:
        """The searches whose options the facts list: their board summaries would repeat them.
        A search that found nothing keeps its summary (sold out, or not served and via which
        hubs), and so does one whose options were left out in part to fit the prompt."""
        options = facts.get("bookable_options") or {}
        return [
            task
            for task, o in options.items()
            if (o["bookable"] or o.get("already_booked")) and not o.get("bookable" + NOT_SHOWN)
        ]

    def facts(self, view: PlanView) -> dict[str, Any]:
        """What the planner needs to book, and only what applies: no money without a budget
        (the request says the travellers), no empty lists."""
        trip = self._trip(view)
        travelers = trip.travelers if trip else 1
        done = [
            t
            for t in view.tasks.values()
            if t["worker"] in SEARCH_KINDS and _done_output(t, view.results) is not None
        ]
        # Only the latest search per route, city or airport is current: an older one for the
        # same thing is superseded (another tier, day or page) and its options leave the list.
        latest: dict[tuple[str, ...], Task] = {}
        for task in done:
            latest[_search_key(task)] = task
        current = [t for t in done if latest[_search_key(t)] is t][-RECENT_SEARCHES:]
        taken = taken_items(view.tasks, view.results)
        options: dict[str, Any] = {}
        for task in current:
            kind = SEARCH_KINDS[task["worker"]]
            page = _done_output(task, view.results) or {}
            found = page.get("options", [])
            listed = [
                _compact_option(kind, o, travelers) for o in found if str(o["id"]) not in taken
            ]
            total = int(page.get("total") or len(found))
            offset = int(page.get("offset") or 0)
            options[task["id"]] = {
                "shown": f"{len(found)} of {total}" + (f" from #{offset + 1}" if offset else ""),
                "bookable": listed,
            }
            if len(listed) < len(found):
                options[task["id"]]["already_booked"] = len(found) - len(listed)
        statuses = booking_statuses(view.tasks, view.results)
        bookings = []
        for task in view.tasks.values():
            output = _done_output(task, view.results) if task["worker"] == "book" else None
            if output:
                bookings.append(
                    {
                        "task": task["id"],
                        "ref": output["ref"],
                        "kind": output["kind"],
                        "item": output["item_id"],
                        "status": statuses.get(str(output["ref"]), output["status"]),
                        "total_price": output["total_price"],
                    }
                )
        facts: dict[str, Any] = {}
        if trip is not None:
            facts["rooms_needed"] = trip.rooms
            if (cars := cars_wanted(trip)) is not None:
                facts["cars_needed"] = cars  # where cars are wanted, and how many
            if trip.budget is not None:
                cash = money(view, trip.budget)
                facts["money"] = {
                    "budget": cash.budget,
                    "booked": cash.booked,
                    "awaiting_booking": cash.awaiting,
                    "remaining": cash.remaining,
                }
        if options:
            facts["bookable_options"] = options
        if bookings:
            facts["bookings"] = bookings[-10:]
        return facts

    def review(self, view: PlanView, update: PlanUpdate) -> tuple[PlanUpdate, list[str]]:
        trip = self._trip(view)
        index = option_index(view.tasks, view.results)
        errors: list[str] = []
        priced: list[NewTask] = []
        new_spend: list[tuple[str, float]] = []
        car_seats_asked: dict[str, int] = {}
        car_tasks: dict[str, list[str]] = {}
        my_refs = {
            str(out["ref"])
            for t in view.tasks.values()
            if t["worker"] == "book" and (out := _done_output(t, view.results))
        }
        cancelling = {str(new.inputs.get("ref")) for new in update.add if new.worker == "cancel"}
        held = held_items(view.tasks, view.results, cancelling)
        booked_here: dict[str, str] = {}
        for new in update.add:
            if new.worker in ("book", "cancel") and has_refs(new.inputs):
                # What is booked or cancelled must be a literal the checks below (and the
                # traveller's approval) can read, not a value filled in later.
                errors.append(
                    f"task {new.id!r}: {new.worker} takes literal inputs, not a $ref: an "
                    "item_id from bookable_options, a ref from bookings"
                )
                continue
            if new.worker == "cancel":
                try:
                    ref = CancelInput.model_validate(new.inputs).ref
                except ValidationError:
                    ref = None  # the generic validation reports the schema error
                if ref is not None and ref not in my_refs:
                    errors.append(
                        f"task {new.id!r}: {ref!r} is not a booking of this run; "
                        "cancel only refs listed under bookings"
                    )
            if new.worker != "book":
                priced.append(new)
                continue
            try:
                booking = BookInput.model_validate(new.inputs)
            except ValidationError:
                # The generic validation reports the schema error; the option is checked too, so
                # one re-ask can fix both.
                item = new.inputs.get("item_id")
                if isinstance(item, str) and item not in index:
                    errors.append(
                        f"task {new.id!r}: {item!r} is not an option that a search of this "
                        "run returned; book only ids listed under bookable_options"
                    )
                priced.append(new)
                continue
            found = index.get(booking.item_id)
            if found is None:
                errors.append(
                    f"task {new.id!r}: {booking.item_id!r} is not an option that a search of "
                    "this run returned; book only ids listed under bookable_options"
                )
                priced.append(new)
                continue
            kind, option = found
            if booking.item_id in held:
                errors.append(
                    f"task {new.id!r}: {booking.item_id!r} is already booked by this run "
                    f"({held[booking.item_id]}); book another option, or cancel that booking "
                    "first to change it"
                )
            if (other := booked_here.get(booking.item_id)) is not None:
                errors.append(
                    f"task {new.id!r}: {booking.item_id!r} is booked by task {other!r} of this "
                    "update too; book it once, with the whole quantity"
                )
            booked_here.setdefault(booking.item_id, new.id)
            if kind != booking.kind:
                errors.append(
                    f"task {new.id!r}: {booking.item_id!r} is a {kind}, not a {booking.kind}"
                )
            if kind == "hotel" and booking.quantity != option["rooms"]:
                errors.append(
                    f"task {new.id!r}: quantity must be {option['rooms']}, the rooms in the "
                    f"stay id {booking.item_id!r} (rooms needed: "
                    f"{trip.rooms if trip else 'unknown'})"
                )
            if kind == "flight" and trip is not None and booking.quantity != trip.travelers:
                errors.append(
                    f"task {new.id!r}: quantity must be {trip.travelers}, a seat per traveller"
                )
            if kind == "car" and trip is not None:
                airport, car_class = str(option["airport"]), str(option["car_class"])
                if problem := car_booking_problem(trip, airport, car_class, booking.quantity):
                    errors.append(f"task {new.id!r}: {problem}")
            if kind == "car" and trip is not None and counts_seats(trip, str(option["airport"])):
                car_seats_asked[str(option["airport"])] = car_seats_asked.get(
                    str(option["airport"]), 0
                ) + booking.quantity * CAR_SEATS.get(str(option["car_class"]), 4)
                car_tasks.setdefault(str(option["airport"]), []).append(new.id)
            price = _price(kind, option, booking.quantity)
            new_spend.append((new.id, price))
            inputs = {
                **new.inputs,
                "price": price,
                "label": _label(kind, option, booking.quantity),
            }
            changes: dict[str, Any] = {"inputs": inputs}
            asked = new.inputs.get("price")
            if asked is not None and abs(float(asked) - price) > 0.005:
                # Said where the model reads it next round: the task's reason on the board.
                changes["reason"] = clip(
                    f"price corrected from ${float(asked):,.2f} to ${price:,.2f} (the search's)"
                    + (f"; {new.reason}" if new.reason else ""),
                    100,
                )
            priced.append(new.model_copy(update=changes))
        if trip is not None:
            for airport, seats in car_seats_asked.items():
                seats += _live_car_seats(view, index, airport)
                if seats < trip.travelers:
                    errors.append(
                        f"task(s) {', '.join(car_tasks[airport])}: cars at {airport} seat "
                        f"{seats}, not the {trip.travelers} travellers: "
                        f"{_cars_rule(trip.travelers)}"
                    )
        for task_id in update.retry:
            retried = view.tasks.get(task_id)
            if retried is not None and retried["worker"] == "book":
                new_spend.append((task_id, float(retried["inputs"].get("price") or 0.0)))
        if trip is not None and trip.budget is not None and new_spend:
            cash = money(view, trip.budget)
            total = round(sum(p for _, p in new_spend), 2)
            remaining = cash.remaining or 0.0
            if total > remaining + 0.005:
                errors.append(
                    f"bookings {', '.join(i for i, _ in new_spend)} would cost ${total:,.2f}, "
                    f"over the ${remaining:,.2f} left of the ${trip.budget:,.2f} budget "
                    f"(${cash.booked + cash.awaiting:,.2f} booked or awaiting booking): "
                    "choose cheaper options, or finish partial"
                )
        return update.model_copy(update={"add": priced}), errors


def travel_llm_planner() -> LLMPlanner:
    return LLMPlanner(guide=TravelGuide())


def board_itinerary_synthesizer() -> ItinerarySynthesizer:
    """The travel itinerary of a run an LLM planned: the same ledger-based synthesizer."""
    return ItinerarySynthesizer()
