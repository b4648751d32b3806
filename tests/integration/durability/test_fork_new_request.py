"""`orchestrator.history.fork` with `request_changes`: side effects planned under the old request
and not carried out at the fork point (an approval waiting, or bookings dispatched) are never
carried out by the new thread; its planner plans that round again under the new request, and the
goal in words follows the new request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import TripRequest
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.history import changed_goal, fork, history, waiting_side_effects
from orchestrator.runner import drive, run_config

BOOKS = ["book-flight-1", "book-flight-2", "book-hotel-1"]


def london(inventory: Inventory, offset: int, budget: float | None = None) -> dict[str, Any]:
    start = inventory.window()[0] + timedelta(days=offset)
    request = TripRequest.model_validate(
        {
            "legs": [
                {"origin": "SFO", "destination": "LHR", "date": str(start)},
                {"origin": "LHR", "destination": "SFO", "date": str(start + timedelta(days=5))},
            ],
            "budget": budget,
        }
    )
    return {"goal": request.goal(), "request": request.model_dump(mode="json")}


async def test_a_pending_approval_is_planned_again_under_the_new_budget(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    context = Context(data_dir=str(data_dir), approval="ask")
    asked: list[dict[str, Any]] = []

    async def approve_all(question: dict[str, Any]) -> Any:
        asked.append(question)
        return "approve"

    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        paused = await drive(
            graph, london(inventory, 60), config=run_config("ask", context), context=context
        )
        assert paused.paused and paused.values["status"] == "awaiting_approval"
        state = await graph.aget_state({"configurable": {"thread_id": "ask"}})
        pause = str(state.config["configurable"]["checkpoint_id"])

        branch = await fork(graph, "ask", pause, "ask-2", request_changes={"budget": 100})
        second = await drive(
            graph,
            branch.start,
            config=run_config("ask-2", context),
            context=context,
            approver=approve_all,
        )
        kept = await fork(graph, "ask", pause, "ask-3", request_changes={"budget": None})

    assert branch.replanned == BOOKS and branch.checkpoint_id != pause
    assert branch.goal.endswith("for 1 traveller(s), budget $100")
    assert asked == []  # nothing planned under the new budget needed an approval
    assert second.values["status"] == "failed"
    assert second.values["claim"]["reason"].startswith("over budget")
    assert second.values["goal"] == branch.goal
    assert inventory.bookings("ask-2") == [] and inventory.bookings("ask") == []
    forked = [e for e in second.values["log"] if e["kind"] == "info" and "forked" in e["message"]]
    assert len(forked) == 1
    assert forked[0]["data"]["request_changes"] == {"budget": 100}
    assert forked[0]["data"]["forked_from"] == {"thread_id": "ask", "checkpoint_id": pause}
    assert forked[0]["data"]["replanned"] == BOOKS
    assert forked[0]["data"]["replanned_from"] == branch.checkpoint_id
    # The same request (no budget before, none now): the fork continues from the pause.
    assert kept.replanned == [] and kept.checkpoint_id == pause
    assert kept.goal == paused.values["goal"]


async def test_bookings_dispatched_under_the_old_budget_are_not_sent_again(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    context = Context(data_dir=str(data_dir), approval="auto")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        first = await drive(
            graph, london(inventory, 70, 9000), config=run_config("auto", context), context=context
        )
        assert first.values["status"] == "completed"
        entries = await history(graph, "auto")
        sending = next(e for e in entries if "book-flight-1" in e.dispatched)
        before = entries[entries.index(sending) - 1]

        branch = await fork(
            graph, "auto", sending.checkpoint_id, "auto-2", request_changes={"budget": 100}
        )
        second = await drive(
            graph, branch.start, config=run_config("auto-2", context), context=context
        )
        same = await fork(graph, "auto", sending.checkpoint_id, "auto-3")

    assert sorted(branch.replanned) == BOOKS
    assert branch.checkpoint_id == before.checkpoint_id  # the round that planned them, again
    assert branch.goal.endswith("budget $100") and first.values["goal"].endswith("budget $9,000")
    assert second.values["status"] == "failed"
    assert inventory.bookings("auto-2") == []
    assert len(inventory.bookings("auto")) == 3
    assert same.replanned == [] and same.checkpoint_id == sending.checkpoint_id


def test_the_goal_follows_the_new_request() -> None:
    old = {
        "legs": [
            {"origin": "SFO", "destination": "LHR", "date": "2031-03-01"},
            {"origin": "LHR", "destination": "SFO", "date": "2031-03-05"},
        ],
        "budget": 6000,
    }
    new = {**old, "budget": 12000}
    built = TripRequest.model_validate(old).goal()

    assert changed_goal(built, old, new, TripRequest).endswith("budget $12,000")
    assert changed_goal(f"{built} (economy, no car)", old, new, TripRequest) == (
        f"{TripRequest.model_validate(new).goal()} (economy, no car)"
    )
    # Words the request model did not write keep theirs and say what changed.
    assert changed_goal("London in March", old, new, TripRequest) == (
        "London in March [request changed when forked: budget 12000 (was 6000)]"
    )
    assert changed_goal("London in March", old, new) == changed_goal(
        "London in March", old, new, TripRequest
    )
    assert changed_goal("London in March", old, dict(old)) == "London in March"


def test_a_finished_run_has_no_side_effect_waiting() -> None:
    task = {"worker": "book", "status": "pending", "attempts": 0}
    running = {**task, "status": "running", "attempts": 1}
    board = {"tasks": {"a": task, "b": running, "c": {**running, "worker": "search_flights"}}}

    assert waiting_side_effects(board, frozenset({"book"})) == ["a", "b"]
    assert waiting_side_effects({**board, "results": {"b#1": {}}}, frozenset({"book"})) == ["a"]
    assert waiting_side_effects({**board, "status": "partial"}, frozenset({"book"})) == []
