"""A cancellation names a booking of its own thread: on both backends another thread's
reference or key is as unknown as one that does not exist, and nothing is released."""

from __future__ import annotations

import pytest

from domains.travel.inventory import Inventory
from domains.travel.inventory.repository import UnknownBooking
from tests.integration.inventory_pg.test_inventory_backends import DAY, book

pytestmark = pytest.mark.postgres


def test_another_threads_booking_cannot_be_cancelled(backend: Inventory) -> None:
    option = backend.search_flights("CDG", "FCO", DAY, travelers=2)[0]
    alices = book(backend, "alice-key", option.id, 2, thread="alice")
    seats = backend.seats_left(option.id)

    for handle in (alices.ref, alices.key):
        with pytest.raises(UnknownBooking, match="no booking with reference or key"):
            backend.cancel(handle, thread_id="bob")
    assert backend.seats_left(option.id) == seats
    assert [b.status for b in backend.bookings("alice")] == ["confirmed"]

    assert backend.cancel(alices.ref, thread_id="alice").status == "cancelled"
    assert backend.seats_left(option.id) == seats + 2
