"""A multi-round trip planned by the LLM planner over real HTTP, with re-planning, real workers,
a real inventory and a real SQLite checkpoint file."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import Leg, TripRequest
from graph import build_graph, open_checkpointer
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import (
    MODEL,
    add,
    catalogue_in,
    finish,
    llm_context,
    log_kinds,
    prompt_of,
    run,
    run_streaming_messages,
    task,
    tool_names,
)

TRAVEL_WORKERS = ["search_flights", "search_hotels", "search_cars", "book", "cancel"]


def _hotels_by_tier(
    inventory: Inventory, check_in: date, check_out: date
) -> dict[int, dict[str, Any]]:
    """The cheapest free stay of each tier that has one."""
    found = {}
    for tier in range(1, 6):
        options = inventory.search_hotels("Paris", check_in, check_out, rooms=1, tier=tier)
        if options:
            found[tier] = options[0].model_dump()
    return found


class Scenario:
    """The trip, and what a sensible model would answer each round, from the real inventory."""

    def __init__(self, inventory: Inventory) -> None:
        start = inventory.window()[0] + timedelta(days=40)
        self.out_day, self.back_day = start, start + timedelta(days=5)
        self.out = inventory.search_flights("SFO", "CDG", self.out_day, travelers=2)[0]
        self.back = inventory.search_flights("CDG", "SFO", self.back_day, travelers=2)[0]
        self.check_in = date.fromisoformat(self.out.arrive_local[:10])
        tiers = _hotels_by_tier(inventory, self.check_in, self.back_day)
        self.cheap_tier = min(tiers, key=lambda t: tiers[t]["total_price"])
        self.dear_tier = max(tiers, key=lambda t: tiers[t]["total_price"])
        self.cheap, self.dear = tiers[self.cheap_tier], tiers[self.dear_tier]
        assert self.dear["total_price"] > self.cheap["total_price"], "needs two price levels"
        flights = (self.out.price + self.back.price) * 2
        # Enough for the cheap hotel, not for the dear one.
        self.budget = round(flights + (self.cheap["total_price"] + self.dear["total_price"]) / 2, 2)
        self.trip = TripRequest(
            legs=[
                Leg(origin="SFO", destination="CDG", date=self.out_day),
                Leg(origin="CDG", destination="SFO", date=self.back_day),
            ],
            travelers=2,
            budget=self.budget,
        )

    def hotel_search(self, task_id: str, tier: int) -> dict[str, Any]:
        return task(
            task_id,
            "search_hotels",
            city="Paris",
            check_in=self.check_in.isoformat(),
            check_out=self.back_day.isoformat(),
            rooms=1,
            tier=tier,
        )

    def bookings(self, prefix: str, hotel: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            task(f"{prefix}-out", "book", kind="flight", item_id=self.out.id, quantity=2),
            task(f"{prefix}-back", "book", kind="flight", item_id=self.back.id, quantity=2),
            # The model claims a price of 1 dollar: the guide takes the search's price instead.
            task(f"{prefix}-hotel", "book", kind="hotel", item_id=hotel["id"], quantity=1, price=1),
        ]

    def replies(self) -> list[dict[str, Any]]:
        flights = [
            task(
                "r1-out",
                "search_flights",
                origin="SFO",
                destination="CDG",
                date=self.out_day.isoformat(),
                travelers=2,
            ),
            task(
                "r1-back",
                "search_flights",
                origin="CDG",
                destination="SFO",
                date=self.back_day.isoformat(),
                travelers=2,
            ),
        ]
        return [
            add(*flights, decisions=["search both legs at once"]),
            add(self.hotel_search("r2-hotel", self.dear_tier), notes={"want": "luxury"}),
            add(*self.bookings("r3-book", self.dear)),  # over the budget: refused
            add(
                self.hotel_search("r3-hotel", self.cheap_tier),
                decisions=["the luxury hotel is over the budget; search a cheaper tier"],
            ),
            add(*self.bookings("r4-book", self.cheap)),
            finish("completed", "flights and hotel booked within the budget"),
        ]


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streamed"])
async def test_llm_plans_a_trip_over_several_rounds_and_replans_under_the_budget(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory, streaming: bool
) -> None:
    scenario = Scenario(inventory)
    server.script(*scenario.replies())
    context = llm_context(server, data_dir=str(data_dir))
    request = scenario.trip.model_dump(mode="json")

    async with open_checkpointer(str(data_dir / "checkpoints.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        if streaming:
            values, chunks = await run_streaming_messages(
                graph, context, goal=scenario.trip.goal(), request=request, thread="trip-1"
            )
            assert chunks > 0
        else:
            values = (
                await run(
                    graph, context, goal=scenario.trip.goal(), request=request, thread="trip-1"
                )
            ).values

    assert values["status"] == "completed", values["reason"]
    assert server.calls == 6
    assert all(bool(r.get("stream")) is streaming for r in server.requests)

    # Re-planning: the over-budget booking was refused with the numbers, then a cheaper search.
    rejected = log_kinds(values, "rejected")
    assert len(rejected) == 1 and "over the $" in rejected[0] and "budget" in rejected[0]
    assert "r3-book-out" not in values["tasks"]
    assert values["tasks"]["r3-hotel"]["status"] == "done"

    booked = inventory.bookings("trip-1")
    assert sorted(b.item_id for b in booked) == sorted(
        [scenario.out.id, scenario.back.id, scenario.cheap["id"]]
    )
    assert all(b.status == "confirmed" for b in booked)
    total = sum(b.total_price for b in booked)
    assert total <= scenario.budget
    hotel_task = values["tasks"]["r4-book-hotel"]
    assert hotel_task["inputs"]["price"] == scenario.cheap["total_price"], "price from the search"

    # What the server was asked: the model, the whole catalogue, one tool, compact results.
    for request_sent in server.requests:
        assert request_sent["model"] == MODEL
        assert tool_names(request_sent) == ["PlanUpdate"]
        assert catalogue_in(request_sent) == TRAVEL_WORKERS
    round2 = prompt_of(server.requests[1])
    assert scenario.out.id in round2, "bookable option ids are among the facts"
    assert "flights SFO->CDG" not in round2, "the board does not repeat what the facts list"
    assert '"options"' not in round2, "raw search payloads never reach the prompt"
    assert "## Your notes" not in round2, "no notes yet, no section"
    assert '## Your notes\n```json\n{"want":"luxury"}' in prompt_of(server.requests[2])

    # Usage per round, recorded in the state; no price for the test model.
    assert [(u["round"], u["role"]) for u in values["usage"]] == [
        (1, "planner"),
        (2, "planner"),
        (3, "planner"),
        (3, "planner"),
        (4, "planner"),
        (5, "planner"),
    ]
    assert all(u["prompt_tokens"] > 0 and u["cost_usd"] is None for u in values["usage"])

    # The itinerary is written from the board (the LLM keeps no itinerary notes).
    summary = values["answer"]["summary"]
    assert scenario.out.flight_no in summary and scenario.back.flight_no in summary
    assert scenario.cheap["name"] in summary
    assert all(b.ref in summary for b in booked)
    assert values["answer"]["data"]["booked_total"] == pytest.approx(total)
    assert json.dumps(values["notes"]) == '{"want": "luxury"}'
