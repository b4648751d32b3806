"""What the trip properties generate and what they check after every run.

Generation (hypothesis strategies): trips over a handful of well-served airports, sell-outs to
inject between the searches and the bookings, and approval answers as a person types them.

Checking (`check_run`): the invariants every finished run must hold, each computed here from the
inventory and the request, independently of what the run says about itself:
- the itinerary is the ledger (refs, facts, totals, cancellations);
- the status and reason are the verifier's (`verdict_of` recomputed on the ledger);
- every fact the reason states (totals, budget, "nothing is booked", counts) is true;
- inventory is conserved for every unit the run's bookings touched;
- nothing booked twice, no orphan.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from hypothesis import strategies as st

from domains.travel.inventory import Inventory
from domains.travel.models import Booking, FlightOption, Leg, TripRequest
from domains.travel.policy import cars_needed
from domains.travel.services import INVENTORY_FILE
from domains.travel.verifier import CITY_OF, verdict_of
from domains.travel.workers.search_flights import one_stop_hubs

SEED = int(os.environ.get("PROPERTY_SEED", "20261130"))
"""One seed for every property of this suite; set PROPERTY_SEED to replay another run."""

HUBS = ("SFO", "JFK", "CDG", "LHR", "FRA", "ATL", "DFW", "AMS")
"""Airports with flights to (almost) every other one of them on every day."""
UNSERVED = ("BCN",)
"""Airports drawn now and then among the stops: Barcelona is served from CDG (and London
Gatwick) only, so a leg from or to another hub is flown as a one-stop connection (or, from
London, from the sibling airport)."""

THREAD = "prop"

# Generation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TripSpec:
    """A trip as generated: the request is made from it against a concrete inventory."""

    stops: tuple[str, ...]
    start: int  # days after the first day of the inventory window
    gaps: tuple[int, ...]  # days between consecutive legs
    travelers: int
    budget_factor: float | None  # x the reference cost (cheapest flights and hotel nights)
    car: bool

    def legs(self, inventory: Inventory) -> list[tuple[str, str, date]]:
        day = inventory.window()[0] + timedelta(days=self.start)
        legs = []
        for n, (origin, destination) in enumerate(zip(self.stops, self.stops[1:], strict=False)):
            if n:
                day += timedelta(days=self.gaps[n - 1])
            legs.append((origin, destination, day))
        return legs

    def request(self, inventory: Inventory) -> TripRequest:
        legs = self.legs(inventory)
        budget = None
        if self.budget_factor is not None:
            budget = round(self.budget_factor * reference_cost(inventory, legs, self), 2)
        return TripRequest(
            legs=[Leg(origin=o, destination=d, date=when) for o, d, when in legs],
            travelers=self.travelers,
            budget=budget,
            car=self.car,
        )


def reference_cost(
    inventory: Inventory, legs: list[tuple[str, str, date]], spec: TripSpec
) -> float:
    """The cheapest flights for everyone plus the cheapest hotel nights (and cars) between them:
    roughly the cheapest plan, so budgets from 0.5x to 2x of it straddle feasibility."""
    rooms = (spec.travelers + 1) // 2
    total = 0.0
    for origin, destination, when in legs:
        found = inventory.search_flights(origin, destination, when, travelers=spec.travelers)
        if not found:
            found = _via_hub(inventory, origin, destination, when, spec.travelers)
        total += sum(f.price for f in found[:2]) * spec.travelers
    for (_, destination, arrive), (_, _, leave) in itertools.pairwise(legs):
        if leave <= arrive:
            continue
        hotels = inventory.search_hotels(destination, arrive, leave, rooms=rooms)
        total += hotels[0].total_price if hotels else 0.0
        if spec.car:
            cars = inventory.search_cars(destination, arrive, leave)
            if cars:
                total += cars[0].total_price * cars_needed(cars[0].car_class, spec.travelers)
    return total or 1000.0


def _via_hub(
    inventory: Inventory, origin: str, destination: str, when: date, travelers: int
) -> list[FlightOption]:
    """The cheapest flights to and from the first hub `one_stop_hubs` names (a fare estimate:
    whether they connect does not matter here)."""
    for hub in one_stop_hubs(inventory, origin, destination, when)[:1]:
        first = inventory.search_flights(origin, hub, when, travelers=travelers)
        second = inventory.search_flights(hub, destination, when, travelers=travelers)
        if first and second:
            return [first[0], second[0]]
    return []


@st.composite
def trip_specs(draw: st.DrawFn, max_legs: int = 4) -> TripSpec:
    n = draw(st.integers(1, max_legs), label="legs")
    airports = HUBS + UNSERVED
    stops = [draw(st.sampled_from(airports))]
    for _ in range(n):
        stops.append(draw(st.sampled_from([h for h in airports if h != stops[-1]])))
    start = draw(st.integers(1, 320), label="start")
    gaps = tuple(draw(st.integers(0, 6)) for _ in range(n - 1))
    travelers = draw(st.integers(1, 9), label="travelers")
    factor = draw(st.none() | st.integers(50, 200).map(lambda p: p / 100), label="budget_factor")
    car = draw(st.booleans(), label="car")
    return TripSpec(tuple(stops), start, gaps, travelers, factor, car)


@dataclass(frozen=True)
class SellOut:
    """Between search and booking, item `item` (of the approval's bookings, modulo their number)
    loses its seats, rooms or cars on one of its days (`day`, modulo its days): the item as
    planned (`option` 0) or one of the alternatives the approval offers for it (1 to 3)."""

    item: int
    leave: Literal["none", "short"]  # 0 left, or one fewer than the booking needs
    day: int
    option: int = 0


sell_outs = st.lists(
    st.builds(
        SellOut,
        item=st.integers(0, 8),
        leave=st.sampled_from(["none", "short"]),
        day=st.integers(0, 6),
        option=st.sampled_from([0, 0, 1, 2]),
    ),
    max_size=3,
)

NUMBERS = st.integers(1, 3) | st.integers(1, 8) | st.sampled_from([0, -1, 99])
"""Item and option numbers as a person might type them: mostly real ones, some that are not."""

Answer = tuple[Any, ...]
answers = st.lists(
    st.one_of(
        st.tuples(st.just("drop"), NUMBERS),
        st.tuples(st.just("alt"), NUMBERS, st.integers(1, 4) | st.sampled_from([0, -1, 99])),
        st.tuples(st.just("undo")),
    ),
    max_size=4,
)
"""Edits typed at the first approval, before the final y or n."""

RAW_INVALID = st.sampled_from(["none", "unknown-task", "unoffered-item", "unreadable"])


# Scenario bookkeeping ---------------------------------------------------------------------


Unit = tuple[str, ...]
"""One countable thing in the inventory: ('flight', item_id), ('hotel', hotel, night) or
('car', airport, class, day)."""


def fresh_data_dir(template: Path, where: Path) -> Path:
    where.mkdir(parents=True)
    shutil.copy(template, where / INVENTORY_FILE)
    return where


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((end - first).days)]


def units_of(kind: str, item_id: str) -> list[Unit]:
    """The units a booking of `item_id` takes (each `quantity` times)."""
    if kind == "flight":
        return [("flight", item_id)]
    if kind == "hotel":
        hotel, check_in, check_out, _rooms = item_id.split(":")
        return [
            ("hotel", hotel, n.isoformat())
            for n in _days(date.fromisoformat(check_in), date.fromisoformat(check_out))
        ]
    airport, car_class, pick_up, drop_off = item_id.split(":")
    first, last = date.fromisoformat(pick_up), date.fromisoformat(drop_off)
    days = max(1, (last - first).days)
    return [
        ("car", airport, car_class, (first + timedelta(days=n)).isoformat()) for n in range(days)
    ]


def units_left(inventory: Inventory, unit: Unit) -> int:
    if unit[0] == "flight":
        return inventory.seats_left(unit[1])
    if unit[0] == "hotel":
        return inventory.rooms_left(unit[1], date.fromisoformat(unit[2]))
    return inventory.cars_left(unit[1], unit[2], date.fromisoformat(unit[3]))


@dataclass
class Baseline:
    """Units left before the run's first booking: the template's, except what a sell-out set."""

    template: Inventory
    overrides: dict[Unit, int] = field(default_factory=dict)

    def before(self, unit: Unit) -> int:
        if unit in self.overrides:
            return self.overrides[unit]
        return units_left(self.template, unit)


def sell_out_car_class(
    inventory: Inventory, baseline: Baseline, request: TripRequest, car_class: str
) -> None:
    """Before the run: no `car_class` car left at any destination around the trip's dates, so the
    planner falls back to a search of any class (whose other classes become alternatives)."""
    first, last = request.legs[0].date, request.legs[-1].date
    for leg in request.legs[:-1]:
        day = first - timedelta(days=1)
        while day <= last + timedelta(days=2):
            try:
                inventory.set_cars(leg.destination, car_class, day, 0)
            except ValueError:
                pass  # outside the inventory window
            else:
                baseline.overrides[("car", leg.destination, car_class, day.isoformat())] = 0
            day += timedelta(days=1)


def inject_sell_out(
    inventory: Inventory,
    baseline: Baseline,
    task: dict[str, Any],
    item: dict[str, Any],
    sell: SellOut,
) -> str:
    """Takes seats, rooms or cars of a planned booking (or of one of its alternatives) away;
    says what it did."""
    inputs = task["inputs"]
    kind, item_id, quantity = inputs["kind"], str(inputs["item_id"]), int(inputs["quantity"])
    alternatives = item.get("alternatives") or []
    if sell.option and alternatives:
        item_id = str(alternatives[(sell.option - 1) % len(alternatives)]["item_id"])
    left = 0 if sell.leave == "none" else max(0, quantity - 1)
    units = units_of(kind, item_id)
    unit = units[sell.day % len(units)]
    if unit[0] == "flight":
        inventory.set_seats(unit[1], left)
    elif unit[0] == "hotel":
        inventory.set_rooms(unit[1], date.fromisoformat(unit[2]), left)
    else:
        inventory.set_cars(unit[1], unit[2], date.fromisoformat(unit[3]), left)
    baseline.overrides[unit] = left
    return f"{task['id']}: {unit} set to {left} (a booking needs {quantity})"


# Approval answers -------------------------------------------------------------------------


def typed(answer: Answer) -> str:
    return " ".join(str(word) for word in answer)


def expected_valid(answer: Answer, question: dict[str, Any], dropped: list[str]) -> bool:
    """Whether `EditSession` must accept the edit `drop k` or `alt k m`, from the question alone:
    1-based numbers in range, and an explicitly dropped item can be neither dropped again nor
    given an option."""
    items = question["items"]
    k = int(answer[1])
    if not 1 <= k <= len(items):
        return False
    task_id = items[k - 1]["task_id"]
    if task_id in dropped:
        return False
    if answer[0] == "drop":
        return True
    m = int(answer[2])
    return 1 <= m <= 1 + len(items[k - 1].get("alternatives") or [])


# The invariants ---------------------------------------------------------------------------


BOOK_SLOT = re.compile(r"^(book-(?:flight|hotel|car)-\d+[ab]?)(?:-\d+)?$")
"""A booking's slot from its task id: 'book-flight-2' (or 'book-flight-2a' and '-2b', the two
flights of a connection), whatever uniqueness suffix a replacement got ('-2')."""
MONEY = r"\$([\d,]+\.\d{2})"


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def _live(ledger: list[Booking]) -> list[Booking]:
    return [b for b in ledger if b.status == "confirmed"]


def check_run(
    values: dict[str, Any],
    request: TripRequest,
    inventory: Inventory,
    baseline: Baseline,
    thread: str = THREAD,
) -> None:
    """Every invariant of a finished run (asserts; the messages name the broken one)."""
    run_id = values.get("run_id", "")
    prefix = f"{thread}:{run_id}:" if run_id else f"{thread}:"
    ledger = inventory.bookings_keyed(prefix)
    by_thread = inventory.bookings(thread)
    assert {b.ref for b in by_thread} == {b.ref for b in ledger}, (
        "every booking of the thread belongs to this run's ledger",
        [b.key for b in by_thread],
        prefix,
    )
    check_answer_is_ledger(values, ledger, request)
    check_status_is_verdict(values, ledger, request)
    check_reason_facts(str(values["reason"]), ledger, request)
    check_conserved(ledger, inventory, baseline)
    check_nothing_twice(ledger)


def check_answer_is_ledger(
    values: dict[str, Any], ledger: list[Booking], request: TripRequest
) -> None:
    answer = values["answer"]
    data = answer["data"]
    live = {b.ref: b for b in _live(ledger)}
    shown = [*data["legs"], *data["hotels"], *data["cars"]]
    refs = [x["booking"] for x in shown]
    assert sorted(refs) == sorted(live), ("itinerary refs == live bookings", refs, list(live))
    for leg in data["legs"]:
        b = live[leg["booking"]]
        d = b.details
        assert b.kind == "flight", (leg, b)
        for name in ("flight_no", "origin", "destination", "depart_local", "arrive_local", "cabin"):
            assert leg[name] == d[name], (f"leg {name}", leg, d)
        assert leg["travelers"] == b.quantity, (leg, b)
    for hotel in data["hotels"]:
        b = live[hotel["booking"]]
        d = b.details
        assert b.kind == "hotel", (hotel, b)
        for name in ("name", "city", "tier", "check_in", "check_out", "nights", "rooms"):
            assert hotel[name] == d[name], (f"hotel {name}", hotel, d)
    for car in data["cars"]:
        b = live[car["booking"]]
        d = b.details
        assert b.kind == "car", (car, b)
        for name in ("airport", "car_class", "pick_up", "drop_off", "days", "cars"):
            assert car[name] == d[name], (f"car {name}", car, d)
    for x in shown:
        b = live[x["booking"]]
        assert x["cost"] == b.total_price, ("item cost == booking total", x, b)
        assert x["booking_status"] == "confirmed", x
    total = round(sum(b.total_price for b in live.values()), 2)
    assert data["booked_total"] == total, (
        "booked_total == sum of live",
        data["booked_total"],
        total,
    )
    cancelled = sorted(b.ref for b in ledger if b.status == "cancelled")
    assert sorted(c["booking"] for c in data["cancelled"]) == cancelled, (
        "cancelled list == cancelled bookings",
        data["cancelled"],
        cancelled,
    )
    assert data["budget"] == request.budget
    assert (answer["status"], answer["reason"]) == (values["status"], values["reason"])


def check_status_is_verdict(
    values: dict[str, Any], ledger: list[Booking], request: TripRequest
) -> None:
    verdict = verdict_of(request, ledger)
    assert (values["status"], values["reason"]) == (verdict.status, verdict.reason), (
        "status and reason == verdict_of(trip, ledger)",
        values["status"],
        values["reason"],
        verdict.status,
        verdict.reason,
    )
    assert values["answer"]["data"]["unmet"] == verdict.unmet
    assert verdict.facts["orphans"] == [], ("no orphan bookings", verdict.facts["orphans"])


def check_reason_facts(reason: str, ledger: list[Booking], request: TripRequest) -> None:
    """Each fact the reason states, against the ledger and the request."""
    live = _live(ledger)
    total = round(sum(b.total_price for b in live), 2)
    budget = request.budget
    for stated in re.findall(rf"\btotal {MONEY}", reason):
        assert _money(stated) == total, ("stated total", stated, total, reason)
    for stated in re.findall(rf"the bookings total {MONEY}", reason):
        assert _money(stated) == total, ("stated total", stated, total, reason)
    for over, limit in re.findall(rf"{MONEY} over the budget of {MONEY}", reason):
        assert budget is not None and total > budget, ("over the budget", reason, total, budget)
        assert _money(limit) == budget, ("stated budget", limit, budget)
        assert _money(over) == round(total - budget, 2), ("stated excess", over, total, budget)
    for limit in re.findall(rf"within the budget of {MONEY}", reason):
        assert budget is not None and total <= budget + 0.005, ("within", reason, total, budget)
        assert _money(limit) == budget, ("stated budget", limit, budget)
    if "within the budget" not in reason and budget is not None and total <= budget:
        assert "over the budget" not in reason, reason
    assert ("nothing is booked" in reason) == (not live), ("nothing is booked", reason, live)
    counts = Counter(b.kind for b in live)
    for n, kinds in re.findall(r"(\d+) items? booked \(([^)]*)\)", reason):
        assert int(n) == len(live), ("item count", reason, len(live))
        stated = {word.rstrip("s"): int(k) for k, word in re.findall(r"(\d+) (\w+)", kinds)}
        assert stated == {k: v for k, v in counts.items() if v}, ("counts by kind", reason, counts)
    if live:
        assert re.search(r"\d+ items? booked \(", reason), ("a booked run says so", reason)


def check_conserved(ledger: list[Booking], inventory: Inventory, baseline: Baseline) -> None:
    """For every unit the run touched: left now + held by live bookings == left before."""
    held: Counter[Unit] = Counter()
    touched: set[Unit] = set()
    for b in ledger:
        for unit in units_of(b.kind, b.item_id):
            touched.add(unit)
            if b.status == "confirmed":
                held[unit] += b.quantity
    for unit in sorted(touched):
        now, before = units_left(inventory, unit), baseline.before(unit)
        assert now + held[unit] == before, (
            "inventory conserved",
            unit,
            {"now": now, "held by live bookings": held[unit], "before": before},
        )


def check_nothing_twice(ledger: list[Booking]) -> None:
    live = _live(ledger)
    keys = Counter(b.key for b in live)
    assert all(n == 1 for n in keys.values()), ("a key booked twice", keys)
    slots = Counter((m.group(1) if (m := BOOK_SLOT.match(b.task_id)) else b.task_id) for b in live)
    twice = {slot: n for slot, n in slots.items() if n > 1}
    assert not twice, ("one live booking per planned slot (per leg, stay, car)", twice)


def city(code: str) -> str:
    return CITY_OF.get(code, code)
