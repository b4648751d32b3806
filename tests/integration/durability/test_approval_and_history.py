"""Approval pauses that outlive the process, parallel interrupts, history and forks."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.delegate import delegate_worker
from orchestrator.domain import Domain
from orchestrator.history import fork, history
from orchestrator.planning import Finish, NewTask, PlanOutcome, PlanUpdate, PlanView
from orchestrator.runner import drive, run_config
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.workers import WorkerRegistry

BIN = Path(sys.executable).parent / "orchestrator"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def trip_flags(inventory: Inventory, offset: int = 60, budget: str = "20000") -> list[str]:
    start = inventory.window()[0] + timedelta(days=offset)
    return [
        "--from", "SFO", "--to", "CDG", "--depart", str(start),
        "--return", str(start + timedelta(days=4)), "--travelers", "2", "--budget", budget,
    ]  # fmt: skip


def test_a_paused_run_survives_the_process_and_resumes_from_a_new_one(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"pause-{uuid.uuid4().hex[:8]}"

    paused = cli("trip", *trip_flags(inventory), "--thread", thread, "--json", *where)

    assert paused.returncode == 3, paused.stderr  # no terminal, no --yes: stays paused
    waiting = json.loads(paused.stdout)
    assert waiting["status"] == "awaiting_approval"
    items = waiting["approval"][0]["items"]
    assert {i["kind"] for i in items} == {"flight", "hotel"}
    assert waiting["approval"][0]["total"] == pytest.approx(sum(i["price"] for i in items))
    assert inventory.bookings(thread) == []  # nothing booked before approval

    resumed = cli("resume", thread, "--yes", "--json", *where)

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    assert len([b for b in inventory.bookings(thread) if b.status == "confirmed"]) == 3


def test_resume_of_a_completed_run_prints_it_and_does_nothing_else(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"done-{uuid.uuid4().hex[:8]}"
    assert cli("trip", *trip_flags(inventory), "--thread", thread, "--yes", *where).returncode == 0
    before = [b.model_dump() for b in inventory.bookings()]
    steps_before = len(json.loads(cli("history", thread, "--json", *where).stdout))

    again = cli("resume", thread, "--yes", *where)

    assert again.returncode == 0
    assert "already finished" in again.stderr
    assert "Trip status: COMPLETED" in again.stdout
    assert [b.model_dump() for b in inventory.bookings()] == before
    assert len(json.loads(cli("history", thread, "--json", *where).stdout)) == steps_before


def test_history_lists_rounds_nodes_decisions_and_dispatches(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"hist-{uuid.uuid4().hex[:8]}"
    assert cli("trip", *trip_flags(inventory), "--thread", thread, "--yes", *where).returncode == 0

    entries = json.loads(cli("history", thread, "--json", *where).stdout)

    planning = [e for e in entries if "orchestrate" in e["ran"]]
    assert [e["round"] for e in planning] == list(range(1, len(planning) + 1))
    assert any("search flights for all 2 legs" in d for e in planning for d in e["decisions"])
    assert entries[2]["dispatched"] == ["flights-1", "flights-2"]
    assert any("approve" in e["ran"] for e in entries)
    assert entries[-1]["ran"] == ["synthesize"] and entries[-1]["status"] == "completed"
    table = cli("history", thread, *where)
    assert table.returncode == 0 and "dispatch flights-1, flights-2" in table.stdout


def test_fork_replans_under_a_new_budget_and_leaves_the_original_alone(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"fork-{uuid.uuid4().hex[:8]}"
    tight = cli("trip", *trip_flags(inventory, budget="500"), "--thread", thread, "--yes", *where)
    assert tight.returncode == 1 and "over budget" in tight.stderr
    entries = json.loads(cli("history", thread, "--json", *where).stdout)
    after_flights = next(e for e in entries if e["dispatched"][:1] == ["hotels-1"])

    forked = cli(
        "fork", thread, "--at", after_flights["checkpoint_id"], "--budget", "20000",
        "--thread", f"{thread}-b", "--yes", "--json", *where,
    )  # fmt: skip

    assert forked.returncode == 0, forked.stderr
    result = json.loads(forked.stdout)
    assert result["status"] == "completed" and result["itinerary"]["budget"] == 20000
    assert inventory.bookings(thread) == []
    assert len(inventory.bookings(f"{thread}-b")) == 3
    assert json.loads(cli("history", thread, "--json", *where).stdout) == entries
    missing = cli("fork", thread, "--at", "no-such-checkpoint", *where)
    assert missing.returncode == 2 and "no checkpoint 'no-such-checkpoint'" in missing.stderr
    reused = cli("trip", *trip_flags(inventory), "--thread", thread, "--yes", *where)
    assert reused.returncode == 2 and "already holds a run" in reused.stderr


class TwoTripsPlanner:
    """A managing planner that hands two whole trips to sub-orchestrators at once."""

    def __init__(self, requests: list[dict[str, Any]]) -> None:
        self.requests = requests

    async def plan(self, view: PlanView) -> PlanOutcome:
        if not view.tasks:
            add = [
                NewTask(
                    id=f"trip-{n}", worker="book_trip", inputs={"goal": f"trip {n}", "request": r}
                )
                for n, r in enumerate(self.requests, 1)
            ]
            return PlanOutcome(PlanUpdate(add=add, decisions=["delegate both trips in parallel"]))
        done = all(t["status"] in ("done", "failed") for t in view.tasks.values())
        if done:
            ok = [t["id"] for t in view.tasks.values() if t["status"] == "done"]
            status = "completed" if len(ok) == len(view.tasks) else "partial"
            return PlanOutcome(PlanUpdate(finish=Finish(status=status, reason=f"done: {ok}")))
        return PlanOutcome(PlanUpdate())


def two_trips_manager(start: date) -> Domain:
    """A managing domain that delegates an SFO-CDG and a JFK-LHR round trip to sub-orchestrators."""
    requests = [
        {"legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                  {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}]},
        {"legs": [{"origin": "JFK", "destination": "LHR", "date": str(start)},
                  {"origin": "LHR", "destination": "JFK", "date": str(start + timedelta(days=3))}]},
    ]  # fmt: skip
    return Domain(
        name="manager",
        description="delegates trips",
        workers=WorkerRegistry.of(delegate_worker(travel_domain(), name="book_trip")),
        planner=lambda ctx: TwoTripsPlanner(requests),
        synthesizer=lambda ctx: TemplateSynthesizer(),
    )


async def test_parallel_approval_interrupts_resume_by_interrupt_id(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=70)
    manager = two_trips_manager(start)
    context = Context(data_dir=str(data_dir), approval="ask")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(manager, checkpointer=saver)
        config = run_config("managed", context)
        first = await drive(graph, {"goal": "two trips"}, config=config, context=context)
        assert len(first.paused) == 2  # both sub-orchestrators wait for approval at once
        by_origin = {p["value"]["items"][0]["label"].split()[2][:3]: p["id"] for p in first.paused}

        answers = {
            by_origin["SFO"]: "approve",
            by_origin["JFK"]: {"decision": "reject", "reason": "no"},
        }
        final = await drive(graph, Command(resume=answers), config=config, context=context)

    assert final.finished
    tasks = final.values["tasks"]
    assert tasks["trip-1"]["status"] == "done"
    assert tasks["trip-2"]["status"] == "failed"  # its sub-run ended partial: nothing booked
    assert final.values["status"] == "partial"
    booked = [b for b in inventory.bookings("managed") if b.status == "confirmed"]
    assert {b.kind for b in booked} == {"flight", "hotel"}
    assert all(b.key.startswith("managed:trip-1/") for b in booked)  # only the approved trip


async def test_history_and_fork_from_python(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=80)
    request = {
        "legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                 {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}],
        "budget": 400,
    }  # fmt: skip
    context = Context(data_dir=str(data_dir), approval="auto")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(checkpointer=saver)
        first = await drive(
            graph,
            {"goal": "Paris", "request": request},
            config=run_config("py", context),
            context=context,
        )
        assert first.values["status"] == "partial"
        entries = await history(graph, "py")
        at = next(e for e in entries if "orchestrate" in e.ran and e.round == 2)
        branch = await fork(
            graph, "py", at.checkpoint_id, "py-2", request_changes={"budget": 30000}
        )
        second = await drive(
            graph, branch.start, config=run_config("py-2", context), context=context
        )
    assert second.values["status"] == "completed"
    assert second.values["request"]["budget"] == 30000
    assert first.values["request"]["budget"] == 400


async def test_sub_orchestrators_on_one_thread_never_share_a_booking(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    """Both sub-runs have a task 'book-flight-1'; the scope keeps their idempotency keys apart."""
    start = inventory.window()[0] + timedelta(days=75)
    manager = two_trips_manager(start)
    context = Context(data_dir=str(data_dir), approval="auto")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(manager, checkpointer=saver)
        final = await drive(
            graph, {"goal": "two trips"}, config=run_config("shared", context), context=context
        )

    assert final.values["status"] == "completed", final.values["reason"]
    bookings = inventory.bookings("shared")
    assert len(bookings) == 6  # 2 flights + 1 hotel per trip, none merged
    assert {b.key for b in bookings} >= {
        "shared:trip-1/book-flight-1",
        "shared:trip-2/book-flight-1",
    }
    assert len({b.ref for b in bookings}) == 6


async def test_time_paused_for_approval_does_not_count_against_the_deadline(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=85)
    request = {
        "legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                 {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}],
    }  # fmt: skip
    context = Context(data_dir=str(data_dir), approval="ask", deadline_s=1.0)
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(checkpointer=saver)
        config = run_config("slow-human", context)
        paused = await drive(
            graph, {"goal": "Paris", "request": request}, config=config, context=context
        )
        assert paused.paused
        await asyncio.sleep(1.5)  # the person takes longer than the whole deadline to answer
        final = await drive(graph, Command(resume="approve"), config=config, context=context)

    assert final.values["status"] == "completed", final.values["reason"]
    assert final.values["busy_s"] < 1.0
