"""What the traveller sees before anything is booked: each item, its price, and the alternatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


def _alternatives(
    item_id: str, quantity: int, results: Mapping[str, TaskResult]
) -> list[dict[str, Any]]:
    """The other options of the search that found `item_id` with enough left, cheapest first,
    priced in total for the same quantity."""
    for result in results.values():
        options = (result["output"] or {}).get("options") if result["ok"] else None
        if options and any(o["id"] == item_id for o in options):
            others = [o for o in options if o["id"] != item_id and _enough(o, quantity)]
            others.sort(key=lambda o: _price(o, quantity))
            return [
                {
                    "item_id": o["id"],
                    "label": o.get("name") or o.get("flight_no") or o.get("car_class"),
                    "price": _price(o, quantity),
                }
                for o in others[:3]
            ]
    return []


def describe_bookings(
    batch: Sequence[Task], results: Mapping[str, TaskResult], request: Mapping[str, Any] | None
) -> dict[str, Any]:
    items = []
    for task in batch:
        inputs = task["inputs"]
        item: dict[str, Any] = {"task_id": task["id"], "action": task["worker"]}
        if task["worker"] == "book":
            item.update(
                kind=inputs["kind"],
                label=inputs["label"],
                price=inputs["price"],
                alternatives=_alternatives(inputs["item_id"], inputs["quantity"], results),
            )
        else:
            item.update(kind="cancellation", label=f"cancel booking {inputs['ref']}", price=0.0)
        items.append(item)
    total = round(sum(float(i["price"]) for i in items), 2)
    budget = (request or {}).get("budget")
    return {
        "items": items,
        "total": total,
        "budget": budget,
        "within_budget": None if budget is None else total <= float(budget),
    }
