"""What the traveller sees before anything is booked: each item, its price, and the alternatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from domains.travel.models import TripRequest
from domains.travel.planner import label_and_price
from domains.travel.policy import (
    MIN_CONNECTION,
    arrival,
    car_seats,
    connects,
    departure,
    lands_early,
    utc,
)
from domains.travel.verifier import CITY_OF
from domains.travel.wishes import car_need
from state import Task, TaskResult


def _price(option: Mapping[str, Any], quantity: int) -> float:
    """What `quantity` of a search option costs in total: fares are per traveller and car
    rentals per car; a stay's total already covers all its rooms."""
    if "car_class" in option:
        return round(float(option["total_price"]) * quantity, 2)
    if "total_price" in option:
        return round(float(option["total_price"]), 2)
    return round(float(option["price"]) * quantity, 2)


def _enough(option: Mapping[str, Any], quantity: int) -> bool:
    left = option.get("seats_left", option.get("cars_left", option.get("rooms_left")))
    return left is None or "rooms_left" in option or int(left) >= quantity


def _keeps_plan(
    option: Mapping[str, Any], planned: Mapping[str, Any], others: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether a flight can replace the planned one without breaking what follows from it:
    the same travel days, no landing before 06:00 unless the planned one did (the stay's first
    night follows from it), and the connections with the batch's other flights still made."""
    if str(option["depart_local"])[:10] != str(planned["depart_local"])[:10]:
        return False
    if str(option["arrive_local"])[:10] != str(planned["arrive_local"])[:10]:
        return False
    if lands_early(dict(option)) and not lands_early(dict(planned)):
        return False  # it would need a night the stay does not have (a later landing is fine)
    for other in others:
        if utc(departure(dict(other))) >= utc(arrival(dict(planned))):
            if utc(arrival(dict(option))) + MIN_CONNECTION > utc(departure(dict(other))):
                return False
            if connects(dict(planned), dict(other)) and not connects(dict(option), dict(other)):
                return False  # the first flight of a connection: the second must still connect
        else:
            too_soon = utc(departure(dict(option))) < utc(arrival(dict(other))) + MIN_CONNECTION
            # The second flight of a connection must still connect with the first.
            if too_soon or (
                connects(dict(other), dict(planned)) and not connects(dict(other), dict(option))
            ):
                return False
    return True


def _alternatives(
    task: Task, batch: Sequence[Task], found: _Found, travelers: int, trip: TripRequest | None
) -> list[dict[str, Any]]:
    """Other options of the search that found the task's item, cheapest first, priced in total
    for the same quantity: only those with enough left and, for a flight, that keep the rest of
    the batch valid. Every one is an option the planner was shown."""
    inputs = task["inputs"]
    item_id, quantity, kind = str(inputs["item_id"]), int(inputs["quantity"]), inputs["kind"]
    options = found.by_id
    planned = options.get(item_id)
    if planned is None:
        return []
    search = next((s for s in found.searches if any(o["id"] == item_id for o in s)), [])
    others = [o for o in search if o["id"] != item_id and _enough(o, quantity)]
    if kind == "car":
        # The same number of cars of another class must still seat everyone, unless that
        # number is the count a wish asks for there.
        need = car_need(trip, CITY_OF.get(str(planned["airport"]), "")) if trip else None
        others = [
            o
            for o in others
            if (need is not None and need.fits(str(o["car_class"]), quantity, travelers))
            or quantity * car_seats(str(o["car_class"])) >= travelers
        ]
    if kind == "flight":
        flights = [
            options[str(t["inputs"]["item_id"])]
            for t in batch
            if t["id"] != task["id"]
            and t["inputs"].get("kind") == "flight"
            and str(t["inputs"].get("item_id")) in options
        ]
        others = [o for o in others if _keeps_plan(o, planned, flights)]
    others.sort(key=lambda o: _price(o, quantity))
    return [
        {
            "item_id": o["id"],
            "label": label_and_price(kind, o, quantity)[0],
            "price": _price(o, quantity),
        }
        for o in others[:3]
    ]


@dataclass(frozen=True)
class _Found:
    """What the run's searches found: each search's options, and every option by id."""

    searches: list[list[dict[str, Any]]]
    by_id: dict[str, dict[str, Any]]


def _found(results: Mapping[str, TaskResult]) -> _Found:
    searches = [
        list(listed)
        for result in results.values()
        if result["ok"] and (listed := (result["output"] or {}).get("options"))
    ]
    return _Found(searches, {str(o["id"]): o for listed in searches for o in listed})


def _connections(
    batch: Sequence[Task], options: Mapping[str, dict[str, Any]], request: Mapping[str, Any]
) -> dict[str, str]:
    """The flight bookings of the batch that are halves of a one-stop connection, each mapped
    to its other half: a flight from a leg's origin to a hub, and one from that hub on to the
    leg's destination that connects with it (`policy.connects`)."""
    flights = {
        t["id"]: flight
        for t in batch
        if t["worker"] == "book"
        and t["inputs"].get("kind") == "flight"
        and (flight := options.get(str(t["inputs"].get("item_id"))))
    }
    ends = {
        (CITY_OF.get(str(leg.get("origin")), ""), CITY_OF.get(str(leg.get("destination")), ""))
        for leg in request.get("legs") or []
        if isinstance(leg, Mapping)
    }
    pairs: dict[str, str] = {}
    for a_id, a in flights.items():
        for b_id, b in flights.items():
            route = (CITY_OF.get(str(a["origin"])), CITY_OF.get(str(b["destination"])))
            hub = CITY_OF.get(str(a["destination"]))
            if route in ends and hub not in route and connects(a, b):
                pairs.setdefault(a_id, b_id)
                pairs.setdefault(b_id, a_id)
    return pairs


def _requires(
    task: Task,
    batch: Sequence[Task],
    options: Mapping[str, dict[str, Any]],
    connections: Mapping[str, str] | None = None,
) -> list[str]:
    """The flight bookings of the batch that a stay or a rental follows from: those landing in
    its city the day it starts (or the day after, for the night before a red-eye landing). A
    flight of a connection requires the other: half a connection is no leg."""
    inputs = task["inputs"]
    if connections and task["id"] in connections:
        return [connections[task["id"]]]
    mine = options.get(str(inputs.get("item_id")))
    if task["worker"] != "book" or inputs.get("kind") not in ("hotel", "car") or mine is None:
        return []
    city = mine.get("city") or CITY_OF.get(str(mine.get("airport")), "")
    start = date.fromisoformat(str(mine.get("check_in") or mine.get("pick_up")))
    needs = []
    for other in batch:
        flight = options.get(str(other["inputs"].get("item_id")))
        if other["worker"] != "book" or other["inputs"].get("kind") != "flight" or not flight:
            continue
        lands = date.fromisoformat(str(flight["arrive_local"])[:10])
        if CITY_OF.get(str(flight["destination"])) == city and lands in (
            start,
            start + timedelta(days=1),
        ):
            needs.append(other["id"])
    return needs


def describe_bookings(
    batch: Sequence[Task], results: Mapping[str, TaskResult], request: Mapping[str, Any] | None
) -> dict[str, Any]:
    items = []
    found = _found(results)
    travelers = int((request or {}).get("travelers") or 1)
    try:
        trip: TripRequest | None = TripRequest.model_validate(request or {})
    except ValidationError:
        trip = None
    connections = _connections(batch, found.by_id, request or {})
    for task in batch:
        inputs = task["inputs"]
        item: dict[str, Any] = {"task_id": task["id"], "action": task["worker"]}
        # Every input that decides what is booked or cancelled is shown: the approval node
        # releases the batch only while the board still matches these fields (`nodes.approve`).
        if task["worker"] == "book":
            item.update(
                kind=inputs["kind"],
                item_id=inputs["item_id"],
                quantity=inputs["quantity"],
                label=inputs["label"],
                price=inputs["price"],
                alternatives=_alternatives(task, batch, found, travelers, trip),
                requires=_requires(task, batch, found.by_id, connections),
            )
        else:
            # No alternatives: a cancellation can be approved or dropped, never pointed at
            # another booking.
            item.update(
                kind="cancellation",
                ref=inputs["ref"],
                label=f"cancel booking {inputs['ref']}",
                price=0.0,
                alternatives=[],
            )
        items.append(item)
    total = round(sum(float(i["price"]) for i in items), 2)
    budget = (request or {}).get("budget")
    return {
        "items": items,
        "total": total,
        "budget": budget,
        "within_budget": None if budget is None else total <= float(budget),
    }
