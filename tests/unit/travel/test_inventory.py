"""The inventory database: generation, searches, bookings, cancellations and concurrency.

Every test runs on a real SQLite file. The full-year database is built once per module; tests that
change it work on their own copy.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from domains.travel.inventory import AIRPORTS, Inventory, SoldOut, UnknownBooking, build_inventory
from domains.travel.inventory.airports import HUBS
from domains.travel.inventory.repository import (
    CAR_SEARCH_SQL,
    FLIGHT_SEARCH_SQL,
    HOTEL_SEARCH_SQL,
)
from domains.travel.models import Booking

START = date(2030, 1, 7)
DAY = START + timedelta(days=40)  # mid-February: standard (winter) time in Europe and the US
SUMMER_DAY = date(2030, 7, 15)
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    path = tmp_path_factory.mktemp("inventory") / "inventory.db"
    # CPU time, not wall time: the suite runs beside other jobs (two xdist workers on two
    # cores), and what this checks is the build's own cost.
    began = time.process_time()
    build_inventory(path, start=START, days=365, seed=7)
    seconds = time.process_time() - began
    print(f"\nbuilt a 365-day inventory in {seconds:.2f} s, {path.stat().st_size / 1e6:.1f} MB")
    return path, seconds


@pytest.fixture(scope="module")
def inventory(built: tuple[Path, float]) -> Inventory:
    """The shared database; read-only by convention."""
    return Inventory(built[0])


@pytest.fixture
def fresh(built: tuple[Path, float], tmp_path: Path) -> Inventory:
    """A private copy of the database for a test that books or changes inventory."""
    copy = tmp_path / "inventory.db"
    shutil.copyfile(built[0], copy)
    return Inventory(copy)


def query(path: Path, sql: str, params: dict[str, object] | tuple[object, ...] = ()) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


def book(inv: Inventory, key: str, kind: str, item_id: str, quantity: int = 1) -> Booking:
    return inv.book(
        key=key, kind=kind, item_id=item_id, quantity=quantity, thread_id="t1", task_id=key
    )


# Generation --------------------------------------------------------------------------------


def test_build_is_fast_and_deterministic(built: tuple[Path, float], tmp_path: Path) -> None:
    path, seconds = built
    assert seconds < 10, f"building took {seconds:.1f} s of CPU"
    again = tmp_path / "again.db"
    build_inventory(again, start=START, days=365, seed=7)
    first, second = Inventory(path), Inventory(again)
    assert first.window() == second.window() == (START, START + timedelta(days=364))
    for origin, destination in [("SFO", "JFK"), ("CDG", "LHR"), ("SIN", "SYD")]:
        assert first.search_flights(origin, destination, DAY) == second.search_flights(
            origin, destination, DAY
        )
    stay = (DAY, DAY + timedelta(days=3))
    assert first.search_hotels("Tokyo", *stay) == second.search_hotels("Tokyo", *stay)
    assert first.search_cars("ORD", *stay) == second.search_cars("ORD", *stay)
    totals = (
        "SELECT (SELECT SUM(price) + SUM(seats_economy + seats_premium + seats_business) "
        "FROM flight_instances), (SELECT SUM(price) + SUM(rooms_left) FROM hotel_nights), "
        "(SELECT SUM(price_per_day) + SUM(cars_left) FROM car_days)"
    )
    assert query(path, totals) == query(again, totals)


def test_data_is_keyed_by_day_offset_not_by_date(inventory: Inventory, tmp_path: Path) -> None:
    later = START + timedelta(days=100)
    build_inventory(tmp_path / "short.db", start=START, days=20)
    build_inventory(tmp_path / "later.db", start=later, days=20)
    short, shifted = Inventory(tmp_path / "short.db"), Inventory(tmp_path / "later.db")

    def essentials(inv: Inventory, day: date) -> list[tuple[str, float, int]]:
        return [(f.flight_no, f.price, f.seats_left) for f in inv.search_flights("JFK", "LHR", day)]

    offset = timedelta(days=5)
    # A shorter window is a prefix of a longer one, and moving the start moves the data with it.
    assert essentials(short, START + offset) == essentials(inventory, START + offset)
    assert essentials(shifted, later + offset) == essentials(short, START + offset)
    hotels = shifted.search_hotels("Rome", later + offset, later + offset + timedelta(days=2))
    assert [h.total_price for h in hotels] == [
        h.total_price for h in short.search_hotels("Rome", START + offset, START + timedelta(7))
    ]


def test_real_airports_with_several_per_city(inventory: Inventory) -> None:
    assert len(inventory.airports()) >= 40
    assert len(AIRPORTS) == len(inventory.airports())
    expected = {
        "London": {"LHR", "LGW", "STN"},
        "New York": {"JFK", "EWR", "LGA"},
        "Paris": {"CDG", "ORY"},
        "Tokyo": {"HND", "NRT"},
        "Chicago": {"ORD", "MDW"},
        "Washington": {"IAD", "DCA"},
        "San Francisco": {"SFO", "OAK", "SJC"},
        "Milan": {"MXP", "LIN"},
    }
    for city, codes in expected.items():
        assert {a.code for a in inventory.airports_in_city(city.upper())} == codes
    cdg = inventory.airport("cdg")
    assert cdg is not None and cdg.city == "Paris" and cdg.tz == "Europe/Paris"
    assert inventory.airport("XXX") is None
    assert {a.code for a in inventory.sibling_airports("lhr")} == {"LGW", "STN"}
    assert inventory.sibling_airports("DEN") == []


def test_routes_cover_hubs_and_famous_links(
    built: tuple[Path, float], inventory: Inventory
) -> None:
    routes = query(built[0], "SELECT DISTINCT origin, destination FROM schedules")
    assert len(routes) >= 300
    required = [
        ("SFO", "JFK"), ("SFO", "CDG"), ("JFK", "CDG"), ("CDG", "LHR"), ("LHR", "SFO"),
        ("CDG", "SFO"), ("JFK", "SFO"), ("SFO", "LAX"), ("CDG", "FCO"), ("FCO", "SFO"),
    ]  # fmt: skip
    hub_pairs = [(a, b) for a in HUBS for b in HUBS if a != b]
    present = set(routes)
    assert not [route for route in required + hub_pairs if route not in present]
    per_route = query(
        built[0],
        "SELECT COUNT(*), COUNT(DISTINCT depart_min) FROM schedules GROUP BY origin, destination",
    )
    assert all(3 <= count <= 5 and distinct == count for count, distinct in per_route)
    options = inventory.search_flights("SFO", "CDG", DAY)
    assert len({o.price for o in options}) == len(options) >= 2
    assert len({o.flight_no for o in options}) == len(options)


def test_every_city_has_hotels_across_tiers(built: tuple[Path, float]) -> None:
    cities = {a.city for a in AIRPORTS}
    rows = query(
        built[0],
        "SELECT city, COUNT(*), COUNT(DISTINCT tier), MIN(length(description)) FROM hotels "
        "GROUP BY city",
    )
    assert {city for city, *_ in rows} == cities
    assert all(count >= 5 and tiers >= 3 and text > 20 for _, count, tiers, text in rows)
    sold_out = query(built[0], "SELECT COUNT(*) FROM hotel_nights WHERE rooms_left = 0")[0][0]
    nights = query(built[0], "SELECT COUNT(*) FROM hotel_nights")[0][0]
    assert 0.005 < sold_out / nights < 0.1  # sell-outs happen, but rarely


def test_red_eyes_land_before_six(inventory: Inventory) -> None:
    options = [
        option
        for origin, destination in [("SFO", "JFK"), ("JFK", "CDG"), ("LAX", "JFK"), ("SIN", "LHR")]
        for day in (DAY, SUMMER_DAY)
        for option in inventory.search_flights(origin, destination, day)
    ]
    red_eyes = [o for o in options if o.red_eye]
    assert red_eyes and len(red_eyes) < len(options)
    for option in options:
        hour = datetime.fromisoformat(option.arrive_local).hour
        assert option.red_eye == (hour < 6), option


def test_local_times_carry_each_airports_offset(inventory: Inventory) -> None:
    winter = inventory.search_flights("CDG", "SFO", DAY)[0]
    summer = inventory.search_flights("CDG", "SFO", SUMMER_DAY)[0]
    assert winter.depart_local.endswith("+01:00") and winter.arrive_local.endswith("-08:00")
    assert summer.depart_local.endswith("+02:00") and summer.arrive_local.endswith("-07:00")
    for option in (winter, summer):
        depart = datetime.fromisoformat(option.depart_local)
        arrive = datetime.fromisoformat(option.arrive_local)
        assert arrive - depart == timedelta(minutes=option.duration_min)
        assert option.id.split(":")[1] == depart.date().isoformat()


def test_searches_are_index_lookups(built: tuple[Path, float]) -> None:
    day, end = DAY.isoformat(), (DAY + timedelta(days=3)).isoformat()
    plans = {
        "flights": (FLIGHT_SEARCH_SQL, {"origin": "SFO", "destination": "JFK", "day": day}),
        "hotels": (HOTEL_SEARCH_SQL, {"city": "Paris", "check_in": day, "check_out": end}),
        "cars": (CAR_SEARCH_SQL, {"airport": "CDG", "first": day, "end": end}),
    }
    extra = {"cabin": "economy", "travelers": 1, "tier": None, "nights": 3, "rooms": 1}
    extra |= {"car_class": None, "days": 3}
    for name, (sql, params) in plans.items():
        named = {key: value for key, value in (params | extra).items() if f":{key}" in sql}
        lines = [row[3] for row in query(built[0], "EXPLAIN QUERY PLAN " + sql, named)]
        print(name, lines)
        assert not [line for line in lines if line.startswith("SCAN")], (name, lines)
        assert any("USING INDEX" in line or "PRIMARY KEY" in line for line in lines), name


# Searches ----------------------------------------------------------------------------------


def test_flight_search_filters_and_sorts(inventory: Inventory) -> None:
    economy = inventory.search_flights("sfo", "jfk", DAY)
    assert economy == sorted(economy, key=lambda o: (o.price, o.duration_min))
    business = inventory.search_flights("SFO", "JFK", DAY, cabin="business")
    by_no = {o.flight_no: o for o in economy}
    for option in business:
        if option.flight_no in by_no:
            assert option.price == pytest.approx(by_no[option.flight_no].price * 3.5, abs=0.01)
    many = inventory.search_flights("SFO", "JFK", DAY, travelers=9)
    assert all(o.seats_left >= 9 for o in many)
    assert inventory.search_flights("SFO", "JFK", START - timedelta(days=1)) == []
    with pytest.raises(ValueError, match="unknown airport"):
        inventory.search_flights("SFO", "ZZZ", DAY)
    with pytest.raises(ValueError, match="cabin"):
        inventory.search_flights("SFO", "JFK", DAY, cabin="first")


def test_hotel_and_car_searches(inventory: Inventory) -> None:
    check_out = DAY + timedelta(days=3)
    hotels = inventory.search_hotels("london", DAY, check_out, rooms=2)
    assert hotels and hotels == sorted(hotels, key=lambda h: h.total_price)
    for hotel in hotels:
        assert hotel.city == "London" and hotel.nights == 3 and hotel.rooms_left >= 2
        assert hotel.total_price == pytest.approx(hotel.price_per_night * 3 * 2, abs=0.05)
        assert hotel.description
    assert {h.tier for h in inventory.search_hotels("London", DAY, check_out, tier=4)} <= {4}
    assert inventory.search_hotels("LHR", DAY, check_out) == inventory.search_hotels(
        "London", DAY, check_out
    )
    with pytest.raises(ValueError, match="check-out"):
        inventory.search_hotels("London", DAY, DAY)
    cars = inventory.search_cars("lhr", DAY, check_out)
    assert cars == sorted(cars, key=lambda c: c.total_price)
    assert all(c.days == 3 and c.airport == "LHR" for c in cars)
    same_day = inventory.search_cars("LHR", DAY, DAY, car_class="suv")
    assert all(c.days == 1 and c.car_class == "suv" for c in same_day)


def test_a_night_without_rooms_hides_the_hotel(fresh: Inventory) -> None:
    check_out = DAY + timedelta(days=3)
    hotel = fresh.search_hotels("Rome", DAY, check_out)[0]
    fresh.set_rooms(hotel.hotel_id, DAY + timedelta(days=1), 0)
    assert hotel.hotel_id not in {h.hotel_id for h in fresh.search_hotels("Rome", DAY, check_out)}
    # The night the hotel is full is outside this shorter stay.
    assert hotel.hotel_id in {
        h.hotel_id for h in fresh.search_hotels("Rome", DAY, DAY + timedelta(days=1))
    }


# Bookings ----------------------------------------------------------------------------------


def test_booking_takes_seats_and_records_the_booking(fresh: Inventory) -> None:
    option = fresh.search_flights("SFO", "CDG", DAY, travelers=2)[0]
    before = fresh.seats_left(option.id)
    booking = fresh.book(
        key="thread-1:task-1", kind="flight", item_id=option.id, quantity=2, thread_id="thread-1",
        task_id="task-1",
    )  # fmt: skip
    assert booking.status == "confirmed" and booking.ref.startswith("FL-") and len(booking.ref) == 9
    assert booking.total_price == pytest.approx(option.price * 2)
    assert option.flight_no in booking.description
    assert fresh.seats_left(option.id) == before - 2
    assert fresh.bookings() == [booking] == fresh.bookings("thread-1")
    assert fresh.bookings("someone-else") == []
    created = datetime.fromisoformat(booking.created_at)
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created) < timedelta(minutes=1)


def test_same_key_returns_the_same_booking_and_takes_nothing(fresh: Inventory) -> None:
    option = fresh.search_flights("JFK", "CDG", DAY, travelers=2)[0]
    before = fresh.seats_left(option.id)
    first = book(fresh, "k1", "flight", option.id, 2)
    second = book(fresh, "k1", "flight", option.id, 2)
    assert first == second
    assert fresh.seats_left(option.id) == before - 2
    assert len(fresh.bookings()) == 1
    fresh.cancel("k1")
    # Even a cancelled booking comes back as it is: a replayed step must not book again.
    assert book(fresh, "k1", "flight", option.id, 2).status == "cancelled"
    assert fresh.seats_left(option.id) == before


def test_sold_out_raises_and_changes_nothing(fresh: Inventory) -> None:
    option = fresh.search_flights("CDG", "LHR", DAY)[0]
    fresh.set_seats(option.id, 1)
    with pytest.raises(SoldOut, match=option.flight_no) as raised:
        book(fresh, "k1", "flight", option.id, 2)
    assert raised.value.item_id == option.id
    assert fresh.seats_left(option.id) == 1 and fresh.bookings() == []
    assert option.id not in {o.id for o in fresh.search_flights("CDG", "LHR", DAY, travelers=2)}

    nights = [DAY + timedelta(days=n) for n in range(3)]
    stay = fresh.search_hotels("Paris", DAY, DAY + timedelta(days=3))[0]
    fresh.set_rooms(stay.hotel_id, nights[2], 0)
    rooms = [fresh.rooms_left(stay.hotel_id, night) for night in nights]
    with pytest.raises(SoldOut, match=nights[2].isoformat()):
        book(fresh, "k2", "hotel", stay.id)
    assert [fresh.rooms_left(stay.hotel_id, night) for night in nights] == rooms

    car = fresh.search_cars("CDG", DAY, nights[2], car_class="compact")[0]
    fresh.set_cars("CDG", "compact", nights[1], 0)
    cars = [fresh.cars_left("CDG", "compact", day) for day in nights[:2]]
    with pytest.raises(SoldOut, match="compact"):
        book(fresh, "k3", "car", car.id)
    assert [fresh.cars_left("CDG", "compact", day) for day in nights[:2]] == cars
    assert fresh.bookings() == []


def test_cancel_gives_back_what_was_taken_once(fresh: Inventory) -> None:
    option = fresh.search_flights("LHR", "SFO", DAY, travelers=2, cabin="premium")[0]
    before = fresh.seats_left(option.id)
    booking = book(fresh, "k1", "flight", option.id, 2)
    assert fresh.seats_left(option.id) == before - 2
    cancelled = fresh.cancel(booking.ref)
    assert cancelled.status == "cancelled" and cancelled.ref == booking.ref
    assert fresh.seats_left(option.id) == before
    assert fresh.cancel("k1") == cancelled  # by key, and a second time: nothing more released
    assert fresh.seats_left(option.id) == before
    assert fresh.bookings()[0].status == "cancelled"
    with pytest.raises(UnknownBooking, match="nope"):
        fresh.cancel("nope")


def test_hotel_stay_takes_a_room_every_night(fresh: Inventory) -> None:
    nights = [DAY + timedelta(days=n) for n in range(4)]  # the 4th is the check-out day
    stay = fresh.search_hotels("Tokyo", nights[0], nights[3], rooms=2, tier=3)[0]
    before = [fresh.rooms_left(stay.hotel_id, night) for night in nights]
    booking = fresh.book(
        key="k1", kind="hotel", item_id=stay.id, quantity=2, thread_id="t", task_id="k1"
    )
    assert booking.ref.startswith("HT-") and booking.total_price == pytest.approx(stay.total_price)
    after = [fresh.rooms_left(stay.hotel_id, night) for night in nights]
    assert after == [before[0] - 2, before[1] - 2, before[2] - 2, before[3]]
    fresh.cancel(booking.ref)
    assert [fresh.rooms_left(stay.hotel_id, night) for night in nights] == before
    with pytest.raises(ValueError, match="quantity"):
        book(fresh, "k2", "hotel", stay.id, 1)


def test_car_rental_takes_a_car_every_day(fresh: Inventory) -> None:
    days = [DAY + timedelta(days=n) for n in range(3)]
    car = fresh.search_cars("SFO", days[0], days[2], car_class="midsize")[0]
    before = [fresh.cars_left("SFO", "midsize", day) for day in days]
    booking = book(fresh, "k1", "car", car.id)
    assert booking.ref.startswith("CR-") and booking.total_price == pytest.approx(car.total_price)
    assert [fresh.cars_left("SFO", "midsize", day) for day in days] == [
        before[0] - 1,
        before[1] - 1,
        before[2],
    ]
    fresh.cancel("k1")
    assert [fresh.cars_left("SFO", "midsize", day) for day in days] == before


@pytest.mark.parametrize(
    ("kind", "item_id", "message"),
    [
        ("flight", "garbage", "malformed"),
        ("flight", "XX1:2030-02-16:economy", "no flight"),
        ("flight", "AF1:2030-02-30:economy", "not a date"),
        ("flight", "AF1:2030-02-16:first", "cabin"),
        ("hotel", "nowhere-1:2030-02-16:2030-02-18:1", "unknown hotel"),
        ("hotel", "paris-1:2030-02-18:2030-02-16:1", "check-out"),
        ("hotel", "paris-1:2035-02-16:2035-02-18:1", "window"),
        ("car", "CDG:tank:2030-02-16:2030-02-18", "car class"),
        ("cruise", "anything", "booking kind"),
    ],
)
def test_bad_items_are_value_errors(
    inventory: Inventory, kind: str, item_id: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        book(inventory, f"bad-{item_id}", kind, item_id)
    assert inventory.bookings() == []


# Concurrency -------------------------------------------------------------------------------


def test_twenty_threads_race_for_the_last_five_seats(fresh: Inventory) -> None:
    option = fresh.search_flights("SFO", "JFK", DAY)[0]
    fresh.set_seats(option.id, 5)
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        start.wait()
        try:
            book(fresh, f"racer-{n}", "flight", option.id)
            outcome = "booked"
        except SoldOut:
            outcome = "sold out"
        except Exception as error:  # recorded, so the test fails with the real error
            outcome = repr(error)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] * 5 + ["sold out"] * 15
    assert fresh.seats_left(option.id) == 0
    assert len(fresh.bookings()) == 5


_CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from pathlib import Path
    from domains.travel.inventory import Inventory

    db, ready, go = (Path(arg) for arg in sys.argv[1:4])
    ready.touch()
    while not go.exists():
        time.sleep(0.002)
    inventory = Inventory.open(db, start=date.fromisoformat(sys.argv[4]), days=60)
    print(len(inventory.airports()), inventory.window()[0])
    """
)


def test_two_processes_create_the_same_database_at_once(tmp_path: Path) -> None:
    db = tmp_path / "shared" / "inventory.db"
    go = tmp_path / "go"

    def child_args(n: int) -> list[str]:
        return [str(db), str(tmp_path / f"ready{n}"), str(go), START.isoformat()]

    children = [
        subprocess.Popen(
            [sys.executable, "-W", "error", "-c", _CHILD, *child_args(n)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready{n}").exists() for n in range(2)):
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.01)
    go.touch()  # both build now, racing to publish the file
    results = [child.communicate(timeout=60) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        assert out.split() == [str(len(AIRPORTS)), START.isoformat()]
    assert [p.name for p in db.parent.iterdir() if p.name != "inventory.db"] == []
    assert Inventory.open(db, start=START + timedelta(days=9)).window()[0] == START


def test_open_builds_a_missing_file_then_reuses_it(tmp_path: Path) -> None:
    missing_db = tmp_path / "new" / "inventory.db"
    created = Inventory.open(missing_db, seed=3, start=START, days=30)
    assert created.window() == (START, START + timedelta(days=29)) and created.seed == 3
    reopened = Inventory.open(missing_db, seed=9, start=date(2040, 1, 1))
    assert reopened.window() == created.window() and reopened.seed == 3
    with pytest.raises(FileNotFoundError):
        Inventory(missing_db.parent / "absent.db")
