"""Twenty runs at once on one SQLite checkpoint file and one inventory, competing for seats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import Leg, TripRequest
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.runner import RunOutcome, drive, run_config

RUNS = 20


async def _one(n: int, request: TripRequest, data_dir: Path, checkpoints: Path) -> RunOutcome:
    context = Context(data_dir=str(data_dir), approval="auto")
    # Each run has its own connection, as separate processes would: real lock contention.
    async with open_checkpointer(str(checkpoints)) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        return await drive(
            graph,
            {"goal": f"run {n}", "request": request.model_dump(mode="json")},
            config=run_config(f"run-{n}", context),
            context=context,
        )


async def test_twenty_parallel_runs_share_files_without_locks_crosstalk_or_overselling(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    day = inventory.window()[0] + timedelta(days=90)
    flights = inventory.search_flights("SFO", "JFK", day)
    for option in flights:
        inventory.set_seats(option.id, 9)  # room for four parties of two per flight
    requests = [
        TripRequest(
            legs=[
                Leg(origin="SFO", destination="JFK", date=day),
                Leg(origin="JFK", destination="SFO", date=day + timedelta(days=2 + n % 3)),
            ],
            travelers=2,
        )
        for n in range(RUNS)
    ]
    checkpoints = tmp_path / "shared.sqlite"

    outcomes = await asyncio.gather(
        *(_one(n, r, data_dir, checkpoints) for n, r in enumerate(requests))
    )

    for n, outcome in enumerate(outcomes):
        values = outcome.values
        assert values["goal"] == f"run {n}"  # no cross-talk between threads
        assert values["request"] == requests[n].model_dump(mode="json")
        # A party that lost every seat race books nothing: `failed`, and the verdict says so.
        assert values["status"] in ("completed", "partial", "failed"), values["reason"]
        assert "locked" not in values["reason"]
        booked = {b.ref for b in inventory.bookings(f"run-{n}") if b.status == "confirmed"}
        data = values["answer"]["data"]
        shown = {x["booking"] for x in [*data["legs"], *data["hotels"]] if x["booking"]}
        shown_confirmed = {
            x["booking"]
            for x in [*data["legs"], *data["hotels"]]
            if x["booking_status"] == "confirmed"
        }
        assert shown_confirmed == booked, f"run {n}: itinerary and bookings disagree"
        assert shown >= booked
    seats = {o.flight_no: inventory.seats_left(o.id) for o in flights}
    assert all(left >= 0 for left in seats.values()), seats
    sold = sum(
        b.quantity
        for b in inventory.bookings()
        if b.status == "confirmed"
        and b.kind == "flight"
        and b.item_id.endswith(f"{day}:economy")
        and b.item_id.split(":")[0] in seats
    )
    assert sold == 9 * len(flights) - sum(seats.values())
    assert sum(o.values["status"] == "completed" for o in outcomes) >= 1
    lost_races = [
        t
        for o in outcomes
        for t in o.values["tasks"].values()
        if t["worker"] == "book" and "sold out since the search" in (t["error"] or "")
    ]
    assert lost_races, "the runs really competed for the same seats and rooms"
