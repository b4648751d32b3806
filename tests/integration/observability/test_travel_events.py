"""A travel run streams every kind of progress event, each carrying what the live view shows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import Leg, TripRequest
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.report import load_report
from orchestrator.runner import drive, run_config


async def test_a_travel_run_streams_each_event_kind(data_dir: Path, inventory: Inventory) -> None:
    start = inventory.window()[0] + timedelta(days=30)
    request = TripRequest(
        legs=[
            Leg(origin="SFO", destination="CDG", date=start),
            Leg(origin="CDG", destination="SFO", date=start + timedelta(days=4)),
        ],
        travelers=1,
    )
    context = Context(data_dir=str(data_dir), approval="ask", planner="rules")
    config = run_config("events-1", context)
    events: list[dict[str, Any]] = []

    async with open_checkpointer(str(data_dir / "checkpoints.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        sold_out: list[str] = []

        async def approver(question: dict[str, Any]) -> dict[str, Any]:
            # Someone takes the last rooms between the search and the booking: a task fails.
            if not sold_out:
                tasks = (await graph.aget_state(config)).values["tasks"]
                hotel_id, check_in, *_ = tasks["book-hotel-1"]["inputs"]["item_id"].split(":")
                inventory.set_rooms(hotel_id, date.fromisoformat(check_in), 0)
                sold_out.append(hotel_id)
            return {"decision": "approve"}

        outcome = await drive(
            graph,
            {"goal": request.goal(), "request": request.model_dump(mode="json")},
            config=config,
            context=context,
            on_event=events.append,
            approver=approver,
        )
        report = await load_report(graph, "events-1")

    assert outcome.values["status"] == "completed", outcome.values["reason"]
    kinds = {e["event"] for e in events}
    assert kinds >= {
        "round_started",
        "plan_changed",
        "task_dispatched",
        "task_done",
        "task_failed",
        "approval_needed",
        "approval_given",
        "run_finished",
    }
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_kind.setdefault(event["event"], []).append(event)
    assert [e["round"] for e in by_kind["round_started"]] == list(
        range(1, report.totals.rounds + 1)
    )
    for change in by_kind["plan_changed"]:
        if change["added"] or change["cancelled"] or change["retried"]:
            assert change["reasons"] and all(isinstance(r, str) for r in change["reasons"])
        else:
            assert change["finish"]["status"] == "completed", "the planner's verdict"
    dispatched = {(e["task_id"], e["worker"], e["round"]) for e in by_kind["task_dispatched"]}
    assert dispatched == {(a.task_id, a.worker, a.round) for a in report.attempts}, (
        "every attempt is announced, with the round the report places it in"
    )
    for event in by_kind["task_done"] + by_kind["task_failed"]:
        assert event["seconds"] >= 0 and event["summary"] and event["worker"]
    (failed,) = by_kind["task_failed"]
    assert failed["task_id"] == "book-hotel-1" and "sold out" in failed["summary"]
    assert all(e["task_ids"] for e in by_kind["approval_needed"])
    assert [e["decision"] for e in by_kind["approval_given"]] == ["approve"] * len(
        by_kind["approval_needed"]
    )
    (finished,) = by_kind["run_finished"]
    assert (finished["status"], finished["reason"]) == ("completed", outcome.values["reason"])
    assert events[-1] == finished
