"""Bookings on both inventories (SQLite, PostgreSQL): idempotency keys, conflicts, the keyed
ledger and identity; then what only PostgreSQL has to prove: many processes, one database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from domains.travel.inventory import Inventory, KeyConflict, SoldOut
from domains.travel.inventory.postgres import (
    PostgresInventory,
    build_postgres_inventory,
    inventory_exists,
)
from domains.travel.models import Booking
from tests.integration.inventory_pg.conftest import START, drop_schema, new_schema, seed

pytestmark = pytest.mark.postgres

DAY = START + timedelta(days=40)
REPO_ROOT = Path(__file__).resolve().parents[3]


def book(
    inv: Inventory,
    key: str,
    item_id: str,
    quantity: int = 1,
    thread: str = "t1",
    kind: str = "flight",
) -> Booking:
    return inv.book(
        key=key, kind=kind, item_id=item_id, quantity=quantity, thread_id=thread, task_id=key
    )


# Both backends -------------------------------------------------------------------------------


def test_a_replayed_key_returns_the_same_booking_and_a_changed_one_conflicts(
    backend: Inventory,
) -> None:
    option = backend.search_flights("SFO", "CDG", DAY, travelers=2)[0]
    other = backend.search_flights("SFO", "CDG", DAY, travelers=2)[1]
    before = backend.seats_left(option.id)
    first = book(backend, "t1:r1:book-flight-1", option.id, 2)
    assert book(backend, "t1:r1:book-flight-1", option.id, 2) == first
    assert first.inventory_id == backend.identity
    assert first.details["flight_no"] == option.flight_no and first.details["travelers"] == 2
    for changed in (
        dict(item_id=other.id, quantity=2, thread="t1"),
        dict(item_id=option.id, quantity=1, thread="t1"),
        dict(item_id=option.id, quantity=2, thread="t2"),
    ):
        with pytest.raises(KeyConflict, match=first.ref):
            book(backend, "t1:r1:book-flight-1", **changed)  # type: ignore[arg-type]
    assert backend.seats_left(option.id) == before - 2
    assert backend.bookings() == [first]


def test_a_key_booked_by_many_threads_at_once_books_once(backend: Inventory) -> None:
    option = backend.search_flights("JFK", "LHR", DAY)[0]
    before = backend.seats_left(option.id)
    start = threading.Barrier(8)
    refs: list[str] = []

    def attempt() -> None:
        start.wait()
        refs.append(book(backend, "same-key", option.id).ref)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refs) == 8 and len(set(refs)) == 1
    assert backend.seats_left(option.id) == before - 1 and len(backend.bookings()) == 1


def test_sold_out_anywhere_in_a_stay_takes_nothing(backend: Inventory) -> None:
    stay = backend.search_hotels("Rome", DAY, DAY + timedelta(days=3))[0]
    nights = [DAY + timedelta(days=n) for n in range(3)]
    backend.set_rooms(stay.hotel_id, nights[1], 0)
    rooms = [backend.rooms_left(stay.hotel_id, night) for night in nights]
    with pytest.raises(SoldOut, match=nights[1].isoformat()) as raised:
        book(backend, "k1", stay.id, kind="hotel")
    assert raised.value.item_id == stay.id
    assert [backend.rooms_left(stay.hotel_id, night) for night in nights] == rooms
    assert backend.bookings() == []


def test_cancel_releases_exactly_what_was_taken(backend: Inventory) -> None:
    option = backend.search_flights("CDG", "FCO", DAY, travelers=3, cabin="business")[0]
    stay = backend.search_hotels("Paris", DAY, DAY + timedelta(days=2), rooms=2)[0]
    car = backend.search_cars("CDG", DAY, DAY + timedelta(days=2), car_class="suv")[0]
    nights = [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]

    def counts() -> tuple[object, ...]:
        return (
            backend.seats_left(option.id),
            [backend.rooms_left(stay.hotel_id, n) for n in nights],
            [backend.cars_left("CDG", "suv", n) for n in nights],
        )

    before = counts()
    made = [
        book(backend, "k-f", option.id, 3),
        book(backend, "k-h", stay.id, 2, kind="hotel"),
        book(backend, "k-c", car.id, kind="car"),
    ]
    assert counts() != before
    for booking in made:
        assert backend.cancel(booking.ref).status == "cancelled"
        backend.cancel(booking.key)  # again, by key: nothing more is given back
    assert counts() == before
    assert [b.status for b in backend.bookings()] == ["cancelled"] * 3


def test_bookings_keyed_is_an_exact_case_sensitive_prefix(backend: Inventory) -> None:
    option = backend.search_flights("SFO", "JFK", DAY)[0]
    keys = ["t1:r1:a", "t1:r10:a", "T1:r1:b", "t1%r1:c", "t1_r1:d", "t1:r1:e", "t1:r1"]
    for key in keys:
        book(backend, key, option.id)

    def keyed(prefix: str) -> list[str]:
        return [b.key for b in backend.bookings_keyed(prefix)]

    assert keyed("t1:r1:") == ["t1:r1:a", "t1:r1:e"]  # in booking order
    assert keyed("t1:r1") == ["t1:r1:a", "t1:r10:a", "t1:r1:e", "t1:r1"]
    assert keyed("T1:") == ["T1:r1:b"]
    assert keyed("t1%") == ["t1%r1:c"] and keyed("t1_") == ["t1_r1:d"]  # no LIKE wildcards
    assert keyed("%") == keyed("_") == keyed("t1:r2:") == []
    assert keyed("") == keys


def test_the_identity_is_stable_and_every_booking_carries_it(backend: Inventory) -> None:
    identity = backend.identity
    reopened = (
        PostgresInventory(backend.uri, schema=backend.schema)
        if isinstance(backend, PostgresInventory)
        else Inventory(backend.path)
    )
    assert identity and reopened.identity == identity
    option = backend.search_flights("LHR", "JFK", DAY)[0]
    assert book(backend, "k1", option.id).inventory_id == identity
    assert [b.inventory_id for b in reopened.bookings()] == [identity]
    if isinstance(reopened, PostgresInventory):
        reopened.close()


# PostgreSQL only -------------------------------------------------------------------------------


def test_seeding_matches_sqlite_and_a_rebuild_gets_a_new_identity(
    pg_uri: str, pg_shared: PostgresInventory, sqlite_template: Path
) -> None:
    sqlite = Inventory(sqlite_template)
    assert pg_shared.window() == sqlite.window() and pg_shared.seed == sqlite.seed
    assert pg_shared.airports() == sqlite.airports()
    for offset in (0, 13, 40, 49):
        day = START + timedelta(days=offset)
        for origin, destination in [("SFO", "JFK"), ("CDG", "LHR"), ("SIN", "SYD")]:
            for cabin in ("economy", "premium", "business"):
                assert pg_shared.search_flights(
                    origin, destination, day, cabin=cabin, include_full=True
                ) == sqlite.search_flights(origin, destination, day, cabin=cabin, include_full=True)
        if offset < 47:
            stay = (day, day + timedelta(days=3))
            assert pg_shared.search_hotels("Tokyo", *stay) == sqlite.search_hotels("Tokyo", *stay)
            for airport in ("ORD", "CDG", "LHR"):
                assert pg_shared.search_cars(airport, *stay) == sqlite.search_cars(airport, *stay)
    # Opening again keeps it (and its bookings); only an explicit overwrite rebuilds.
    assert not build_postgres_inventory(pg_uri, start=START + timedelta(days=9), schema="shared")
    schema = new_schema()
    first = seed(pg_uri, schema, days=3)
    assert build_postgres_inventory(pg_uri, start=START, days=3, schema=schema, overwrite=True)
    second = PostgresInventory(pg_uri, schema=schema)
    assert second.identity != first.identity and second.window() == first.window()
    first.close()
    second.close()
    drop_schema(pg_uri, schema)
    assert not inventory_exists(pg_uri, schema=schema)
    with pytest.raises(LookupError, match=schema):
        PostgresInventory(pg_uri, schema=schema)


def test_inventory_can_never_go_negative(pg_fresh: PostgresInventory) -> None:
    option = pg_fresh.search_flights("SFO", "LAX", DAY)[0]
    with (
        psycopg.connect(pg_fresh.uri, autocommit=True) as conn,
        pytest.raises(psycopg.errors.CheckViolation),
    ):
        conn.execute(
            f"UPDATE {pg_fresh.schema}.flight_instances SET seats_economy = -1 WHERE day = %s",
            (DAY,),
        )
    assert pg_fresh.seats_left(option.id) >= 0


_RACER = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    from domains.travel.inventory import SoldOut
    from domains.travel.inventory.postgres import PostgresInventory

    uri, schema, item, name, ready, go = sys.argv[1:7]
    inventory = PostgresInventory(uri, schema=schema)
    outcomes = []
    def attempt(n):
        while not Path(go).exists():
            time.sleep(0.002)
        try:
            inventory.book(key=f"{name}-{n}", kind="flight", item_id=item, quantity=1,
                           thread_id=name, task_id=str(n))
            outcomes.append("booked")
        except SoldOut:
            outcomes.append("sold-out")
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    Path(ready).touch()
    for thread in threads:
        thread.join()
    inventory.close()
    print(" ".join(outcomes))
    """
)


def test_twenty_bookings_from_four_processes_never_oversell(
    pg_fresh: PostgresInventory, tmp_path: Path
) -> None:
    option = pg_fresh.search_flights("SFO", "JFK", DAY)[0]
    pg_fresh.set_seats(option.id, 5)
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [
                sys.executable, "-W", "error", "-c", _RACER, pg_fresh.uri, pg_fresh.schema,
                option.id, f"proc{n}", str(tmp_path / f"ready{n}"), str(go),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready{n}").exists() for n in range(4)):
        assert time.monotonic() < deadline, "children did not start"
        assert all(child.poll() is None for child in children), children[0].communicate()
        time.sleep(0.01)
    go.touch()  # 20 bookings at once, 5 threads in each of 4 processes
    outcomes: list[str] = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        outcomes += out.split()
    assert sorted(outcomes) == ["booked"] * 5 + ["sold-out"] * 15
    assert pg_fresh.seats_left(option.id) == 0
    assert len(pg_fresh.bookings()) == 5
