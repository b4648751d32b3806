"""Models that lie, through the real `ChatOpenAI` over HTTP: the verifier and the ledger win.

A planner's `finish: completed` is a claim. When the travel verifier disagrees the orchestrator
refuses it like an invalid plan update and asks the model again with the unmet list; a model
that insists ends the run with the verifier's verdict. The itinerary (`answer["data"]`) is the
booking ledger's: a model's prices, labels and finish sentence never become facts of the answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import Booking, Leg, TripRequest
from domains.travel.policy import cars_needed, stay_dates
from domains.travel.services import INVENTORY_FILE
from domains.travel.verifier import CITY_OF, verdict_of
from graph import build_graph
from orchestrator.cli import main
from orchestrator.runner import drive, run_config
from orchestrator.testing.scripted_openai import ScriptedOpenAI, scripted_openai
from tests.integration.llm.support import MODEL, add, finish, llm_context, prompt_of, run, task

REFUSED = "finish 'completed' refused: the verifier found"
TEXT = "Plan a trip for two, somewhere nice"


class Plan:
    """A trip, and from the live inventory the searches and bookings a model would make for it."""

    def __init__(
        self,
        inventory: Inventory,
        route: list[str],
        *,
        offset: int = 40,
        nights: int = 4,
        travelers: int = 2,
        car: bool = False,
        budget: float | None = 30000,
    ) -> None:
        start = inventory.window()[0] + timedelta(days=offset)
        days = [start + timedelta(days=nights * i) for i in range(len(route) - 1)]
        legs = [
            Leg(origin=o, destination=d, date=day)
            for o, d, day in zip(route, route[1:], days, strict=False)
        ]
        self.trip = TripRequest(legs=legs, travelers=travelers, budget=budget, car=car)
        self.flight_options = [
            inventory.search_flights(leg.origin, leg.destination, leg.date, travelers=travelers)
            for leg in legs
        ]
        self.flights = [options[0] for options in self.flight_options]
        self.hotels: list[dict[str, Any]] = []
        self.hotel_searches: list[dict[str, Any]] = []
        self.cars: list[dict[str, Any]] = []
        self.car_searches: list[dict[str, Any]] = []
        for i, (landing, leaving) in enumerate(itertools.pairwise(self.flights)):
            check_in, check_out, _ = stay_dates(landing.model_dump(), leaving.model_dump())
            city = CITY_OF[landing.destination]
            rooms = self.trip.rooms
            self.hotels.append(
                inventory.search_hotels(city, check_in, check_out, rooms=rooms)[0].model_dump()
            )
            self.hotel_searches.append(
                task(
                    f"s-hotel-{i}",
                    "search_hotels",
                    city=city,
                    check_in=check_in.isoformat(),
                    check_out=check_out.isoformat(),
                    rooms=rooms,
                )
            )
            if car:
                pick_up = date.fromisoformat(landing.arrive_local[:10])
                drop_off = date.fromisoformat(leaving.depart_local[:10])
                cls = self.trip.car_class
                found = inventory.search_cars(landing.destination, pick_up, drop_off, car_class=cls)
                self.cars.append(found[0].model_dump())
                self.car_searches.append(
                    task(
                        f"s-car-{i}",
                        "search_cars",
                        airport=landing.destination,
                        pick_up=pick_up.isoformat(),
                        drop_off=drop_off.isoformat(),
                        car_class=cls,
                    )
                )

    @property
    def request(self) -> dict[str, Any]:
        return self.trip.model_dump(mode="json")

    def flight_searches(self) -> list[dict[str, Any]]:
        return [
            task(
                f"s-flight-{i}",
                "search_flights",
                origin=leg.origin,
                destination=leg.destination,
                date=leg.date.isoformat(),
                travelers=self.trip.travelers,
            )
            for i, leg in enumerate(self.trip.legs)
        ]

    def searches(self) -> dict[str, Any]:
        """Every search at once: the model knows the dates it will need."""
        return add(*self.flight_searches(), *self.hotel_searches, *self.car_searches)

    def book_flights(self, **lies: Any) -> list[dict[str, Any]]:
        n = self.trip.travelers
        return [
            task(f"b-flight-{i}", "book", kind="flight", item_id=f.id, quantity=n, **lies)
            for i, f in enumerate(self.flights)
        ]

    def book_hotels(self, **lies: Any) -> list[dict[str, Any]]:
        return [
            task(f"b-hotel-{i}", "book", kind="hotel", item_id=h["id"], quantity=h["rooms"], **lies)
            for i, h in enumerate(self.hotels)
        ]

    def book_cars(self, **lies: Any) -> list[dict[str, Any]]:
        many = cars_needed(self.trip.car_class, self.trip.travelers)
        return [
            task(f"b-car-{i}", "book", kind="car", item_id=c["id"], quantity=many, **lies)
            for i, c in enumerate(self.cars)
        ]

    def book_all(self, **lies: Any) -> dict[str, Any]:
        return add(*self.book_flights(**lies), *self.book_hotels(**lies), *self.book_cars(**lies))


def live(ledger: list[Booking]) -> list[Booking]:
    return [b for b in ledger if b.status == "confirmed"]


def itinerary_refs(data: dict[str, Any]) -> set[str]:
    return {item["booking"] for kind in ("legs", "hotels", "cars") for item in data[kind]}


def ledger_of(inventory: Inventory, thread: str, values: dict[str, Any]) -> list[Booking]:
    """The run's ledger, by its idempotency-key prefix; on a one-run thread, all it booked."""
    ledger = inventory.bookings_keyed(f"{thread}:{values['run_id']}:")
    assert {b.ref for b in ledger} == {b.ref for b in inventory.bookings(thread)}
    return ledger


def assert_truthful(plan: Plan, inventory: Inventory, thread: str, values: dict[str, Any]) -> None:
    """Status, reason and itinerary are the verifier's and the ledger's, whatever was said."""
    ledger = ledger_of(inventory, thread, values)
    verdict = verdict_of(plan.trip, ledger)
    data = values["answer"]["data"]
    assert (values["status"], values["reason"]) == (verdict.status, verdict.reason)
    assert (values["answer"]["status"], values["answer"]["reason"]) == (
        verdict.status,
        verdict.reason,
    )
    assert data["unmet"] == verdict.unmet
    assert itinerary_refs(data) == {b.ref for b in live(ledger)}
    assert data["booked_total"] == pytest.approx(sum(b.total_price for b in live(ledger)))


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch, server: ScriptedOpenAI) -> None:
    """The model configured the way a user does it, for `orchestrator run`."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("ORCHESTRATOR_PLANNER_MODEL", MODEL)
    monkeypatch.setenv("ORCHESTRATOR_REQUEST_TIMEOUT", "5")


def cli_run(data_dir: Path, thread: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main(["run", TEXT, "--yes", "--json", "--data-dir", str(data_dir), "--thread", thread])
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


# --- a false `completed` is refused, and the verdict ends the run -----------------------------


@pytest.mark.usefixtures("model_env")
def test_completed_after_searching_only_is_refused_then_ends_failed_with_exit_1(
    server: ScriptedOpenAI,
    data_dir: Path,
    inventory: Inventory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = Plan(inventory, ["SFO", "CDG", "SFO"])
    claim = finish("completed", "flights found, trip booked")
    server.script(plan.request, add(*plan.flight_searches()), claim, claim, claim)

    code, report = cli_run(data_dir, "liar-1", capsys)

    assert code == 1, report
    assert report["status"] == "failed"
    assert report["reason"].startswith("nothing is booked"), report["reason"]
    assert report["itinerary"]["legs"] == [] and report["itinerary"]["booked_total"] == 0
    assert inventory.bookings("liar-1") == []
    # extraction, searches, then one claim per plan attempt (Context.plan_attempts = 3).
    assert server.calls == 5 and server.left == 0
    refused = prompt_of(server.requests[3])
    assert REFUSED in refused
    for i, leg in enumerate(plan.trip.legs, 1):
        unmet = f"leg {i} {leg.origin}->{leg.destination} on {leg.date}: no flight booked"
        assert unmet in refused
        assert unmet in report["itinerary"]["unmet"]
    assert "hotel in Paris: none booked" in refused
    assert REFUSED in prompt_of(server.requests[4]), "asked again after insisting"
    assert REFUSED not in prompt_of(server.requests[2]), "no refusal before the claim"


@pytest.mark.usefixtures("model_env")
def test_a_car_that_was_asked_for_and_never_booked_ends_partial_with_exit_1(
    server: ScriptedOpenAI,
    data_dir: Path,
    inventory: Inventory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = Plan(inventory, ["SFO", "CDG", "SFO"], car=True)
    claim = finish("completed", "flights, hotel and car booked")
    bookings = add(*plan.book_flights(), *plan.book_hotels())  # no car
    server.script(plan.request, add(*plan.flight_searches(), *plan.hotel_searches))
    server.script(bookings, claim, claim, claim)

    code, report = cli_run(data_dir, "liar-car", capsys)

    assert code == 1, report
    assert report["status"] == "partial", report["reason"]
    assert "car in Paris" in report["reason"]
    unmet = report["itinerary"]["unmet"]
    assert len(unmet) == 1 and unmet[0].startswith("car in Paris") and "none booked" in unmet[0]
    # extraction, searches, bookings, the claim, then the claim re-asked with the unmet car.
    assert REFUSED not in prompt_of(server.requests[3])
    assert REFUSED in prompt_of(server.requests[4]) and unmet[0] in prompt_of(server.requests[4])
    assert report["itinerary"]["cars"] == []
    booked = inventory.bookings("liar-car")
    assert sorted(b.kind for b in booked) == ["flight", "flight", "hotel"]
    assert itinerary_refs(report["itinerary"]) == {b.ref for b in booked}


async def test_an_insisting_planners_words_are_not_replaced_by_the_verdict(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    """`planner_said` is the planner's own sentence (README: "the planner's own words are
    shown apart"), also when its `completed` claim was refused to the end: it must not be the
    verifier's reason attributed to the planner."""
    plan = Plan(inventory, ["SFO", "CDG", "SFO"])
    claim = finish("completed", "flights found, trip booked")
    server.script(add(*plan.flight_searches()), claim, claim, claim)
    context = llm_context(server, data_dir=str(data_dir))

    values = (
        await run(
            build_graph(travel_domain(), checkpointer=InMemorySaver()),
            context,
            goal=plan.trip.goal(),
            request=plan.request,
            thread="insists",
        )
    ).values

    assert values["status"] == "failed"
    assert values["answer"]["data"]["planner_said"] != values["reason"]
    assert values["answer"]["data"]["planner_said"] == "flights found, trip booked"


# --- a wrong price and a made-up label ----------------------------------------------------------


async def test_a_models_price_and_label_never_reach_the_approval_or_the_itinerary(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory
) -> None:
    plan = Plan(inventory, ["SFO", "CDG", "SFO"])
    fake = "ZZ9999 first class, champagne included"
    server.script(
        plan.searches(),
        plan.book_all(price=1, label=fake),
        finish("completed", "booked at $1 each"),
    )
    context = llm_context(server, data_dir=str(data_dir), approval="ask")
    graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
    config = run_config("priced", context)

    start = {"goal": plan.trip.goal(), "request": plan.request}
    paused = await drive(graph, start, config=config, context=context)

    assert len(paused.paused) == 1
    question = paused.paused[0]["value"]
    searched = {f.id: round(f.price * plan.trip.travelers, 2) for f in plan.flights}
    searched.update({h["id"]: h["total_price"] for h in plan.hotels})
    by_task = {t["id"]: t for t in plan.book_all()["add"]}
    for item in question["items"]:
        item_id = by_task[item["task_id"]]["inputs"]["item_id"]
        assert item["price"] == searched[item_id], "the approval shows the search's price"
        assert "ZZ9999" not in item["label"] and "champagne" not in item["label"]
    assert question["total"] == pytest.approx(sum(searched.values()))

    final = await drive(graph, Command(resume="approve"), config=config, context=context)

    values = final.values
    booked = ledger_of(inventory, "priced", values)
    assert len(booked) == 3
    for b in booked:
        assert b.total_price == searched[b.item_id], "booked at the search's price"
    data = values["answer"]["data"]
    by_ref = {b.ref: b for b in booked}
    for leg in data["legs"]:
        ledger = by_ref[leg["booking"]]
        assert leg["flight_no"] == ledger.details["flight_no"] == ledger.item_id.split(":")[0]
        assert leg["cost"] == ledger.total_price
    for hotel in data["hotels"]:
        assert hotel["cost"] == by_ref[hotel["booking"]].total_price
        assert hotel["name"] == by_ref[hotel["booking"]].details["name"]
    assert [leg["flight_no"] for leg in data["legs"]] == [f.flight_no for f in plan.flights]
    everything = json.dumps(values["answer"])
    assert "ZZ9999" not in everything and "champagne" not in everything
    assert values["status"] == "completed", values["reason"]
    assert_truthful(plan, inventory, "priced", values)


# --- false facts in the finish sentence ----------------------------------------------------------

LIE = "all 7 items booked, car included, total $12.00 within the budget"


@pytest.mark.parametrize("booked", [True, False], ids=["all-booked", "nothing-booked"])
async def test_a_finish_sentence_with_false_facts_is_only_the_planners_words(
    server: ScriptedOpenAI, data_dir: Path, inventory: Inventory, booked: bool
) -> None:
    plan = Plan(inventory, ["SFO", "CDG", "SFO"])
    if booked:
        server.script(plan.searches(), plan.book_all(), finish("completed", LIE))
    else:
        server.script(plan.searches(), finish("partial", LIE))
    context = llm_context(server, data_dir=str(data_dir))

    values = (
        await run(
            build_graph(travel_domain(), checkpointer=InMemorySaver()),
            context,
            goal=plan.trip.goal(),
            request=plan.request,
            thread="facts",
        )
    ).values

    assert_truthful(plan, inventory, "facts", values)
    data, summary = values["answer"]["data"], values["answer"]["summary"]
    assert data["planner_said"] == LIE
    assert LIE not in values["reason"] and "$12.00" not in values["reason"]
    status_line = summary.splitlines()[0]
    assert LIE not in status_line and values["reason"] in status_line
    if booked:
        total = sum(b.total_price for b in inventory.bookings("facts"))
        assert values["status"] == "completed"
        assert values["reason"] == (
            f"all 3 items booked (2 flights, 1 hotel), total ${total:,.2f}, "
            f"within the budget of ${plan.trip.budget:,.2f}"
        )
        assert LIE not in summary
    else:
        assert values["status"] == "failed"
        assert values["reason"].startswith("nothing is booked; ")
        # Shown apart, attributed to the planner, never as the outcome.
        assert f"The planner stopped because: {LIE}" in summary


# --- the property: whatever the lie, the verdict and the ledger -------------------------------

Lie = Callable[[Plan], list[Any]]


def _insist(text: str = "everything is booked") -> list[Any]:
    return [finish("completed", text)] * 3


def _searched_only(p: Plan) -> list[Any]:
    return [add(*p.flight_searches()), *_insist()]


def _flights_only(p: Plan) -> list[Any]:
    return [p.searches(), add(*p.book_flights()), *_insist()]


def _no_car(p: Plan) -> list[Any]:
    return [p.searches(), add(*p.book_flights(), *p.book_hotels()), *_insist()]


def _wrong_price(p: Plan) -> list[Any]:
    return [p.searches(), p.book_all(price=0.5, label="ZZ1 at half a dollar"), *_insist()]


def _phantom_booking(p: Plan) -> list[Any]:
    ghost = task("b-ghost", "book", kind="flight", item_id="ZZ1:2030-01-01:economy", quantity=1)
    return [p.searches(), add(ghost), *_insist("booked ZZ1, ref FL-GHOST1")]


def _extra_flight(p: Plan) -> list[Any]:
    spare = p.flight_options[0][1]
    n = p.trip.travelers
    extra = task("b-extra", "book", kind="flight", item_id=spare.id, quantity=n)
    return [p.searches(), p.book_all(), add(extra), *_insist()]


def _understated(p: Plan) -> list[Any]:
    return [p.searches(), p.book_all(), finish("failed", "nothing could be booked")]


def _honest(p: Plan) -> list[Any]:
    return [p.searches(), p.book_all(), finish("completed", "done")]


LIES: dict[str, Lie] = {
    "searched-only": _searched_only,
    "flights-only": _flights_only,
    "no-car": _no_car,
    "wrong-price": _wrong_price,
    "phantom-booking": _phantom_booking,
    "extra-flight": _extra_flight,
    "understated": _understated,
    "honest": _honest,
}

TRIPS: dict[str, dict[str, Any]] = {
    "paris-for-two": {"route": ["SFO", "CDG", "SFO"]},
    "new-york-alone-with-car": {"route": ["SFO", "JFK", "SFO"], "travelers": 1, "car": True},
}


@pytest.fixture(scope="module")
def shared_data(inventory_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One inventory for every example; each example runs on its own thread."""
    target = tmp_path_factory.mktemp("truth-property")
    shutil.copy(inventory_template, target / INVENTORY_FILE)
    return target


@pytest.fixture(scope="module")
def threads() -> Iterator[str]:
    return (f"prop-{n}" for n in itertools.count())


@seed(20270110)
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    print_blob=True,
    # The autouse environment fixtures are the same for every example, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lie=st.sampled_from(sorted(LIES)),
    trip=st.sampled_from(sorted(TRIPS)),
    offset=st.integers(min_value=30, max_value=120),
)
def test_whatever_the_model_says_status_and_itinerary_are_the_verdict_and_the_ledger(
    shared_data: Path, threads: Iterator[str], lie: str, trip: str, offset: int
) -> None:
    inventory = Inventory.open(shared_data / INVENTORY_FILE)
    plan = Plan(inventory, offset=offset, **TRIPS[trip])
    thread = next(threads)
    with scripted_openai(LIES[lie](plan)) as model:
        context = llm_context(model, data_dir=str(shared_data), plan_attempts=2)
        outcome = asyncio.run(
            run(
                build_graph(travel_domain(), checkpointer=InMemorySaver()),
                context,
                goal=plan.trip.goal(),
                request=plan.request,
                thread=thread,
            )
        )
    assert outcome.finished
    assert_truthful(plan, inventory, thread, outcome.values)
    cannot_complete = {"searched-only", "flights-only", "phantom-booking", "extra-flight"}
    if lie in cannot_complete or (lie == "no-car" and plan.trip.car):
        assert outcome.values["status"] != "completed", outcome.values["reason"]
    # Expectations of our own, not the verifier's: a lie's consequence is named.
    unmet = outcome.values["answer"]["data"]["unmet"]
    if lie == "searched-only":
        assert outcome.values["status"] == "failed"
        assert outcome.values["reason"].startswith("nothing is booked;")
    if lie == "no-car" and plan.trip.car:
        assert any(u.startswith("car in ") and "none booked" in u for u in unmet), unmet
