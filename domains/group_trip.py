"""Group trips: a managing orchestrator whose workers are travel orchestrators on a server.

Each party (one traveller, or people travelling together) has its own trip. The manager hands
every party's trip, all at once, to a remote worker that runs the travel orchestrator on a
LangGraph server (`orchestrator.remote`): a managing agent orchestrating clones of itself. The
unit of remote work is a party's whole itinerary, not a single leg, because a leg's hotel nights
depend on the flight found for it and for the next leg: one itinerary cannot be planned apart.

The person approves once, at the manager, each party's trip as asked (route, dates, budget);
the clones then search and book within it without asking again (`approval: auto`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, with_config
from typing_extensions import TypedDict

from domains.travel.models import TripRequest
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.planning import Finish, NewTask, Planner, PlanOutcome, PlanUpdate, PlanView
from orchestrator.remote import remote_worker
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.workers import WorkerRegistry
from state import Task, TaskResult

PARTY_TRIP = "party_trip"
"""Name of the worker that books one party's trip on a travel orchestrator."""
TRAVEL_GRAPH = "orchestrator"
"""The travel orchestrator's graph id in langgraph.json."""


class Party(BaseModel):
    """People who travel together on one itinerary."""

    name: str = Field(min_length=1, description="Who travels, e.g. 'Paris team'.")
    trip: TripRequest


class GroupTripRequest(BaseModel):
    """Several parties' trips, planned and booked independently, reported together."""

    parties: list[Party] = Field(min_length=1, description="One entry per itinerary.")


@with_config(ConfigDict(use_attribute_docstrings=True))
class GroupTripInput(TypedDict):
    """A group trip: the goal in words and each party's trip (see examples/group_trip.json)."""

    goal: str
    """The group trip in a sentence, e.g. 'Offsite in Paris, 10-15 February'."""
    request: GroupTripRequest
    """Each party's trip request."""


def party_task(index: int, party: Party) -> NewTask:
    return NewTask(
        id=f"party-{index + 1}",
        worker=PARTY_TRIP,
        inputs={
            "goal": f"{party.name}: {party.trip.goal()}",
            "request": party.trip.model_dump(mode="json"),
        },
        reason=f"plan and book {party.name}'s trip on a travel orchestrator",
    )


class GroupTripPlanner:
    """Round 1: one remote task per party, all in parallel. Round 2: report how they went."""

    async def plan(self, view: PlanView) -> PlanOutcome:
        try:
            group = GroupTripRequest.model_validate(view.request or {})
        except ValidationError as exc:
            reason = f"no valid group trip request: {exc.errors()[0]['msg']}"
            return PlanOutcome(PlanUpdate(finish=Finish(status="failed", reason=reason)))
        if not view.tasks:
            tasks = [party_task(i, p) for i, p in enumerate(group.parties)]
            decision = f"hand {len(tasks)} parties' trips to travel orchestrators in parallel"
            return PlanOutcome(PlanUpdate(add=tasks, decisions=[decision]))
        done = [t["id"] for t in view.tasks.values() if t["status"] == "done"]
        failed = [t for t in view.tasks.values() if t["status"] in ("failed", "cancelled")]
        if len(done) + len(failed) < len(view.tasks):
            return PlanOutcome(PlanUpdate())  # still running (or waiting for approval)
        why = "; ".join(f"{t['id']}: {t['error'] or t['status']}" for t in failed)
        if not failed:
            finish = Finish(status="completed", reason=f"all {len(done)} parties booked")
        elif done:
            finish = Finish(
                status="partial", reason=f"{len(done)} of {len(view.tasks)} booked; {why}"
            )
        else:
            finish = Finish(status="failed", reason=f"no party booked; {why}")
        return PlanOutcome(PlanUpdate(finish=finish))


def describe_parties(
    batch: Sequence[Task], results: Mapping[str, TaskResult], request: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The approval view: each party's trip in one line."""
    return {
        "items": [
            {"task_id": t["id"], "action": t["worker"], "label": t["inputs"]["goal"]} for t in batch
        ]
    }


def group_trip_domain(
    *, url: str | None = None, headers: Mapping[str, str] | None = None, api_key: str | None = None
) -> Domain:
    """The manager. `url` is the server whose `orchestrator` graph books each party's trip
    (None: `$ORCHESTRATOR_REMOTE_URL`, else the server this runs in)."""
    worker = remote_worker(
        PARTY_TRIP,
        graph_id=TRAVEL_GRAPH,
        url=url,
        headers=headers,
        api_key=api_key,
        description="Plans and books one party's whole trip on a travel orchestrator.",
        # The manager's approval covers the party's trip as asked; the clone must not pause.
        context={"approval": "auto"},
    )

    def planner(context: Context) -> Planner:
        return GroupTripPlanner()

    return Domain(
        name="group-trip",
        description="Books several parties' trips at once, each on its own travel orchestrator.",
        workers=WorkerRegistry.of(worker),
        planner=planner,
        synthesizer=lambda context: TemplateSynthesizer(),
        describe_approval=describe_parties,
        input_schema=GroupTripInput,
    )
