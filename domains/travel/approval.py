"""What the traveller sees before anything is booked: each item, its price, and the alternatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from state import Task, TaskResult


def _alternatives(
    item_id: str, quantity: int, results: Mapping[str, TaskResult]
) -> list[dict[str, Any]]:
    """The other options of the search that found `item_id`, cheapest first, priced in total."""
    for result in results.values():
        options = (result["output"] or {}).get("options") if result["ok"] else None
        if options and any(o["id"] == item_id for o in options):
            others = [o for o in options if o["id"] != item_id]
            return [
                {
                    "item_id": o["id"],
                    "label": o.get("name") or o.get("flight_no") or o.get("car_class"),
                    # Flight fares are per traveller; stays and rentals are quoted in total.
                    "price": o["total_price"] if "total_price" in o else o["price"] * quantity,
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
