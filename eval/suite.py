"""The scenario suite: each trip planned by the LLM planner and the rules, judged by the verifier.

Scenarios (each on a private copy of one inventory, dates inside its window):
round trip, three legs, tight budget, red-eye, sold out, unserved route (flown as a one-stop
connection through a hub), nine travellers (rooms and cars for nine), and an impossible request
(a budget no trip fits).

Success is the verifier's: the run's status equals the scenario's expected status (`completed`
for a plannable trip; anything but `completed` for the impossible ones). Each row also gives the
rounds, the model calls, prompt and completion tokens, cost (when the price table knows the
model) and wall time. The rules planner makes no model call.

`scripted=True` runs the LLM planner offline against the scripted loopback model, replaying
for each scenario the tasks the rules planner chose, round by round: a smoke test of the whole
LLM path (prompts, HTTP, validation, guide, approval, verifier), not a measure of any model.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domains.travel.inventory import Inventory
from domains.travel.models import Leg, TripRequest
from domains.travel.services import INVENTORY_FILE

Setup = Callable[[Inventory, TripRequest], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    route: list[str]
    travelers: int = 2
    gaps: list[int] = field(default_factory=lambda: [5])
    """Days between one leg and the next."""
    budget: float | None = 30000
    car: bool = False
    hotel_tier: int = 3
    expect: str = "completed"
    """The verifier's status a good planner reaches; "not completed" for impossible requests."""
    setup: Setup | None = None
    offset: int = 40
    """Days from the start of the inventory window to the first leg."""

    def trip(self, window: tuple[date, date]) -> TripRequest:
        day = window[0] + timedelta(days=self.offset)
        legs = []
        for i, (origin, destination) in enumerate(zip(self.route, self.route[1:], strict=False)):
            legs.append(Leg(origin=origin, destination=destination, date=day))
            day += timedelta(days=self.gaps[min(i, len(self.gaps) - 1)])
        return TripRequest(
            legs=legs,
            travelers=self.travelers,
            budget=self.budget,
            car=self.car,
            hotel_tier=self.hotel_tier,
        )


def _sell_out_first_leg(inventory: Inventory, trip: TripRequest) -> None:
    """Every flight of the first leg's day is full but the dearest: the planner must adapt."""
    leg = trip.legs[0]
    options = inventory.search_flights(leg.origin, leg.destination, leg.date)
    for option in options[:-1]:
        inventory.set_seats(option.id, 0)


def _red_eye_first(inventory: Inventory, trip: TripRequest) -> None:
    """Only the red-eyes of the first leg keep seats: the stay needs the night before."""
    leg = trip.legs[0]
    options = inventory.search_flights(leg.origin, leg.destination, leg.date)
    if any(o.red_eye for o in options):
        for option in options:
            if not option.red_eye:
                inventory.set_seats(option.id, 0)


SCENARIOS: list[Scenario] = [
    Scenario("round trip", ["SFO", "CDG", "SFO"]),
    Scenario("three legs, car", ["SFO", "JFK", "CDG", "SFO"], gaps=[3, 4], car=True),
    Scenario("tight budget", ["SFO", "CDG", "SFO"], budget=6200, hotel_tier=5),
    Scenario("red-eye", ["SFO", "CDG", "SFO"], setup=_red_eye_first),
    Scenario("sold out", ["SFO", "CDG", "SFO"], setup=_sell_out_first_leg),
    Scenario("unserved route", ["ORD", "BCN", "ORD"], expect="completed"),
    Scenario("nine travellers, car", ["SFO", "CDG", "SFO"], travelers=9, car=True),
    Scenario("impossible budget", ["SFO", "CDG", "SFO"], budget=300, expect="not completed"),
]
SMOKE = ["round trip", "impossible budget"]


@dataclass
class Row:
    scenario: str
    planner: str
    status: str
    success: bool
    rounds: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    wall_s: float
    reason: str = ""


def _met(expect: str, status: str) -> bool:
    return status != "completed" if expect == "not completed" else status == expect


def prepare(template: Path, workdir: Path, name: str) -> Path:
    target = workdir / name.replace(" ", "-").replace(",", "")
    target.mkdir(parents=True, exist_ok=False)
    shutil.copy(template, target / INVENTORY_FILE)
    return target


def replay_script(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules planner's run as plan updates, one per round: the scripted model's answers."""
    by_round: dict[int, list[dict[str, Any]]] = {}
    for task in values["tasks"].values():
        by_round.setdefault(int(task["round"]), []).append(
            {
                "id": task["id"],
                "worker": task["worker"],
                "inputs": task["inputs"],
                "depends_on": task["depends_on"],
            }
        )
    script: list[dict[str, Any]] = [{"add": by_round[r]} for r in sorted(by_round)]
    status = values.get("status") or "failed"
    script.append({"finish": {"status": status, "reason": "replayed the rules planner's run"}})
    return script


async def run_one(
    scenario: Scenario,
    data_dir: Path,
    *,
    planner: str,
    overrides: dict[str, Any] | None = None,
) -> tuple[Row, dict[str, Any]]:
    from langgraph.checkpoint.memory import InMemorySaver

    from domains.travel.domain import travel_domain
    from graph import build_graph
    from orchestrator.context import Context
    from orchestrator.runner import drive, run_config

    inventory = Inventory.open(data_dir / INVENTORY_FILE)
    trip = scenario.trip(inventory.window())
    if scenario.setup is not None:
        scenario.setup(inventory, trip)
    fields: dict[str, Any] = {"planner": planner, "data_dir": str(data_dir), "approval": "auto"}
    fields.update(overrides or {})
    context = Context(**fields)
    graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
    started = time.perf_counter()
    outcome = await drive(
        graph,
        {"goal": trip.goal(), "request": trip.model_dump(mode="json")},
        config=run_config(f"eval-{planner}-{data_dir.name}", context),
        context=context,
    )
    wall = time.perf_counter() - started
    values = dict(outcome.values)
    usage = values.get("usage") or []
    costs = [u["cost_usd"] for u in usage if u.get("cost_usd") is not None]
    status = str(values.get("status") or "unfinished")
    row = Row(
        scenario=scenario.name,
        planner=planner,
        status=status,
        success=_met(scenario.expect, status),
        rounds=int(values.get("round") or 0),
        calls=sum(int(u.get("calls", 1)) for u in usage),
        prompt_tokens=sum(int(u["prompt_tokens"]) for u in usage),
        completion_tokens=sum(int(u["completion_tokens"]) for u in usage),
        cost_usd=round(sum(costs), 4) if costs else None,
        wall_s=round(wall, 2),
        reason=str(values.get("reason") or "")[:120],
    )
    return row, values


def table(rows: list[Row], *, title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| scenario | planner | verifier status | success | rounds | model calls | prompt tokens "
        "| completion tokens | cost | wall time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cost = "n/a" if r.cost_usd is None else f"${r.cost_usd:,.4f}"
        lines.append(
            f"| {r.scenario} | {r.planner} | {r.status} | {'yes' if r.success else 'no'} | "
            f"{r.rounds} | {r.calls} | {r.prompt_tokens:,} | {r.completion_tokens:,} | {cost} | "
            f"{r.wall_s:.2f} s |"
        )
    for planner in sorted({r.planner for r in rows}):
        mine = [r for r in rows if r.planner == planner]
        ok = sum(r.success for r in mine)
        lines.append(
            f"| **all** | {planner} | | **{ok}/{len(mine)}** | {sum(r.rounds for r in mine)} | "
            f"{sum(r.calls for r in mine)} | {sum(r.prompt_tokens for r in mine):,} | "
            f"{sum(r.completion_tokens for r in mine):,} | | "
            f"{sum(r.wall_s for r in mine):.2f} s |"
        )
    return "\n".join(lines) + "\n"


async def run_suite(
    template: Path,
    workdir: Path,
    *,
    scenarios: list[Scenario],
    model_overrides: dict[str, Any] | None,
    scripted: bool,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[Row]:
    """Rules first, then the LLM planner (scripted: replaying the rules run), per scenario."""
    from orchestrator.testing.scripted_openai import scripted_openai

    rows: list[Row] = []
    for scenario in scenarios:
        progress(f"{scenario.name}: rules")
        rules_row, rules_values = await run_one(
            scenario, prepare(template, workdir, f"{scenario.name}-rules"), planner="rules"
        )
        rows.append(rules_row)
        progress(f"{scenario.name}: llm")
        data_dir = prepare(template, workdir, f"{scenario.name}-llm")
        if scripted:
            with scripted_openai(replay_script(rules_values)) as server:
                overrides = {
                    "base_url": server.base_url,
                    "planner_model": "scripted-replay",
                    **(model_overrides or {}),
                }
                row, _values = await run_one(scenario, data_dir, planner="llm", overrides=overrides)
            row.planner = "llm (scripted replay)"
        else:
            row, _values = await run_one(
                scenario, data_dir, planner="llm", overrides=model_overrides
            )
        rows.append(row)
    return rows
