"""Route functions: where the run goes after the orchestrator and after an approval.

They read a narrow `RouteView` (status and the ready payloads), so LangGraph does not copy the
task board to route; and they are async although they do no I/O, because LangGraph runs a sync
route in its thread pool. Both were measured in bench B1.
"""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from nodes.lanes import LANES
from orchestrator.board import lanes_of
from state import LanePayload, RouteView


def _sends(view: RouteView) -> list[Send]:
    """A `Send` per task to its worker; tasks that wait for others of the same dispatch go,
    with what they wait for, as one lane to the `lanes` node."""
    alone, lanes = lanes_of(view.get("dispatch") or [])
    return [Send(p["worker"], p) for p in alone] + [
        Send(LANES, LanePayload(lane=lane)) for lane in lanes
    ]


async def route_after_orchestrate(view: RouteView) -> list[Send] | Literal["approve", "synthesize"]:
    """Every ready task to its worker (and the tasks planned after them, in lanes) in one
    superstep, else approval, else the answer."""
    status = view.get("status")
    if status == "awaiting_approval":
        return "approve"
    if status != "running":
        return "synthesize"
    return _sends(view)


async def route_after_approve(view: RouteView) -> list[Send] | Literal["orchestrate"]:
    """The approved tasks to their workers, or back to the orchestrator after a rejection."""
    return _sends(view) or "orchestrate"
