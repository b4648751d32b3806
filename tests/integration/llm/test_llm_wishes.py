"""Per-destination car wishes read from free text by the scripted model over real HTTP, then
shown to, and enforced on, the LLM planner."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from domains.travel.domain import travel_domain
from domains.travel.extract import extract_trip
from domains.travel.inventory import Inventory
from domains.travel.models import CarWish, Leg, TripRequest
from graph import build_graph
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import (
    add,
    finish,
    llm_context,
    log_kinds,
    prompt_of,
    run,
    task,
)

WORDS = "Paris then Rome for the three of us, a car only in Paris, and two SUVs in Rome."


def _trip(inventory: Inventory, **fields: Any) -> TripRequest:
    start = inventory.window()[0] + timedelta(days=40)
    return TripRequest(
        legs=[
            Leg(origin="SFO", destination="CDG", date=start),
            Leg(origin="CDG", destination="FCO", date=start + timedelta(days=3)),
            Leg(origin="FCO", destination="SFO", date=start + timedelta(days=6)),
        ],
        travelers=3,
        **fields,
    )


async def test_car_wishes_are_read_into_the_structured_request(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    """The model first says both `car` and `cars`: one clear error, asked again, then the
    wishes it gives are the request's."""
    wished = _trip(
        inventory,
        cars=[CarWish(airport="CDG"), CarWish(airport="FCO", car_class="suv", count=2)],
    )
    answer = wished.model_dump(mode="json", exclude={"said"})
    server.script({**answer, "car": True}, answer)

    extracted = await extract_trip(
        WORDS, llm_context(server, data_dir=str(data_dir)), window=inventory.window()
    )

    assert extracted.attempts == 2
    assert extracted.trip.cars == wished.cars and extracted.trip.car is False
    assert extracted.trip.said == WORDS
    schema = server.requests[0]["tools"][0]["function"]["parameters"]
    assert {"cars", "hotels"} <= set(schema["properties"])
    system = prompt_of(server.requests[0])
    assert '"a car only in Paris" is cars [{"airport": "CDG"}]' in system
    feedback = prompt_of(server.requests[1])
    assert "car (a car at every destination) and cars (cars at some destinations)" in feedback


async def test_a_car_outside_the_wished_cities_is_refused_and_the_facts_say_where(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory, cars=[CarWish(airport="FCO", car_class="suv", count=2)])
    paris, rome = trip.legs[1].date, trip.legs[2].date
    arrive = trip.legs[0].date + timedelta(days=1)
    in_paris = inventory.search_cars("CDG", arrive, paris)[0]
    suv = next(o for o in inventory.search_cars("FCO", paris, rome) if o.car_class == "suv")
    server.script(
        add(
            task("r1-cdg", "search_cars", airport="CDG", pick_up=str(arrive), drop_off=str(paris)),
            task(
                "r1-fco",
                "search_cars",
                airport="FCO",
                pick_up=str(paris),
                drop_off=str(rome),
                car_class="suv",
            ),
        ),
        add(task("r2-paris", "book", kind="car", item_id=in_paris.id, quantity=1)),
        add(task("r2-three", "book", kind="car", item_id=suv.id, quantity=3)),
        add(task("r2-rome", "book", kind="car", item_id=suv.id, quantity=2)),
        finish("failed", "stop"),
    )
    context = llm_context(server, data_dir=str(data_dir), plan_attempts=3)

    outcome = await run(
        build_graph(travel_domain(), checkpointer=InMemorySaver()),
        context,
        goal=trip.goal(),
        request=trip.model_dump(mode="json"),
        thread="wishes",
    )

    rejected = log_kinds(outcome.values, "rejected")
    assert len(rejected) == 2
    assert "no car is wanted in Paris: the request asks for cars at FCO only" in rejected[0]
    assert "3 suv cars at FCO; 2 asked for there" in rejected[1]
    booked = inventory.bookings("wishes")
    assert [(b.item_id, b.quantity) for b in booked] == [(suv.id, 2)]
    facts_text = prompt_of(server.requests[1]).split("## Facts of the travel domain\n", 1)[1]
    facts = json.loads(facts_text.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert facts["cars_needed"] == {"FCO": "2 suv"}
