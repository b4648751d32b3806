"""Both inventories (SQLite and PostgreSQL) refuse the past the same way, by the one clock.

The clock is fixed (`clock.now`); the schedule is the generator's: on D, HND->LAX flies JL210 at
07:00 and JL211 at 11:45, Tokyo time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domains.travel.inventory import InThePast, Inventory, clock

D = date(2030, 1, 20)
TOKYO = ZoneInfo("Asia/Tokyo")
PARIS = ZoneInfo("Europe/Paris")


def _freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment.astimezone(UTC))


def _at(hour: int, minute: int = 0, zone: ZoneInfo = TOKYO, day: date = D) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def test_searches_offer_nothing_in_the_past(
    backend: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _at(11, 50)
    _freeze(monkeypatch, now)

    found = backend.search_flights("HND", "LAX", D, include_full=True)
    assert found and all(datetime.fromisoformat(o.depart_local) >= now for o in found)
    assert not {"JL210", "JL211"} & {o.flight_no for o in found}
    with pytest.raises(InThePast, match="night already over in Paris"):
        backend.search_hotels("Paris", D - timedelta(days=2), D + timedelta(days=1))
    with pytest.raises(InThePast, match="at CDG begins on 2030-01-19, before today there"):
        backend.search_cars("CDG", D - timedelta(days=1), D + timedelta(days=1))


def test_booking_an_old_option_in_the_past_takes_nothing(
    backend: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _freeze(monkeypatch, _at(5))
    flight = next(o for o in backend.search_flights("HND", "LAX", D) if o.flight_no == "JL210")
    hotel = backend.search_hotels("Paris", D - timedelta(days=1), D + timedelta(days=1))[0]
    car = backend.search_cars("CDG", D - timedelta(days=1), D + timedelta(days=1))[0]
    made = backend.book(
        key="early", kind="flight", item_id=flight.id, quantity=1, thread_id="t", task_id="a"
    )
    seats = backend.seats_left(flight.id)
    rooms = backend.rooms_left(hotel.hotel_id, D - timedelta(days=1))
    cars = backend.cars_left("CDG", car.car_class, D - timedelta(days=1))

    _freeze(monkeypatch, _at(12, zone=PARIS))
    for key, kind, option_id, quantity, match in [
        ("f", "flight", flight.id, 1, r"flight JL210 from HND left at 2030-01-20 07:00 \(UTC"),
        ("h", "hotel", hotel.id, 1, r"first night still bookable is 2030-01-20"),
        ("c", "car", car.id, 1, r"pick up a car from 2030-01-20 on"),
    ]:
        with pytest.raises(InThePast, match=match):
            backend.book(
                key=key, kind=kind, item_id=option_id, quantity=quantity, thread_id="t", task_id=key
            )

    assert backend.seats_left(flight.id) == seats
    assert backend.rooms_left(hotel.hotel_id, D - timedelta(days=1)) == rooms
    assert backend.cars_left("CDG", car.car_class, D - timedelta(days=1)) == cars
    # The booking made in time is still what its key returns: a replay after departure.
    again = backend.book(
        key="early", kind="flight", item_id=flight.id, quantity=1, thread_id="t", task_id="a"
    )
    assert again.ref == made.ref and [b.ref for b in backend.bookings()] == [made.ref]
