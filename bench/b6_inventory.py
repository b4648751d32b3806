"""B6 Inventory: median search latency and booking throughput on a fresh inventory database.

The calls are the public `Inventory` methods the workers use, each opening its own connection as
the repository does. Two baselines are measured on the same file in the same run: the floor of
any call (open a connection, `SELECT 1`, close; an empty write transaction for bookings) and a
full scan of the table a search reads, which the indexes exist to avoid.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from bench.common import (
    Check,
    Report,
    Settings,
    Table,
    fresh_data_dir,
    median,
    ms,
    prose,
    ratio,
)
from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE

KEY = "B6"
TITLE = "Inventory"
THREADS = 4

FULL_SCANS = {
    "flights": "SELECT COUNT(*), SUM(price) FROM flight_instances",
    "hotels": "SELECT COUNT(*), SUM(price) FROM hotel_nights",
    "cars": "SELECT COUNT(*), SUM(price_per_day) FROM car_days",
}


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


class Workload:
    """Random but reproducible searches over what the inventory really holds."""

    def __init__(self, inventory: Inventory, seed: int = 8) -> None:
        self.inventory = inventory
        self.rng = random.Random(seed)
        first, last = inventory.window()
        # From tomorrow: today's early flights (or today's date already gone by somewhere
        # east) are refused as past, which is not what B6 measures.
        first += timedelta(days=1)
        self.first, self.span = first, (last - first).days - 10
        conn = sqlite3.connect(inventory.path)
        try:
            routes = conn.execute("SELECT DISTINCT origin, destination FROM schedules")
            self.routes: list[tuple[str, str]] = routes.fetchall()
            self.cities = [r[0] for r in conn.execute("SELECT DISTINCT city FROM hotels")]
            self.airports = [r[0] for r in conn.execute("SELECT DISTINCT airport FROM car_days")]
        finally:
            conn.close()

    def day(self) -> date:
        return self.first + timedelta(days=self.rng.randrange(self.span))

    def flight_search(self) -> Callable[[], object]:
        origin, destination = self.rng.choice(self.routes)
        day = self.day()
        return lambda: self.inventory.search_flights(origin, destination, day, travelers=2)

    def hotel_search(self) -> Callable[[], object]:
        city, check_in = self.rng.choice(self.cities), self.day()
        check_out = check_in + timedelta(days=self.rng.randint(1, 5))
        return lambda: self.inventory.search_hotels(city, check_in, check_out)

    def car_search(self) -> Callable[[], object]:
        airport, pick_up = self.rng.choice(self.airports), self.day()
        drop_off = pick_up + timedelta(days=self.rng.randint(1, 7))
        return lambda: self.inventory.search_cars(airport, pick_up, drop_off)

    def flight_ids(self, n: int) -> list[str]:
        """Ids of `n` bookable economy seats, from real searches."""
        found: list[str] = []
        while len(found) < n:
            options = self.flight_search()()
            assert isinstance(options, list)
            found += [o.id for o in options[:2]]
        return found[:n]


def _connect_floor(path: Path) -> None:
    # The same connection settings as `Inventory._connect`: the fixed cost of any call.
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("SELECT 1").fetchone()
    finally:
        conn.close()


def _empty_write(path: Path) -> None:
    conn = sqlite3.connect(
        path.resolve().as_uri() + "?mode=rw", uri=True, timeout=30, isolation_level=None
    )
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE meta SET value = value WHERE key = 'seed'")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _full_scan(path: Path, sql: str) -> Callable[[], object]:
    def scan() -> object:
        conn = sqlite3.connect(path)
        try:
            return conn.execute(sql).fetchone()
        finally:
            conn.close()

    return scan


def _throughput(calls: list[Callable[[], object]], threads: int) -> float:
    """Calls per second, the calls spread over `threads` threads."""
    started = time.perf_counter()
    if threads == 1:
        for call in calls:
            call()
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda c: c(), calls))
    return len(calls) / (time.perf_counter() - started)


def run(settings: Settings) -> Report:
    n_search = settings.pick(200, 10)
    n_scan = settings.pick(9, 2)
    n_book = settings.pick(100, 8)
    reps = settings.pick(3, 1)
    data = fresh_data_dir(settings, "b6")
    path = data / INVENTORY_FILE
    inventory = Inventory(path)
    load = Workload(inventory)

    floor = median([_timed(lambda: _connect_floor(path)) for _ in range(n_search)])
    search_rows = []
    for kind, make in (
        ("flights", load.flight_search),
        ("hotels", load.hotel_search),
        ("cars", load.car_search),
    ):
        latency = median([_timed(make()) for _ in range(n_search)])
        scan = median([_timed(_full_scan(path, FULL_SCANS[kind])) for _ in range(n_scan)])
        search_rows.append(
            [
                kind,
                ms(latency, 3),
                ms(floor, 3),
                f"**{ratio(latency / floor)}**",
                ms(scan, 1),
                ratio(scan / latency, 0),
            ]
        )
        settings.progress(f"  {KEY} {kind} search: median {latency * 1000:.3f} ms")

    lock = threading.Lock()
    counter = iter(range(1_000_000))

    def booking(item_id: str) -> Callable[[], object]:
        def book() -> object:
            with lock:
                n = next(counter)
            return inventory.book(
                key=f"bench-b6:{n}",
                kind="flight",
                item_id=item_id,
                quantity=1,
                thread_id="bench-b6",
                task_id=f"book-{n}",
            )

        return book

    # Commits wait on fsync, which other jobs' disk traffic makes erratic: warm up, then
    # alternate the configurations and keep the median batch of each.
    _throughput([booking(i) for i in load.flight_ids(n_book // 4)], 1)
    found: dict[tuple[str, int], list[float]] = {}
    for _rep in range(reps):
        for threads in (1, THREADS):
            empty = _throughput([lambda: _empty_write(path)] * n_book, threads)
            books = _throughput([booking(i) for i in load.flight_ids(n_book)], threads)
            found.setdefault(("empty", threads), []).append(empty)
            found.setdefault(("book", threads), []).append(books)
    book_rows = []
    for threads in (1, THREADS):
        books, empty = median(found[("book", threads)]), median(found[("empty", threads)])
        book_rows.append(
            [
                f"{threads} thread{'s' if threads > 1 else ''}",
                f"{books:,.0f} /s",
                f"{empty:,.0f} /s",
                f"**{ratio(books / empty)}**",
                ", ".join(f"{b:,.0f}" for b in found[("book", threads)]),
            ]
        )
        settings.progress(f"  {KEY} bookings, {threads} thread(s): {books:,.0f}/s")
    booked = n_book // 4 + reps * 2 * n_book
    confirmed = [b for b in inventory.bookings("bench-b6") if b.status == "confirmed"]
    assert len(confirmed) == booked, "every booking must be confirmed exactly once"
    return Report(
        key=KEY,
        title=TITLE,
        method=prose(
            f"""
            A fresh inventory database ({path.stat().st_size / 1024 / 1024:.0f} MB, built by
            `Inventory.open` in a temp dir). Searches: {n_search} reproducible random queries per
            kind over real routes, cities and airports across the 365-day window, through the
            public `Inventory.search_*` methods (each opens its own connection). Baselines on the
            same file: the connection floor (open a connection as the repository does,
            `SELECT 1`, close) and a full scan of the table each search reads (median of
            {n_scan}). Bookings: batches of {n_book} one-seat flight bookings through
            `Inventory.book` (one `BEGIN IMMEDIATE` transaction each, idempotency key checked),
            against batches of as many empty write transactions (`BEGIN IMMEDIATE`, a no-op
            `UPDATE`, `COMMIT`) on the same file, alternated.
            """
        ),
        tables=[
            Table(
                headers=[
                    "search",
                    "median latency",
                    "connection floor",
                    "÷ floor",
                    "full scan of its table",
                    "full scan ÷ search",
                ],
                rows=search_rows,
            ),
            Table(
                headers=[
                    "bookings",
                    "throughput",
                    "empty write transactions",
                    "÷ empty writes",
                    "each batch",
                ],
                caption=f"Median of {reps} alternating batches of {n_book}.",
                rows=book_rows,
            ),
        ],
        checks=[
            Check(
                target="none set by the issue (median search latency, booking throughput)",
                measured=", ".join(f"{r[0]} {r[1]}" for r in search_rows)
                + "; "
                + ", ".join(f"{r[1]} with {r[0]}" for r in book_rows),
                passed=None,
            )
        ],
    )
