"""The nine findings of a real model driving the LLM planner (issue 14), each over real HTTP
against the scripted loopback model, with real workers on a real inventory.

1. the traveller's own words reach every planning prompt; 2. date rules come from the policy;
3. searches say "3 of 8" and honour a limit, and approval offers only what the planner saw;
4. "route not served" is not "sold out"; 5. unknown input fields are refused, naming the valid
ones; 6. one rejection reports every error; 7. the facts stay current; 8. a corrected price is
noted and car counts follow the seats; 9. a stable prompt prefix and fewer prompt tokens.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from domains.travel.domain import travel_domain
from domains.travel.extract import extract_trip
from domains.travel.inventory import Inventory
from domains.travel.models import NOTE_CHARS, SAID_CHARS, Leg, TripRequest
from domains.travel.policy import EARLY_ARRIVAL_HOUR, MIN_CONNECTION, cars_needed, stay_dates
from domains.travel.workers.search_common import DEFAULT_LIMIT, MAX_LIMIT
from graph import build_graph
from orchestrator.runner import drive, run_config
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import add, finish, llm_context, log_kinds, prompt_of, run, task

WORDS = (
    "Paris for 5 nights with my partner, a car in Paris only, keep it cheap, "
    "and we would love a hotel near the Louvre."
)


def _trip(inventory: Inventory, *, travelers: int = 2, car: bool = False, **extra: Any) -> Any:
    start = inventory.window()[0] + timedelta(days=40)
    return TripRequest(
        legs=[
            Leg(origin="SFO", destination="CDG", date=start),
            Leg(origin="CDG", destination="SFO", date=start + timedelta(days=5)),
        ],
        travelers=travelers,
        budget=30000,
        car=car,
        **extra,
    )


def _flights(trip: TripRequest, prefix: str = "r1", **more: Any) -> list[dict[str, Any]]:
    return [
        task(
            f"{prefix}-leg{i}",
            "search_flights",
            origin=leg.origin,
            destination=leg.destination,
            date=leg.date.isoformat(),
            travelers=trip.travelers,
            **more,
        )
        for i, leg in enumerate(trip.legs)
    ]


def _facts(request: dict[str, Any]) -> dict[str, Any]:
    text = prompt_of(request)
    block = text.split("## Facts of the travel domain\n", 1)[1]
    body = block.split("```json\n", 1)[1].split("\n```", 1)[0]
    return dict(json.loads(body))


async def _run(
    server: ScriptedOpenAI, data_dir: Path, trip: TripRequest, thread: str, **ctx: Any
) -> dict[str, Any]:
    context = llm_context(server, data_dir=str(data_dir), **ctx)
    graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
    outcome = await run(
        graph, context, goal=trip.goal(), request=trip.model_dump(mode="json"), thread=thread
    )
    return dict(outcome.values)


# 1 ------------------------------------------------------------------------------------------


async def test_the_travellers_words_and_unmapped_wishes_reach_every_planning_prompt(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    answer = trip.model_dump(mode="json", exclude={"said", "notes"})
    answer["notes"] = ["a car in Paris only", "keep it cheap", "hotel near the Louvre"]
    server.script(answer)
    extracted = await extract_trip(
        WORDS, llm_context(server, data_dir=str(data_dir)), window=inventory.window()
    )
    tool = server.requests[0]["tools"][0]["function"]["parameters"]["properties"]
    assert "notes" in tool and "said" not in tool, "the model fills notes, never `said`"
    assert extracted.trip.said == WORDS
    assert extracted.trip.notes == answer["notes"]

    server.reset()
    server.script(add(*_flights(trip)), finish("failed", "stopping here"))
    values = await _run(server, data_dir, extracted.trip, "words")
    assert values["status"] == "failed"
    planning = server.requests
    assert len(planning) == 2
    for request in planning:
        text = prompt_of(request)
        words = text.split("## The person's own words\n", 1)[1]
        assert words.startswith("Untrusted"), "in an untrusted block"
        assert WORDS.replace("`", "'") in words
        assert "a car in Paris only" in text.split("## Wishes the structured request", 1)[1]


async def test_the_travellers_words_are_capped(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    # The longest the request holds (a longer one is refused: `SAID_CHARS`, `NOTE_CHARS`).
    trip = _trip(inventory, said="x" * SAID_CHARS, notes=["y" * NOTE_CHARS] * 8)
    server.script(finish("failed", "stop"))
    await _run(server, data_dir, trip, "capped")
    text = prompt_of(server.requests[0])
    assert "x" * 1400 in text and "x" * 1600 not in text
    assert len(text) < 20_000


# 2 ------------------------------------------------------------------------------------------


async def test_date_rules_come_from_the_policy_and_hotel_dates_wait_for_flights(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    server.script(finish("failed", "stop"))
    await _run(server, data_dir, trip, "rules")
    system = server.requests[0]["messages"][0]["content"]
    assert "local" in system and "next day" in system
    assert f"{int(MIN_CONNECTION.total_seconds() // 60)} minutes" in system
    assert f"{EARLY_ARRIVAL_HOUR:02d}:00" in system
    # The red-eye example is the policy's own answer.
    example = re.search(
        r"lands (\S+), next flight out ([\d-]+): check_in ([\d-]+), check_out ([\d-]+)", system
    )
    assert example is not None
    lands, leaves, check_in, check_out = example.groups()
    expected = stay_dates(
        {"arrive_local": lands + ":00+01:00", "depart_local": lands + ":00+01:00"},
        {"arrive_local": leaves + "T12:00:00+01:00", "depart_local": leaves + "T12:00:00+01:00"},
    )
    assert (check_in, check_out) == (expected[0].isoformat(), expected[1].isoformat())
    # No advice that pushes guessing a hotel's dates before the flights are known.
    assert "Fewer rounds are better" not in system
    assert "never guess" in system


# 3 ------------------------------------------------------------------------------------------


async def test_searches_say_how_many_match_honour_a_limit_and_approval_offers_only_shown(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    day = trip.legs[0].date
    # SFO->LAX has more flights a day than a default page shows.
    everything = inventory.search_flights("SFO", "LAX", day, travelers=2)
    assert len(everything) > DEFAULT_LIMIT + 1, "needs more flights than a default page"
    first_leg = inventory.search_flights("SFO", "CDG", day, travelers=2)
    check_in = date.fromisoformat(first_leg[0].arrive_local[:10])
    stays = inventory.search_hotels("Paris", check_in, trip.legs[1].date, rooms=1)
    assert len(stays) > DEFAULT_LIMIT
    hotel = task(
        "r1-hotel",
        "search_hotels",
        city="Paris",
        check_in=check_in.isoformat(),
        check_out=trip.legs[1].date.isoformat(),
    )
    more = task(
        "r1-more",
        "search_flights",
        origin="SFO",
        destination="LAX",
        date=str(day),
        travelers=2,
        limit=DEFAULT_LIMIT + 1,
        offset=1,
    )
    too_many = dict(_flights(trip)[0], id="r1-many")
    too_many["inputs"] = {**too_many["inputs"], "limit": MAX_LIMIT + 1}
    server.script(
        add(too_many),
        add(hotel, more),
        add(task("r2-book", "book", kind="hotel", item_id=stays[0].id, quantity=1)),
        finish("failed", "refused at approval"),
    )
    questions: list[dict[str, Any]] = []

    async def refuse(question: dict[str, Any]) -> dict[str, Any]:
        questions.append(question)
        return {"decision": "reject", "reason": "no"}

    context = llm_context(server, data_dir=str(data_dir), approval="ask")
    outcome = await drive(
        build_graph(travel_domain(), checkpointer=InMemorySaver()),
        {"goal": trip.goal(), "request": trip.model_dump(mode="json")},
        config=run_config("pages", context),
        context=context,
        approver=refuse,
    )
    values = outcome.values
    rejected = log_kinds(values, "rejected")
    assert rejected and f"less than or equal to {MAX_LIMIT}" in rejected[0], "the cap is enforced"

    summaries = {
        t: values["results"][values["tasks"][t]["result_ref"]]["summary"]
        for t in ("r1-hotel", "r1-more")
    }
    assert summaries["r1-hotel"].startswith(f"{DEFAULT_LIMIT} of {len(stays)} hotels")
    assert summaries["r1-more"].startswith(f"{DEFAULT_LIMIT + 1} of {len(everything)}, from #2")
    facts = _facts(server.requests[2])["bookable_options"]
    assert facts["r1-hotel"]["shown"] == f"{DEFAULT_LIMIT} of {len(stays)}"
    shown_flights = [o["id"] for o in facts["r1-more"]["bookable"]]
    assert shown_flights == [o.id for o in everything[1 : DEFAULT_LIMIT + 2]], "limit and offset"

    shown = {o["id"] for o in facts["r1-hotel"]["bookable"]}
    assert questions, "the booking reached approval"
    offered = [a["item_id"] for i in questions[0]["items"] for a in i.get("alternatives", [])]
    assert offered and set(offered) <= shown - {stays[0].id}, "only options the planner saw"


# 4 ------------------------------------------------------------------------------------------


async def test_an_unserved_route_is_not_called_sold_out(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    day = trip.legs[0].date
    assert not inventory.search_flights("ORD", "BCN", day, include_full=True)
    for option in inventory.search_flights("SFO", "CDG", day):
        inventory.set_seats(option.id, 0)
    server.script(
        add(
            task("r1-unserved", "search_flights", origin="ORD", destination="BCN", date=str(day)),
            task("r1-full", "search_flights", origin="SFO", destination="CDG", date=str(day)),
        ),
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip, "routes")
    unserved = values["results"][values["tasks"]["r1-unserved"]["result_ref"]]["summary"]
    full = values["results"][values["tasks"]["r1-full"]["result_ref"]]["summary"]
    assert unserved.startswith("route not served") and "(not sold out)" in unserved
    hubs = values["results"][values["tasks"]["r1-unserved"]["result_ref"]]["output"]["hubs"]
    assert hubs and f"one stop via {', '.join(hubs)}" in unserved
    for hub in hubs:
        assert inventory.search_flights("ORD", hub, day, include_full=True)
    assert full.startswith("sold out") and "not served" not in full
    round2 = prompt_of(server.requests[1])
    assert "route not served" in round2 and "sold out" in round2


# 5 and 6 ------------------------------------------------------------------------------------


async def test_unknown_fields_are_refused_naming_the_valid_ones_with_every_other_error(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    leg = trip.legs[0]
    bad = task(
        "r1-out",
        "search_flights",
        origin="SFO",
        destination="CDG",
        date=str(leg.date),
        passengers=2,
    )
    server.script(
        add(
            bad,
            task("r1-x", "search_trains", origin="SFO"),
            task(
                "r1-y",
                "search_cars",
                ["r1-nothing"],
                airport="CDG",
                pick_up=str(leg.date),
                drop_off=str(leg.date),
                colour="red",
            ),
            task("r1-a", "cancel", ["r1-b"], ref="NOPE"),
            task("r1-b", "cancel", ["r1-a"], ref="NOPE2"),
            task("r1-bk", "book", kind="flight", item_id="XX1:2027-01-01:economy", seats=2),
        ),
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip, "unknown")
    rejected = log_kinds(values, "rejected")
    assert len(rejected) == 1, "one rejection carries every error"
    errors = rejected[0]
    assert "'passengers'" in errors and "travelers" in errors, "names the field and the valid ones"
    assert "'colour'" in errors and "car_class" in errors
    assert "'seats'" in errors and "quantity" in errors
    assert "unknown worker 'search_trains'" in errors
    assert "dependency cycle" in errors
    assert "not a booking of this run" in errors
    assert "is not an option that a search of this run returned" in errors
    assert "r1-out" not in values["tasks"], "no search ran for one traveller"
    reask = prompt_of(server.requests[1])
    assert "'passengers'" in reask and "'colour'" in reask and "search_trains" in reask


async def test_a_booking_cannot_take_its_item_from_a_ref(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    """A `$ref` would fill `item_id` after the option, quantity and price checks ran: refused."""
    trip = _trip(inventory)
    search, _back = _flights(trip)
    server.script(
        add(
            search,
            task(
                "r1-bk",
                "book",
                [search["id"]],
                kind="flight",
                item_id={"$ref": search["id"], "path": "options.0.id"},
                quantity=trip.travelers,
            ),
        ),
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip, "ref-book")
    rejected = log_kinds(values, "rejected")
    assert len(rejected) == 1
    assert "'r1-bk': book takes literal inputs, not a $ref" in rejected[0]
    assert "r1-bk" not in values["tasks"] and values["status"] == "failed"


# 7 and 8 ------------------------------------------------------------------------------------


async def test_facts_stay_current_and_a_corrected_price_is_noted(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    leg = trip.legs[0]
    flights = inventory.search_flights(leg.origin, leg.destination, leg.date, travelers=2)
    first, second = flights[0], flights[1]
    server.script(
        add(_flights(trip)[0]),
        add(task("r2-book", "book", kind="flight", item_id=first.id, quantity=2, price=1)),
        add(dict(_flights(trip, "r3")[0], id="r3-again")),  # supersedes r1-leg0
        add(
            task("r4-cancel", "cancel", ref="{ref}"),
            task("r4-book", "book", kind="flight", item_id=second.id, quantity=2),
        ),
        finish("failed", "stop"),
    )
    context = llm_context(server, data_dir=str(data_dir))
    graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
    config = run_config("stale", context)
    # The cancel's ref is only known after the booking: fill it in when the model is asked.
    original = server.next_reply

    def next_reply() -> Any:
        reply = original()
        if isinstance(reply, dict) and any(t["worker"] == "cancel" for t in reply.get("add", [])):
            ref = inventory.bookings("stale")[0].ref
            reply["add"][0]["inputs"]["ref"] = ref
        return reply

    server.next_reply = next_reply  # type: ignore[method-assign]
    values = (
        await drive(
            graph,
            {"goal": trip.goal(), "request": trip.model_dump(mode="json")},
            config=config,
            context=context,
        )
    ).values
    assert values["tasks"]["r4-cancel"]["status"] == "done"

    # Round 3: the price the model gave was corrected, and it is told so.
    round3 = prompt_of(server.requests[2])
    assert "price corrected from $1.00 to" in round3
    facts3 = _facts(server.requests[2])
    assert first.id not in json.dumps(facts3["bookable_options"]), "a booked option is not offered"
    # Round 4: the newer search supersedes the older one.
    facts4 = _facts(server.requests[3])
    assert list(facts4["bookable_options"]) == ["r3-again"]
    # Round 5: the cancelled booking says so.
    facts5 = _facts(server.requests[4])
    statuses = {b["task"]: b["status"] for b in facts5["bookings"]}
    assert statuses["r2-book"] == "cancelled" and statuses["r4-book"] == "confirmed"
    assert facts5["money"]["booked"] == round(second.price * 2, 2)


async def test_car_counts_follow_the_seats_the_verifier_counts(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory, travelers=9, car=True)
    pick_up, drop_off = trip.legs[0].date + timedelta(days=1), trip.legs[1].date
    suv = next(o for o in inventory.search_cars("CDG", pick_up, drop_off) if o.car_class == "suv")
    needed = cars_needed("suv", 9)
    assert needed == 2
    search = task(
        "r1-cars",
        "search_cars",
        airport="CDG",
        pick_up=str(pick_up),
        drop_off=str(drop_off),
        car_class="suv",
    )
    server.script(
        add(search),
        add(task("r2-one", "book", kind="car", item_id=suv.id, quantity=1)),
        add(task("r2-many", "book", kind="car", item_id=suv.id, quantity=5)),
        add(task("r2-two", "book", kind="car", item_id=suv.id, quantity=needed)),
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip, "cars", plan_attempts=3)
    rejected = log_kinds(values, "rejected")
    assert len(rejected) == 2
    assert "seat 7, not the 9 travellers" in rejected[0]
    assert "5 suv cars for 9 traveller(s)" in rejected[1]
    booked = inventory.bookings("cars")
    assert [(b.quantity, b.total_price) for b in booked] == [(2, round(suv.total_price * 2, 2))]
    assert _facts(server.requests[1])["cars_needed"].startswith("3 economy, 2 compact")


# 9 ------------------------------------------------------------------------------------------


async def test_a_stable_prefix_and_the_tool_schema_only_once(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    server.script(add(*_flights(trip)), add(_flights(trip, "r2")[0]), finish("failed", "stop"))
    await _run(server, data_dir, trip, "prefix")
    systems = {r["messages"][0]["content"] for r in server.requests}
    assert len(systems) == 1, "the system prompt is the same every round"
    users = [r["messages"][1]["content"] for r in server.requests]
    stable = [u.split("## Round ", 1)[0] for u in users]
    assert len(set(stable)) == 1 and stable[0].startswith("## Workers"), "then a stable head"
    assert len(stable[0]) > len(users[0]) / 3, "most of the first prompt is cacheable"
    for request in server.requests:
        text = prompt_of(request)
        assert text.count("## Workers") == 1
        assert '"title"' not in text, "schemas are compact"
        assert "Planner scratchpad" not in text and '"finish"' not in text, "tool schema once"
        assert [t["function"]["name"] for t in request["tools"]] == ["PlanUpdate"]
    # Inputs left at their defaults are not repeated on the board.
    assert '"offset":0' not in users[-1]


async def test_a_schema_error_does_not_hide_a_missing_dependency(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    day = str(trip.legs[0].date)
    server.script(
        add(
            task(
                "r1-y",
                "search_cars",
                ["r1-nothing"],
                airport="CDG",
                pick_up=day,
                drop_off=day,
                colour="red",
            )
        ),
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip, "deps")
    rejected = log_kinds(values, "rejected")
    assert "'colour'" in rejected[0] and "'r1-nothing', which does not exist" in rejected[0]


# make eval ----------------------------------------------------------------------------------


def test_the_eval_suite_runs_offline_against_the_scripted_model(
    inventory_template: Path, tmp_path: Path
) -> None:
    from eval.__main__ import main

    output = tmp_path / "eval.md"
    code = main(
        ["--scripted", "--smoke", "--inventory", str(inventory_template), "--output", str(output)]
    )
    assert code == 0
    text = output.read_text()
    assert "scripted loopback model" in text and "not a model score" in text
    rows = [line for line in text.splitlines() if line.startswith("| round trip")]
    assert [r.split(" | ")[1] for r in rows] == ["rules", "llm (scripted replay)"]
    assert all(" | completed | yes | " in r for r in rows)
    impossible = [line for line in text.splitlines() if line.startswith("| impossible budget")]
    assert all(" | yes | " in r and " | completed | " not in r for r in impossible)
    llm = rows[1].split(" | ")
    assert int(llm[5]) >= 3 and int(llm[6].replace(",", "")) > 0, "calls and prompt tokens"


def test_the_eval_needs_a_model_or_scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    from eval.__main__ import main

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["--smoke"]) == 2
