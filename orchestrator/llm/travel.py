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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from domains.travel.itinerary import ItinerarySynthesizer
from domains.travel.models import TripRequest
from domains.travel.workers.book import BookInput
from domains.travel.workers.cancel import CancelInput
from orchestrator.llm import prompts
from orchestrator.llm.planner import LLMPlanner, clip
from orchestrator.planning import NewTask, PlanUpdate, PlanView
from state import Task, TaskResult

SEARCH_KINDS = {"search_flights": "flight", "search_hotels": "hotel", "search_cars": "car"}
RECENT_SEARCHES = 6
"""Searches whose options are shown to the planner (the latest ones)."""
OPTIONS_PER_SEARCH = 3
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


def _compact_option(kind: str, o: Mapping[str, Any]) -> dict[str, Any]:
    """Ids, times and prices only: descriptions are third-party text and stay out."""
    if kind == "flight":
        return {
            "id": o["id"],
            "flight": o["flight_no"],
            "route": f"{o['origin']}->{o['destination']}",
            "departs": str(o["depart_local"])[:16],
            "arrives": str(o["arrive_local"])[:16],
            "price_per_traveller": o["price"],
            "seats_left": o["seats_left"],
            "red_eye": o["red_eye"],
        }
    if kind == "hotel":
        return {
            "id": o["id"],
            "name": clip(str(o["name"]), NAME_CHARS),
            "stars": o["tier"],
            "nights": f"{o['check_in']}..{o['check_out']}",
            "rooms": o["rooms"],
            "total_price": o["total_price"],
        }
    return {
        "id": o["id"],
        "class": o["car_class"],
        "days": f"{o['pick_up']}..{o['drop_off']}",
        "total_price_per_car": o["total_price"],
    }


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


class TravelGuide:
    """Implements `PlanningGuide` for trips given as a `TripRequest` in the run's request."""

    name = "travel"

    def _trip(self, view: PlanView) -> TripRequest | None:
        try:
            return TripRequest.model_validate(view.request or {})
        except ValidationError:
            return None

    def facts(self, view: PlanView) -> dict[str, Any]:
        trip = self._trip(view)
        searches = [
            t
            for t in view.tasks.values()
            if t["worker"] in SEARCH_KINDS and _done_output(t, view.results) is not None
        ][-RECENT_SEARCHES:]
        options = {}
        for task in searches:
            kind = SEARCH_KINDS[task["worker"]]
            found = (_done_output(task, view.results) or {}).get("options", [])
            options[task["id"]] = [_compact_option(kind, o) for o in found[:OPTIONS_PER_SEARCH]]
        bookings = []
        for task in view.tasks.values():
            output = _done_output(task, view.results) if task["worker"] == "book" else None
            if output:
                bookings.append(
                    {
                        "task": task["id"],
                        "ref": output["ref"],
                        "kind": output["kind"],
                        "status": output["status"],
                        "total_price": output["total_price"],
                    }
                )
        cash = money(view, trip.budget if trip else None)
        return {
            "travelers": trip.travelers if trip else None,
            "rooms_needed": trip.rooms if trip else None,
            "money": {
                "budget": cash.budget,
                "booked": cash.booked,
                "awaiting_booking": cash.awaiting,
                "remaining": cash.remaining,
            },
            "bookable_options": options,
            "bookings": bookings[-10:],
            "booking_rules": prompts.TRAVEL_BOOKING_RULES,
        }

    def review(self, view: PlanView, update: PlanUpdate) -> tuple[PlanUpdate, list[str]]:
        trip = self._trip(view)
        index = option_index(view.tasks, view.results)
        errors: list[str] = []
        priced: list[NewTask] = []
        new_spend: list[tuple[str, float]] = []
        my_refs = {
            str(out["ref"])
            for t in view.tasks.values()
            if t["worker"] == "book" and (out := _done_output(t, view.results))
        }
        for new in update.add:
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
                priced.append(new)  # the generic validation reports the schema error
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
            price = _price(kind, option, booking.quantity)
            new_spend.append((new.id, price))
            inputs = {
                **new.inputs,
                "price": price,
                "label": _label(kind, option, booking.quantity),
            }
            priced.append(new.model_copy(update={"inputs": inputs}))
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
