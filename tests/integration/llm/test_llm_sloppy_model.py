"""A sloppy real model, over real HTTP against the scripted loopback model: answers that are
almost right are re-asked with every problem at once, never crash the run, never book an item
twice, and never reach the model as cut JSON.

Each case failed before this file: a non-object tool argument raised out of the run; a second
tool call was dropped without a word; the same option could be booked twice (both confirmed);
`null` for a list hid the other errors; unknown keys ("dependencies") were dropped; task ids had
no length bound; the facts were cut mid-JSON and the cut options shown nowhere.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver

from domains.travel import llm_planner as travel_llm
from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.llm_planner import TravelGuide
from domains.travel.models import Leg, TripRequest
from graph import build_graph
from orchestrator.llm.planner import NOT_SHOWN, LLMPlanner, PromptLimits, fit_json, to_json
from orchestrator.planning import MAX_TASK_ID_CHARS
from orchestrator.testing import scripted_openai as scripted
from orchestrator.testing.scripted_openai import Call, Calls, Raw, ScriptedOpenAI
from tests.integration.llm.support import add, finish, llm_context, log_kinds, prompt_of, run, task


def _trip(inventory: Inventory) -> TripRequest:
    start = inventory.window()[0] + timedelta(days=40)
    return TripRequest(
        legs=[
            Leg(origin="SFO", destination="CDG", date=start),
            Leg(origin="CDG", destination="SFO", date=start + timedelta(days=5)),
        ],
        travelers=2,
        budget=30000,
    )


def _search(trip: TripRequest, n: int, task_id: str = "") -> dict[str, Any]:
    leg = trip.legs[n]
    return task(
        task_id or f"r1-leg{n}",
        "search_flights",
        origin=leg.origin,
        destination=leg.destination,
        date=leg.date.isoformat(),
        travelers=trip.travelers,
    )


async def _run(
    server: ScriptedOpenAI, data_dir: Path, trip: TripRequest, **ctx: Any
) -> dict[str, Any]:
    context = llm_context(server, data_dir=str(data_dir), **ctx)
    graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
    outcome = await run(
        graph, context, goal=trip.goal(), request=trip.model_dump(mode="json"), thread="sloppy"
    )
    return dict(outcome.values)


def _feedback(request: dict[str, Any]) -> str:
    return prompt_of(request).split("Fix these problems and answer again:", 1)[1]


@pytest.mark.parametrize("arguments", ['[{"add": []}]', '"PlanUpdate"', "42"])
async def test_tool_arguments_that_are_not_an_object_are_re_asked(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory, arguments: str
) -> None:
    trip = _trip(inventory)
    server.script(Raw(arguments), add(_search(trip, 0)), finish("failed", "stop"))

    values = await _run(server, data_dir, trip)

    assert server.calls == 3 and not server.errors
    assert "must be one JSON object holding its fields" in _feedback(server.requests[1])
    assert "r1-leg0" in values["tasks"], "the re-asked answer was used"
    assert values["status"] == "failed"


async def test_two_tool_calls_in_one_answer_are_re_asked_not_half_used(
    server: ScriptedOpenAI,
    data_dir: Path,
    inventory: Inventory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server that ignores `parallel_tool_calls: false`, as some local ones do.
    monkeypatch.setattr(scripted, "_refusal", lambda request, message: None)
    trip = _trip(inventory)
    server.script(
        Calls(tuple(Call("PlanUpdate", add(_search(trip, n))) for n in (0, 1))),
        add(_search(trip, 0), _search(trip, 1)),
        finish("failed", "stop"),
    )

    values = await _run(server, data_dir, trip)

    assert "the answer made 2 tool calls; call PlanUpdate exactly once" in _feedback(
        server.requests[1]
    )
    assert set(values["tasks"]) == {"r1-leg0", "r1-leg1"}


async def test_an_option_is_never_booked_twice(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    leg = trip.legs[0]
    flight = inventory.search_flights(leg.origin, leg.destination, leg.date, travelers=2)[0]

    def book(task_id: str) -> dict[str, Any]:
        return task(task_id, "book", kind="flight", item_id=flight.id, quantity=2)

    server.script(
        add(_search(trip, 0)),
        add(book("r2-a"), book("r2-b")),  # twice in one answer
        add(book("r2-a")),
        add(book("r3-again")),  # again, once it is booked
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip)

    rejected = log_kinds(values, "rejected")
    assert f"task 'r2-b': {flight.id!r} is booked by task 'r2-a' of this update too" in rejected[0]
    assert (
        f"task 'r3-again': {flight.id!r} is already booked by this run (task r2-a" in (rejected[1])
    )
    confirmed = [b for b in inventory.bookings("sloppy") if b.status == "confirmed"]
    assert [b.item_id for b in confirmed] == [flight.id], "one booking in the ledger"


async def test_null_lists_are_defaults_and_every_other_error_comes_at_once(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    wrong_date = dict(_search(trip, 1), depends_on=None)
    wrong_date["inputs"] = dict(wrong_date["inputs"], date="June 3rd")
    unbound = task("r1-hotel", "search_hotels", city="Paris", check_out="2030-01-01")
    unbound["inputs"]["check_in"] = {"$ref": "r1-leg0", "path": "options.0.hotel_check_in"}
    server.script(
        {"add": [_search(trip, 0), wrong_date, unbound], "cancel": None, "decisions": None},
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip)

    feedback = _feedback(server.requests[1])
    assert "task 'r1-leg1': inputs do not fit worker 'search_flights': date" in feedback
    assert "task 'r1-hotel': input 'check_in' refers to the output of 'r1-leg0'" in feedback
    assert "depends_on" not in feedback.split("r1-hotel")[0], "null depends_on is no error"
    assert values["status"] == "failed"


async def test_unknown_keys_are_refused_naming_the_fields(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    mistaken = dict(_search(trip, 0))
    mistaken["dependencies"] = mistaken.pop("depends_on")
    server.script({"tasks": [], "add": [mistaken]}, finish("failed", "stop"))

    values = await _run(server, data_dir, trip)

    feedback = _feedback(server.requests[1])
    assert (
        "add.0.dependencies: not a field here; the fields are id, worker, inputs, depends_on, "
        "reason" in feedback
    )
    assert "tasks: not a field here; the fields are add, cancel, retry, decisions" in feedback
    assert values["tasks"] == {}, "nothing of a refused answer reaches the board"


async def test_task_ids_are_bounded(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    trip = _trip(inventory)
    server.script(
        add(_search(trip, 0, "x" * (MAX_TASK_ID_CHARS + 1)), dict(_search(trip, 1), id="")),
        finish("failed", "stop"),
    )
    values = await _run(server, data_dir, trip)

    feedback = _feedback(server.requests[1])
    assert f"add.0.id: String should have at most {MAX_TASK_ID_CHARS} characters" in feedback
    assert "add.1.id: String should have at least 1 character" in feedback
    assert len(prompt_of(server.requests[1])) < 20_000
    assert values["tasks"] == {}


async def test_facts_too_long_for_the_prompt_lose_whole_options_and_say_so(
    server: ScriptedOpenAI,
    data_dir: Path,
    inventory: Inventory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = PromptLimits(facts_chars=700)
    monkeypatch.setattr(
        travel_llm, "travel_llm_planner", lambda: LLMPlanner(guide=TravelGuide(), limits=small)
    )
    trip = _trip(inventory)
    server.script(
        add(
            dict(_search(trip, 0), inputs={**_search(trip, 0)["inputs"], "limit": 10}),
            task(
                "r1-hotel",
                "search_hotels",
                city="Paris",
                check_in=trip.legs[0].date.isoformat(),
                check_out=trip.legs[1].date.isoformat(),
                limit=10,
            ),
        ),
        finish("failed", "stop"),
    )
    await _run(server, data_dir, trip)

    text = prompt_of(server.requests[1])
    body = text.split("## Facts of the travel domain\n", 1)[1].split("```json\n", 1)[1]
    facts = json.loads(body.split("\n```", 1)[0])  # whole JSON, never cut
    options = facts["bookable_options"]
    hidden = {
        t: o[f"bookable{NOT_SHOWN}"] for t, o in options.items() if f"bookable{NOT_SHOWN}" in o
    }
    assert hidden, "something was left out, and said"
    board = text.split("## Task board", 1)[1]
    for task_id in hidden:
        assert re.search(rf'"id":"{task_id}"[^\n]*"result":', board), "its summary stays"


@seed(20301208)
@settings(max_examples=150, deadline=None, database=None, print_blob=True)
@given(
    value=st.recursive(
        st.lists(st.integers() | st.text(max_size=12), max_size=8),
        lambda inner: st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4),
        max_leaves=30,
    ).filter(lambda v: isinstance(v, dict)),
    limit=st.integers(min_value=2, max_value=400),
)
def test_fit_json_keeps_whole_entries_and_counts_the_rest(value: Any, limit: int) -> None:
    fitted = fit_json(value, limit)

    def walk(original: Any, kept: Any) -> int:
        """Entries left out under `kept`, checking each list is a prefix of the original."""
        dropped = 0
        for key, item in original.items():
            if isinstance(item, list):
                assert kept[key] == item[: len(kept[key])]
                left_out = len(item) - len(kept[key])
                assert kept.get(key + NOT_SHOWN, 0) == left_out
                dropped += left_out
            elif isinstance(item, dict):
                dropped += walk(item, kept[key])
        return dropped

    walk(value, fitted)
    lists_left = any(True for _ in _nonempty_lists(fitted))
    assert len(to_json(fitted)) <= limit or not lists_left


def _nonempty_lists(node: Any) -> Any:
    if isinstance(node, dict):
        for key, item in node.items():
            if isinstance(item, list) and item and not key.endswith(NOT_SHOWN):
                yield item
            elif isinstance(item, dict):
                yield from _nonempty_lists(item)
