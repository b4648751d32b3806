"""Worker: book one flight, room or car; idempotent on the task's key (thread id + task id).

Nothing in the past is booked, however old the search that gave the option id: the inventory
refuses a flight that has left, or a stay or rental that begins before today where it is
(`InThePast`, a `ValueError`: the task fails with its one-line reason and nothing is taken)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domains.travel.inventory import SoldOut
from domains.travel.models import Booking, BookingKind
from domains.travel.services import with_inventory
from orchestrator.workers import TaskFailed, WorkerCall, WorkerSpec

ITEM_ID_CHARS = 200
"""Longest option id accepted: the longest the inventory makes (a stay's) is under 60."""
LABEL_CHARS = 300


class BookInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: BookingKind
    item_id: str = Field(
        min_length=1, max_length=ITEM_ID_CHARS, description="The option id returned by a search."
    )
    quantity: int = Field(default=1, ge=1, le=9, description="Seats, rooms or cars.")
    label: str = Field(
        default="", max_length=LABEL_CHARS, description="What is booked, for people."
    )
    price: float = Field(default=0.0, ge=0, description="Total price expected from the search.")


async def book(inputs: BookInput, call: WorkerCall) -> Booking:
    try:
        return await with_inventory(
            call,
            lambda inv: inv.book(
                key=call.idempotency_key,
                kind=inputs.kind,
                item_id=inputs.item_id,
                quantity=inputs.quantity,
                thread_id=call.thread_id,
                task_id=call.task_id,
            ),
        )
    except SoldOut as exc:
        raise TaskFailed(f"sold out since the search: {exc}") from exc


def summarize(booking: Booking) -> str:
    return f"booked {booking.kind} {booking.ref} ${booking.total_price:,.0f} ({booking.status})"


BOOK = WorkerSpec(
    name="book",
    description="Holds and confirms a flight, room or car in one transaction. Side effect.",
    input_model=BookInput,
    output_model=Booking,
    run=book,
    side_effects=True,
    summarize=summarize,
)
