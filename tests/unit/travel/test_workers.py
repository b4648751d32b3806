"""The travel workers on a real inventory file: typed results, idempotent side effects."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from domains.travel.workers.book import BookInput, book
from domains.travel.workers.cancel import CancelInput, cancel
from domains.travel.workers.search_flights import SearchFlightsInput, search_flights
from orchestrator.context import Context
from orchestrator.workers import TaskFailed, WorkerCall
from tests.unit.travel.support import day


def call(data_dir: Path, task_id: str = "book-flight-1", thread: str = "t1") -> WorkerCall:
    return WorkerCall(
        task_id=task_id, thread_id=thread, attempt=1, context=Context(data_dir=str(data_dir))
    )


async def test_search_returns_typed_options_with_enough_seats(
    data_dir: Path, inventory: Inventory
) -> None:
    found = await search_flights(
        SearchFlightsInput(origin="SFO", destination="JFK", date=day(inventory, 20), travelers=3),
        call(data_dir, "flights-1"),
    )
    assert found.options
    assert all(o.seats_left >= 3 and o.origin == "SFO" for o in found.options)
    assert [o.price for o in found.options] == sorted(o.price for o in found.options)


async def test_rerunning_a_booking_with_the_same_key_returns_the_same_booking(
    data_dir: Path, inventory: Inventory
) -> None:
    option = inventory.search_flights("SFO", "JFK", day(inventory, 20))[0]
    before = inventory.seats_left(option.id)
    inputs = BookInput(kind="flight", item_id=option.id, quantity=2)

    first = await book(inputs, call(data_dir))
    second = await book(inputs, call(data_dir))

    assert first.ref == second.ref and first.key == "t1:book-flight-1"
    assert inventory.seats_left(option.id) == before - 2
    assert len(inventory.bookings("t1")) == 1
    other_thread = await book(inputs, call(data_dir, thread="t2"))
    assert other_thread.ref != first.ref
    assert inventory.seats_left(option.id) == before - 4


async def test_booking_what_sold_out_fails_cleanly_and_takes_nothing(
    data_dir: Path, inventory: Inventory
) -> None:
    option = inventory.search_flights("SFO", "JFK", day(inventory, 20))[0]
    inventory.set_seats(option.id, 1)

    with pytest.raises(TaskFailed, match="sold out"):
        await book(BookInput(kind="flight", item_id=option.id, quantity=2), call(data_dir))

    assert inventory.seats_left(option.id) == 1
    assert inventory.bookings("t1") == []


async def test_cancel_releases_inventory_once(data_dir: Path, inventory: Inventory) -> None:
    option = inventory.search_flights("SFO", "JFK", day(inventory, 20))[0]
    before = inventory.seats_left(option.id)
    booking = await book(BookInput(kind="flight", item_id=option.id, quantity=2), call(data_dir))

    cancelled = await cancel(CancelInput(ref=booking.ref), call(data_dir, "cancel-1"))
    again = await cancel(CancelInput(ref=booking.ref), call(data_dir, "cancel-2"))

    assert cancelled.status == again.status == "cancelled"
    assert inventory.seats_left(option.id) == before
    with pytest.raises(TaskFailed):
        await cancel(CancelInput(ref="FL-NOPE00"), call(data_dir, "cancel-3"))
