"""Worker: cancel a booking and release its inventory (the compensating action)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domains.travel.inventory import UnknownBooking
from domains.travel.models import Booking
from domains.travel.services import with_inventory
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec

REF_CHARS = 1000
"""Longest reference accepted: a booking ref is 9 characters, an idempotency key a thread id,
a run id, a scope and a task id."""
REASON_CHARS = 500


class CancelInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str = Field(
        min_length=1,
        max_length=REF_CHARS,
        description="Booking reference (or idempotency key) to cancel.",
    )
    reason: str = Field(default="", max_length=REASON_CHARS)


async def cancel(inputs: CancelInput, call: WorkerCall) -> Booking:
    try:
        # Only this thread's bookings: a reference (from an edited approval, a model, a
        # caller) never cancels another traveller's.
        return await with_inventory(
            call, lambda inv: inv.cancel(inputs.ref, thread_id=call.thread_id)
        )
    except UnknownBooking as exc:
        raise TaskFailed(str(exc)) from exc


CANCEL = WorkerSpec(
    name="cancel",
    description="Cancels a confirmed booking and releases its inventory. Side effect.",
    input_model=CancelInput,
    output_model=Booking,
    run=cancel,
    side_effects=True,
    summarize=lambda b: f"cancelled {b.kind} {b.ref}",
)
