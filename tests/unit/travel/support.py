"""Running a trip in-process against a real inventory and a real SQLite checkpoint file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from langgraph.types import Command

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from domains.travel.models import Leg, TripRequest
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.runner import RunOutcome, drive, run_config


def day(inventory: Inventory, offset: int) -> date:
    return inventory.window()[0] + timedelta(days=offset)


def trip(*legs: tuple[str, str, date], **fields: Any) -> TripRequest:
    return TripRequest(
        legs=[Leg(origin=o, destination=d, date=when) for o, d, when in legs], **fields
    )


async def run_trip(
    data_dir: Path,
    request: TripRequest,
    *,
    thread: str = "t1",
    approval: str = "auto",
    resume: Any = None,
    **context: Any,
) -> RunOutcome:
    """Runs (or with `resume`, continues) a trip until it ends or pauses for approval."""
    ctx = Context(data_dir=str(data_dir), approval=approval, **context)  # type: ignore[arg-type]
    async with open_checkpointer(str(data_dir / "checkpoints.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        start: Any = (
            Command(resume=resume)
            if resume is not None
            else {"goal": request.goal(), "request": request.model_dump(mode="json")}
        )
        return await drive(graph, start, config=run_config(thread, ctx), context=ctx)


def decisions(values: dict[str, Any]) -> list[str]:
    return [e["message"] for e in values["log"] if e["kind"] == "decision"]


def tasks_of(values: dict[str, Any], worker: str) -> list[dict[str, Any]]:
    return [t for t in values["tasks"].values() if t["worker"] == worker]


def output(values: dict[str, Any], task_id: str) -> dict[str, Any]:
    task = values["tasks"][task_id]
    result = values["results"][task["result_ref"]]
    assert result["ok"], result
    out: dict[str, Any] = result["output"]
    return out
