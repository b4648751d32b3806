"""The SQLite inventory's own test cases, run unchanged on the PostgreSQL inventory.

Importing a test function makes pytest collect it here too, where `fresh` and `inventory` are the
fixtures below: the same bodies, the PostgreSQL backend.
"""

from __future__ import annotations

import pytest

from domains.travel.inventory.postgres import PostgresInventory
from tests.unit.travel.test_inventory import (  # noqa: F401
    test_a_night_without_rooms_hides_the_hotel,
    test_bad_items_are_value_errors,
    test_booking_takes_seats_and_records_the_booking,
    test_cancel_gives_back_what_was_taken_once,
    test_car_rental_takes_a_car_every_day,
    test_flight_search_filters_and_sorts,
    test_hotel_and_car_searches,
    test_hotel_stay_takes_a_room_every_night,
    test_real_airports_with_several_per_city,
    test_same_key_returns_the_same_booking_and_takes_nothing,
    test_sold_out_raises_and_changes_nothing,
    test_twenty_threads_race_for_the_last_five_seats,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def fresh(pg_fresh: PostgresInventory) -> PostgresInventory:
    return pg_fresh


@pytest.fixture
def inventory(pg_shared: PostgresInventory) -> PostgresInventory:
    """The shared inventory; read-only by convention."""
    return pg_shared
