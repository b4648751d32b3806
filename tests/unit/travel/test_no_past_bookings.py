"""Nothing in the past is offered or booked: "now" comes from `clock`, the one source of truth.

Every test fixes the clock (`clock.now`) and this machine's time zone (`TZ`), on an inventory of
fixed dates, so the answers do not depend on when or where the tests run. The schedule is the
generator's (seed 7): on D, HND->LAX flies JL210 at 07:00, JL211 at 11:45, JL214 at 16:35 and
NH202 at 19:50 (Tokyo time, UTC+09:00).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domains.travel.inventory import InThePast, Inventory, build_inventory, clock
from domains.travel.models import Leg, TripRequest
from domains.travel.request import TripInputError, check_trip, inventory_window
from domains.travel.services import INVENTORY_FILE
from domains.travel.workers.book import BookInput, book
from domains.travel.workers.search_cars import SearchCarsInput, search_cars
from domains.travel.workers.search_flights import SearchFlightsInput, search_flights
from domains.travel.workers.search_flights import summarize as flights_summary
from domains.travel.workers.search_hotels import SearchHotelsInput, search_hotels
from orchestrator.context import Context
from orchestrator.workers import TaskFailed, WorkerCall
from tests.unit.travel.support import output, run_trip, tasks_of, trip

START = date(2030, 1, 7)
DAYS = 30
END = START + timedelta(days=DAYS - 1)
D = date(2030, 1, 20)
TOKYO = ZoneInfo("Asia/Tokyo")
PARIS = ZoneInfo("Europe/Paris")
LA = ZoneInfo("America/Los_Angeles")

SetNow = Callable[[datetime], None]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("past-inventory") / INVENTORY_FILE
    build_inventory(path, start=START, days=DAYS, seed=7)
    return path


@pytest.fixture
def data(tmp_path: Path, template: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy(template, target / INVENTORY_FILE)
    return target


@pytest.fixture
def inv(data: Path) -> Inventory:
    return Inventory(data / INVENTORY_FILE)


def _set_zone(name: str | None) -> None:
    if name is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = name
    time.tzset()


@pytest.fixture
def machine_zone() -> Iterator[Callable[[str], None]]:
    """This machine's time zone (what `clock.today()` reads): UTC unless a test sets another."""
    before = os.environ.get("TZ")
    _set_zone("UTC")
    yield _set_zone
    _set_zone(before)


@pytest.fixture
def set_now(monkeypatch: pytest.MonkeyPatch, machine_zone: Callable[[str], None]) -> SetNow:
    def freeze(moment: datetime) -> None:
        assert moment.tzinfo is not None
        monkeypatch.setattr(clock, "now", lambda: moment.astimezone(UTC))

    return freeze


def _call(data_dir: Path, task_id: str = "s") -> WorkerCall:
    return WorkerCall(
        task_id=task_id, thread_id="t", attempt=1, context=Context(data_dir=str(data_dir))
    )


def _at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = TOKYO) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _departs(depart_local: str) -> datetime:
    return datetime.fromisoformat(depart_local)


# The clock --------------------------------------------------------------------------------


def test_every_date_rule_reads_the_one_clock(
    set_now: SetNow, machine_zone: Callable[[str], None]
) -> None:
    set_now(datetime(2030, 1, 20, 2, 50, tzinfo=UTC))  # Tokyo 11:50, Paris 03:50, LA 18:50 (19th)

    assert clock.today() == date(2030, 1, 20)
    assert clock.today_in(TOKYO) == date(2030, 1, 20)
    assert clock.today_in(LA) == date(2030, 1, 19)
    # Last night's room in Paris is sold until 06:00 this morning there; in LA tonight's.
    assert clock.first_night_in(PARIS) == date(2030, 1, 19)
    assert clock.first_night_in(LA) == date(2030, 1, 19)
    assert clock.first_night_in(TOKYO) == date(2030, 1, 20)
    assert clock.has_left("2030-01-20T11:49:00+09:00")
    assert not clock.has_left("2030-01-20T11:50:00+09:00")  # leaving now: not earlier than now
    assert not clock.has_left(datetime(2030, 1, 19, 18, 51, tzinfo=LA))
    with pytest.raises(ValueError, match="no offset"):
        clock.has_left("2030-01-20T11:49:00")

    machine_zone("America/Los_Angeles")
    assert clock.today() == date(2030, 1, 19)


# Flights ----------------------------------------------------------------------------------


def test_a_search_never_offers_a_flight_that_has_left(inv: Inventory, set_now: SetNow) -> None:
    set_now(_at(D - timedelta(days=1), 12))
    day = {o.flight_no: o for o in inv.search_flights("HND", "LAX", D, include_full=True)}
    assert {"JL210", "JL211", "JL214", "NH202"} <= set(day)

    now = _at(D, 11, 50)  # the audit's moment: JL210 (07:00) and JL211 (11:45) have left
    set_now(now)
    for include_full in (False, True):
        found = inv.search_flights("HND", "LAX", D, include_full=include_full)
        assert found, "later flights are still offered"
        assert all(_departs(o.depart_local) >= now for o in found)
        assert not {"JL210", "JL211"} & {o.flight_no for o in found}
    offered = {o.flight_no for o in inv.search_flights("HND", "LAX", D, include_full=True)}
    assert offered == {n for n, o in day.items() if _departs(o.depart_local) >= now}


async def test_the_worker_says_when_every_flight_of_the_day_has_left(
    data: Path, inv: Inventory, set_now: SetNow
) -> None:
    set_now(_at(D, 23, 59))

    found = await search_flights(
        SearchFlightsInput(origin="HND", destination="LAX", date=D), _call(data)
    )

    assert found.options == [] and found.total == 0
    assert found.departed and found.scheduled is None and found.hubs == []
    assert flights_summary(found).startswith("too late: every flight HND->LAX on 2030-01-20")

    # A route that is not served says so, as before: not "too late".
    codes = sorted(a.code for a in inv.airports())
    served = inv.served_routes()
    origin, destination = next(
        (o, d) for o in codes for d in codes if o != d and (o, d) not in served
    )
    unserved = await search_flights(
        SearchFlightsInput(origin=origin, destination=destination, date=D + timedelta(days=1)),
        _call(data),
    )
    assert unserved.scheduled == 0 and not unserved.departed


async def test_a_flight_that_has_left_is_not_booked_from_an_old_search(
    data: Path, inv: Inventory, set_now: SetNow
) -> None:
    set_now(_at(D, 5))
    old = next(o for o in inv.search_flights("HND", "LAX", D) if o.flight_no == "JL210")
    seats = inv.seats_left(old.id)

    set_now(_at(D, 7, 1))  # a minute after it left
    with pytest.raises(InThePast, match=r"flight JL210 from HND left at 2030-01-20 07:00 \("):
        inv.book(key="k1", kind="flight", item_id=old.id, quantity=1, thread_id="t", task_id="b")
    with pytest.raises(TaskFailed, match=r"JL210 .* can no longer be booked"):
        await book(BookInput(kind="flight", item_id=old.id, quantity=2), _call(data, "book-1"))

    assert inv.seats_left(old.id) == seats
    assert inv.bookings() == []


async def test_a_booking_made_in_time_is_replayed_after_the_flight_left(
    data: Path, inv: Inventory, set_now: SetNow
) -> None:
    set_now(_at(D, 6))
    option = next(o for o in inv.search_flights("HND", "LAX", D) if o.flight_no == "JL210")
    made = await book(BookInput(kind="flight", item_id=option.id), _call(data, "book-1"))

    set_now(_at(D, 9))  # a crash, and a resume after departure: the same key, the same booking
    again = await book(BookInput(kind="flight", item_id=option.id), _call(data, "book-1"))

    assert again.ref == made.ref and again.status == "confirmed"
    assert len(inv.bookings()) == 1


# Hotels and cars: the local date where they are -------------------------------------------


async def test_a_stay_whose_first_night_is_over_is_refused(
    data: Path, inv: Inventory, set_now: SetNow
) -> None:
    set_now(_at(D - timedelta(days=3), 12, zone=PARIS))
    old = inv.search_hotels("Paris", D - timedelta(days=1), D + timedelta(days=2))[0]
    rooms = inv.rooms_left(old.hotel_id, D - timedelta(days=1))

    set_now(_at(D, 12, zone=PARIS))
    with pytest.raises(InThePast, match="night already over in Paris"):
        inv.search_hotels("Paris", D - timedelta(days=1), D + timedelta(days=2))
    assert inv.search_hotels("Paris", D, D + timedelta(days=2)), "tonight is still on sale"
    with pytest.raises(TaskFailed, match=r"first night still bookable is 2030-01-20"):
        await book(BookInput(kind="hotel", item_id=old.id), _call(data, "book-1"))

    assert inv.rooms_left(old.hotel_id, D - timedelta(days=1)) == rooms
    assert inv.bookings() == []


def test_last_nights_room_is_sold_until_the_early_arrival_hour(
    inv: Inventory, set_now: SetNow
) -> None:
    """A red-eye landing at 05:00 needs the room from the night before (`policy.stay_dates`):
    that night stays bookable until 06:00 there, and not after."""
    set_now(_at(D, 5, 59, zone=PARIS))
    assert inv.search_hotels("CDG", D - timedelta(days=1), D + timedelta(days=1))

    set_now(_at(D, 6, zone=PARIS))
    with pytest.raises(InThePast):
        inv.search_hotels("CDG", D - timedelta(days=1), D + timedelta(days=1))


async def test_a_rental_is_judged_by_the_date_where_the_car_is(
    data: Path, inv: Inventory, set_now: SetNow
) -> None:
    yesterday = D - timedelta(days=1)
    set_now(_at(D - timedelta(days=5), 12, zone=PARIS))
    old = inv.search_cars("CDG", yesterday, D + timedelta(days=2))[0]
    cars = inv.cars_left("CDG", old.car_class, yesterday)

    set_now(datetime(2030, 1, 20, 2, tzinfo=UTC))  # Paris 03:00 on the 20th; LA 18:00 the 19th
    assert inv.search_cars("LAX", yesterday, D + timedelta(days=2)), "still the 19th in LA"
    with pytest.raises(InThePast, match=r"at CDG begins on 2030-01-19, before today there"):
        inv.search_cars("CDG", yesterday, D + timedelta(days=2))
    with pytest.raises(TaskFailed, match=r"pick up a car from 2030-01-20 on"):
        await book(BookInput(kind="car", item_id=old.id), _call(data, "book-1"))

    assert inv.cars_left("CDG", old.car_class, yesterday) == cars
    assert inv.bookings() == []


# The dates a request and a search may ask for ---------------------------------------------


def test_the_window_of_an_old_inventory_starts_today(
    data: Path, inv: Inventory, set_now: SetNow, tmp_path: Path
) -> None:
    today = START + timedelta(days=10)
    set_now(_at(today, 12, zone=PARIS))

    assert inv.days_held() == (START, END)
    assert inv.window() == (today, END)
    assert inventory_window(str(data)) == (today, END)
    assert inventory_window(str(tmp_path / "none")) == (today, today + timedelta(days=364))


async def test_searches_refuse_past_dates_showing_the_bookable_dates(
    data: Path, set_now: SetNow
) -> None:
    today = START + timedelta(days=10)
    set_now(_at(today, 12, zone=PARIS))
    past = START + timedelta(days=2)
    searches = [
        search_flights(SearchFlightsInput(origin="SFO", destination="CDG", date=past), _call(data)),
        search_hotels(SearchHotelsInput(city="Paris", check_in=past, check_out=today), _call(data)),
        search_cars(
            SearchCarsInput(airport="CDG", pick_up=past, drop_off=past + timedelta(days=1)),
            _call(data),
        ),
    ]
    verbs = ["is", "begins", "is"]  # a stay's span is its nights; a one-day rental is one day
    for search, verb in zip(searches, verbs, strict=True):
        with pytest.raises(
            TaskFailed,
            match=rf"^{past}\S* {verb} in the past, outside the bookable dates {today} to {END}: ",
        ):
            await search
    with pytest.raises(TaskFailed, match=rf"^{END + timedelta(days=1)} is outside the bookable"):
        await search_flights(
            SearchFlightsInput(origin="SFO", destination="CDG", date=END + timedelta(days=1)),
            _call(data),
        )


async def test_the_day_before_today_here_is_left_to_the_inventory(
    data: Path, set_now: SetNow, machine_zone: Callable[[str], None]
) -> None:
    """This machine in Tokyo at 05:00 on D: in LA it is still D-1 at noon, so a stay and a
    flight there on D-1 are bookable, though D-1 is yesterday here."""
    machine_zone("Asia/Tokyo")
    now = _at(D, 5)
    set_now(now)
    yesterday = D - timedelta(days=1)
    assert clock.today() == D

    stays = await search_hotels(
        SearchHotelsInput(city="Los Angeles", check_in=yesterday, check_out=D + timedelta(days=2)),
        _call(data),
    )
    flights = await search_flights(
        SearchFlightsInput(origin="LAX", destination="HND", date=yesterday), _call(data)
    )

    assert stays.options
    assert flights.options and all(_departs(o.depart_local) >= now for o in flights.options)
    # Two days back is in the past everywhere: refused before the inventory is asked.
    with pytest.raises(TaskFailed, match="is in the past, outside the bookable dates"):
        await search_flights(
            SearchFlightsInput(origin="LAX", destination="HND", date=yesterday - timedelta(1)),
            _call(data),
        )


def _request(*legs: tuple[str, str, date]) -> TripRequest:
    return TripRequest(legs=[Leg(origin=o, destination=d, date=when) for o, d, when in legs])


def test_a_request_for_a_past_date_is_refused_in_one_line(inv: Inventory, set_now: SetNow) -> None:
    today = START + timedelta(days=10)
    set_now(_at(today, 12, zone=PARIS))
    window = inv.window()
    past = START + timedelta(days=2)

    with pytest.raises(TripInputError) as refused:
        check_trip(_request(("SFO", "CDG", past), ("CDG", "SFO", today)), window)
    assert str(refused.value) == (
        f"{past} is in the past, outside the inventory window: the inventory can book from "
        f"{today} to {END}"
    )
    with pytest.raises(TripInputError, match=rf"^{END + timedelta(1)} is outside the inventory"):
        check_trip(_request(("SFO", "CDG", END + timedelta(days=1))), window)
    check_trip(_request(("SFO", "CDG", today), ("CDG", "SFO", END)), window)


def test_a_leg_is_in_the_past_once_it_is_past_at_its_origin(
    inv: Inventory, set_now: SetNow
) -> None:
    set_now(datetime(2030, 1, 16, 20, tzinfo=UTC))  # here (UTC) the 16th; Tokyo 05:00 the 17th
    window = inv.window()
    day = date(2030, 1, 16)

    check_trip(_request(("LAX", "HND", day)), window)  # noon in LA
    with pytest.raises(TripInputError) as refused:
        check_trip(_request(("HND", "LAX", day)), window)
    assert str(refused.value).startswith(
        f"{day} is in the past, outside the inventory window: the inventory can book from "
        f"{day + timedelta(days=1)} to {END}"
    )


async def test_an_inventory_whose_days_are_all_past_says_so(
    data: Path, inv: Inventory, set_now: SetNow
) -> None:
    today = END + timedelta(days=3)
    set_now(_at(today, 12, zone=PARIS))

    with pytest.raises(TripInputError, match=rf"its last day, {END}, is in the past"):
        check_trip(_request(("SFO", "CDG", END)), inv.window())
    with pytest.raises(TaskFailed, match=rf"the inventory's last day, {END}, is in the past"):
        await search_flights(
            SearchFlightsInput(origin="SFO", destination="CDG", date=END), _call(data)
        )


# A whole trip, planned and booked on the day ---------------------------------------------


async def test_a_trip_on_the_day_books_only_what_is_still_ahead(
    data: Path, inv: Inventory, set_now: SetNow, machine_zone: Callable[[str], None]
) -> None:
    machine_zone("Asia/Tokyo")
    now = _at(D, 11, 50)
    set_now(now)

    outcome = await run_trip(
        data, trip(("HND", "LAX", D), ("LAX", "HND", D + timedelta(days=3)), car=True)
    )

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    booked = [b for b in inv.bookings("t1") if b.status == "confirmed"]
    flights = [b for b in booked if b.kind == "flight"]
    assert len(flights) == 2 and {b.kind for b in booked} == {"flight", "hotel", "car"}
    assert all(_departs(b.details["depart_local"]) >= now for b in flights)
    assert not {"JL210", "JL211"} & {b.details["flight_no"] for b in flights}


async def test_an_early_landing_today_still_gets_last_nights_room(
    data: Path, inv: Inventory, set_now: SetNow, machine_zone: Callable[[str], None]
) -> None:
    """JL210 leaves Tokyo at 07:00 on D and lands in LA at 00:53 on D: the stay policy books
    the night of D-1, which is yesterday here (Tokyo) but still on sale in LA."""
    machine_zone("Asia/Tokyo")
    set_now(_at(D, 6))
    for option in inv.search_flights("HND", "LAX", D):
        if option.flight_no != "JL210":
            inv.set_seats(option.id, 0)

    outcome = await run_trip(data, trip(("HND", "LAX", D), ("LAX", "HND", D + timedelta(days=3))))

    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    stay = output(values, tasks_of(values, "search_hotels")[0]["id"])
    assert stay["check_in"] == (D - timedelta(days=1)).isoformat()
    assert output(values, "book-hotel-1")["status"] == "confirmed"
