"""The inventory and its booking ledger in PostgreSQL, for deployments whose processes span hosts.

`PostgresInventory` has the public methods and the semantics of the SQLite `Inventory` (it is a
subclass, so every caller typed for `Inventory` takes it): the same searches and option ids, the
same booking references derived from the idempotency key, `KeyConflict` when a key names another
booking, `SoldOut` with nothing changed, a cancel that gives back exactly what was taken, once.

The tables live in their own schema (`travel_inventory` by default), so they can share a database
with the cluster's checkpoints. They are created and seeded on first use by `open`, from the same
deterministic generator as the SQLite file (`generate.table_rows`, loaded with COPY), inside one
transaction under an advisory lock: processes racing to create it wait for the first, and nobody
ever sees a half-seeded inventory.

Concurrency, where SQLite serializes every write with `BEGIN IMMEDIATE`:

- a booking locks its idempotency key (`pg_advisory_xact_lock`), so two calls with one key are
  serialized and the second finds the first's booking;
- it then locks the inventory rows it takes (`SELECT ... FOR UPDATE`, nights and days in date
  order, so two stays never deadlock), checks what is left, and only then subtracts; the CHECK
  constraints (`>= 0`) are the last guard: inventory can never go negative;
- a cancel locks its booking row first, so two cancels release once;
- a transaction PostgreSQL aborts for a deadlock or a serialization failure is retried.

Every call borrows a connection from a small per-inventory idle stack (autocommit; writes are one
explicit transaction each), so one `PostgresInventory` can be shared by any number of threads
(a forked child opens its own). `close()` closes the idle connections.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import psycopg
from psycopg import errors, sql

from domains.travel.inventory import clock
from domains.travel.inventory.generate import CABIN_MULTIPLIER, IDENTITY_KEY, table_rows
from domains.travel.inventory.repository import (
    _BOOKING_COLUMNS,
    _CABINS,
    _CAR_CLASSES,
    _KINDS,
    _REF_ALPHABET,
    _REF_PREFIX,
    _SEAT_COLUMN,
    _THREAD_COLUMN,
    ROUTES_SQL,
    Inventory,
    KeyConflict,
    SoldOut,
    UnknownBooking,
    _booking,
    _car_details,
    _car_item,
    _CarItem,
    _check_at_least,
    _check_choice,
    _flight_item,
    _FlightItem,
    _hotel_item,
    _HotelItem,
    _rental_days,
)
from domains.travel.models import Airport, Booking, CarOption, FlightOption, HotelOption
from orchestrator.redact import redact_url

DEFAULT_SCHEMA = "travel_inventory"
CONNECT_TIMEOUT_S = 10
ATTEMPTS = 5
"""Tries of one write transaction that PostgreSQL aborted for a deadlock or serialization."""
IDLE_CONNECTIONS = 8

_T = TypeVar("_T")
_BUILD_LOCK = 0x0715_1D01  # advisory lock class: building a schema (key: hash of its name)
_KEY_LOCK = 0x0715_1D02  # advisory lock class: one booking key (key: hash of the key)
_RETRIED = (errors.DeadlockDetected, errors.SerializationFailure, errors.UniqueViolation)

# Every text column sorts and compares byte-wise (COLLATE "C"), as SQLite's BINARY does: the same
# orders for ties, and an exact, case-sensitive prefix range on booking keys.
_TEXT = 'text COLLATE "C"'
_SCHEMA_SQL = f"""
CREATE TABLE meta (key {_TEXT} PRIMARY KEY, value text NOT NULL);
CREATE TABLE airports (
    code {_TEXT} PRIMARY KEY, name text NOT NULL, city {_TEXT} NOT NULL, country text NOT NULL,
    tz text NOT NULL, lat double precision NOT NULL, lon double precision NOT NULL
);
CREATE TABLE schedules (
    id integer NOT NULL, flight_no {_TEXT} NOT NULL, origin {_TEXT} NOT NULL,
    destination {_TEXT} NOT NULL, depart_min integer NOT NULL, duration_min integer NOT NULL,
    base_price double precision NOT NULL, capacity_economy integer NOT NULL,
    capacity_premium integer NOT NULL, capacity_business integer NOT NULL
);
CREATE TABLE flight_instances (
    schedule_id integer NOT NULL, day date NOT NULL, price double precision NOT NULL,
    seats_economy integer NOT NULL CHECK (seats_economy >= 0),
    seats_premium integer NOT NULL CHECK (seats_premium >= 0),
    seats_business integer NOT NULL CHECK (seats_business >= 0)
);
CREATE TABLE hotels (
    id {_TEXT} NOT NULL, city {_TEXT} NOT NULL, name text NOT NULL,
    tier integer NOT NULL CHECK (tier BETWEEN 1 AND 5), description text NOT NULL,
    rooms integer NOT NULL
);
CREATE TABLE hotel_nights (
    hotel_id {_TEXT} NOT NULL, day date NOT NULL,
    rooms_left integer NOT NULL CHECK (rooms_left >= 0), price double precision NOT NULL
);
CREATE TABLE car_days (
    airport {_TEXT} NOT NULL, day date NOT NULL, car_class {_TEXT} NOT NULL,
    cars_left integer NOT NULL CHECK (cars_left >= 0), price_per_day double precision NOT NULL
);
CREATE TABLE bookings (
    seq bigint GENERATED ALWAYS AS IDENTITY,  -- the order bookings were made in (SQLite's rowid)
    ref {_TEXT} PRIMARY KEY,
    key {_TEXT} NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('flight', 'hotel', 'car')),
    item_id text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    total_price double precision NOT NULL,
    status text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    thread_id {_TEXT} NOT NULL,
    task_id text NOT NULL,
    created_at {_TEXT} NOT NULL,
    description text NOT NULL,
    details text NOT NULL DEFAULT '{{}}',
    taken text NOT NULL
);
CREATE INDEX bookings_created ON bookings (created_at, seq);
CREATE INDEX bookings_thread ON bookings (thread_id, created_at, seq);
"""
# Keys and indexes of the seeded tables are built after COPY: faster than maintaining them.
_INDEX_SQL = """
ALTER TABLE schedules ADD PRIMARY KEY (id), ADD UNIQUE (flight_no);
CREATE INDEX schedules_route ON schedules (origin, destination);
ALTER TABLE flight_instances ADD PRIMARY KEY (schedule_id, day);
ALTER TABLE hotels ADD PRIMARY KEY (id);
CREATE INDEX hotels_city ON hotels (city, tier);
ALTER TABLE hotel_nights ADD PRIMARY KEY (hotel_id, day);
ALTER TABLE car_days ADD PRIMARY KEY (airport, day, car_class);
ANALYZE;
"""

# Sums add in date order, as SQLite's do over its primary key, so totals round the same way.
_HOTEL_SEARCH_SQL = """
SELECT h.id, h.name, h.city, h.tier, h.description, MIN(n.rooms_left),
       SUM(n.price ORDER BY n.day) AS total
FROM hotels AS h
JOIN hotel_nights AS n ON n.hotel_id = h.id AND n.day >= %(check_in)s AND n.day < %(check_out)s
WHERE h.city = %(city)s AND (%(tier)s::integer IS NULL OR h.tier = %(tier)s::integer)
GROUP BY h.id
HAVING COUNT(*) = %(nights)s AND MIN(n.rooms_left) >= %(rooms)s
ORDER BY total, h.id
"""

_CAR_SEARCH_SQL = """
SELECT car_class, MIN(cars_left), SUM(price_per_day ORDER BY day) AS total
FROM car_days
WHERE airport = %(airport)s AND day >= %(first)s AND day < %(end)s
  AND (%(car_class)s::text IS NULL OR car_class = %(car_class)s::text)
GROUP BY car_class
HAVING COUNT(*) = %(days)s AND MIN(cars_left) >= 1
ORDER BY total, car_class
"""


def _flight_search_sql(cabin: str) -> str:
    seats = f"i.{_SEAT_COLUMN[cabin]}"
    return f"""
SELECT s.flight_no, s.origin, s.destination, s.depart_min, s.duration_min, i.price, {seats}
FROM schedules AS s
JOIN flight_instances AS i ON i.schedule_id = s.id AND i.day = %(day)s
WHERE s.origin = %(origin)s AND s.destination = %(destination)s AND {seats} >= %(travelers)s
ORDER BY i.price, s.duration_min, s.flight_no
"""


def where(uri: str) -> str:
    """The URI as it may be shown: no password."""
    return redact_url(uri)


def inventory_exists(uri: str, *, schema: str = DEFAULT_SCHEMA) -> bool:
    """Whether `uri`'s database holds a seeded inventory in `schema` (never creates one)."""
    with psycopg.connect(uri, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        return _seeded(conn, schema)


def build_postgres_inventory(
    uri: str,
    *,
    start: date,
    days: int = 365,
    seed: int = 7,
    schema: str = DEFAULT_SCHEMA,
    overwrite: bool = False,
) -> bool:
    """Create and seed the inventory in `schema` of `uri`'s database; True if this call built it.

    One transaction under an advisory lock: a concurrent builder waits, then finds it built. An
    existing inventory is kept unless `overwrite`, which drops the schema (and its bookings).
    """
    if days < 1:
        raise ValueError(f"an inventory needs at least one day, got days={days}")
    with (
        psycopg.connect(uri, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn,
        conn.transaction(),
    ):
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_BUILD_LOCK, schema))
        if _seeded(conn, schema) and not overwrite:
            return False
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(name))
        conn.execute(_SCHEMA_SQL)
        with conn.cursor() as cursor:
            for table, _width, rows in table_rows(start=start, days=days, seed=seed):
                statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.execute(_INDEX_SQL)
    return True


def _seeded(conn: psycopg.Connection[Any], schema: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s)", (f"{_quoted(schema)}.meta",)).fetchone()
    return found is not None and found[0] is not None


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


class PostgresInventory(Inventory):
    """Searches and bookings over one inventory in a PostgreSQL database."""

    def __init__(self, uri: str, *, schema: str = DEFAULT_SCHEMA) -> None:
        """Open an existing inventory; use `PostgresInventory.open` to create it when missing."""
        self.uri = uri
        self.schema = schema
        self._idle: list[psycopg.Connection[Any]] = []
        self._idle_lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._inherited: list[psycopg.Connection[Any]] = []
        try:
            with self._connection() as conn:
                if not _seeded(conn, schema):
                    raise LookupError(
                        f"no inventory in schema {schema!r} of the database at {where(uri)}"
                    )
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                rows = conn.execute("SELECT code, name, city, country, tz FROM airports").fetchall()
        except BaseException:
            self.close()  # nobody else can: the object is never returned
            raise
        self._identity = str(meta[IDENTITY_KEY])
        self._start = date.fromisoformat(meta["start"])
        self._days = int(meta["days"])
        self.seed = int(meta["seed"])
        self._airports = {
            code: Airport(code=code, name=name, city=city, country=country, tz=tz)
            for code, name, city, country, tz in sorted(rows)
        }
        self._zones = {code: ZoneInfo(a.tz) for code, a in self._airports.items()}
        self._cities = {a.city.casefold(): a.city for a in self._airports.values()}
        self._has_details = True
        self._routes: frozenset[tuple[str, str]] | None = None

    @classmethod
    def open(  # type: ignore[override]
        cls,
        uri: str,
        *,
        seed: int = 7,
        start: date | None = None,
        days: int = 365,
        schema: str = DEFAULT_SCHEMA,
    ) -> PostgresInventory:
        """Open the inventory in `uri`'s database, creating and seeding it first if missing.

        A new window starts at `start` (default: today); an existing inventory keeps its own
        seed and window. Safe when several processes race to create it.
        """
        build_postgres_inventory(
            uri, start=start or clock.today(), days=days, seed=seed, schema=schema
        )
        return cls(uri, schema=schema)

    def close(self) -> None:
        """Close the idle connections; connections in use close when they are given back."""
        with self._idle_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> PostgresInventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresInventory({where(self.uri)!r}, schema={self.schema!r})"

    # Searches -------------------------------------------------------------------------------

    def search_flights(
        self,
        origin: str,
        destination: str,
        day: date,
        *,
        travelers: int = 1,
        cabin: str = "economy",
        include_full: bool = False,
    ) -> list[FlightOption]:
        origin, destination = self._code(origin), self._code(destination)
        checked_cabin = _check_choice(cabin, _CABINS, "cabin")
        _check_at_least(travelers, 1, "travelers")
        params = {
            "origin": origin,
            "destination": destination,
            "day": day,
            "travelers": 0 if include_full else travelers,
        }
        with self._connection() as conn:
            rows = conn.execute(_flight_search_sql(checked_cabin), params).fetchall()
        return self._not_left([self._flight_option(row, day, checked_cabin) for row in rows])

    search_flights.__doc__ = Inventory.search_flights.__doc__

    def served_routes(self) -> frozenset[tuple[str, str]]:
        if self._routes is None:
            with self._connection() as conn:
                rows = conn.execute(ROUTES_SQL).fetchall()
            self._routes = frozenset((str(o), str(d)) for o, d in rows)
        return self._routes

    served_routes.__doc__ = Inventory.served_routes.__doc__

    def search_hotels(
        self,
        city: str,
        check_in: date,
        check_out: date,
        *,
        rooms: int = 1,
        tier: int | None = None,
    ) -> list[HotelOption]:
        city = self._city(city)
        nights = (check_out - check_in).days
        if nights < 1:
            raise ValueError(f"check-out {check_out} must be after check-in {check_in}")
        _check_at_least(rooms, 1, "rooms")
        self._refuse_past_stay(city, check_in, "the stay searched")
        params = {
            "city": city,
            "check_in": check_in,
            "check_out": check_out,
            "tier": tier,
            "nights": nights,
            "rooms": rooms,
        }
        with self._connection() as conn:
            rows = conn.execute(_HOTEL_SEARCH_SQL, params).fetchall()
        return [
            HotelOption(
                id=f"{hotel_id}:{check_in.isoformat()}:{check_out.isoformat()}:{rooms}",
                hotel_id=hotel_id,
                name=name,
                city=hotel_city,
                tier=hotel_tier,
                check_in=check_in.isoformat(),
                check_out=check_out.isoformat(),
                nights=nights,
                rooms=rooms,
                price_per_night=round(per_room / nights, 2),
                total_price=round(per_room * rooms, 2),
                rooms_left=fewest,
                description=description,
            )
            for hotel_id, name, hotel_city, hotel_tier, description, fewest, per_room in rows
        ]

    search_hotels.__doc__ = Inventory.search_hotels.__doc__

    def search_cars(
        self, airport: str, pick_up: date, drop_off: date, *, car_class: str | None = None
    ) -> list[CarOption]:
        airport = self._code(airport)
        if car_class is not None:
            _check_choice(car_class, _CAR_CLASSES, "car class")
        if drop_off < pick_up:
            raise ValueError(f"drop-off {drop_off} is before pick-up {pick_up}")
        self._refuse_past_rental(airport, pick_up, "the rental searched")
        days = _rental_days(pick_up, drop_off)
        params = {
            "airport": airport,
            "first": pick_up,
            "end": pick_up + timedelta(days=days),
            "car_class": car_class,
            "days": days,
        }
        with self._connection() as conn:
            rows = conn.execute(_CAR_SEARCH_SQL, params).fetchall()
        return [
            CarOption(
                id=f"{airport}:{found}:{pick_up.isoformat()}:{drop_off.isoformat()}",
                airport=airport,
                car_class=_CAR_CLASSES[found],
                pick_up=pick_up.isoformat(),
                drop_off=drop_off.isoformat(),
                days=days,
                price_per_day=round(total / days, 2),
                total_price=round(total, 2),
                cars_left=fewest,
            )
            for found, fewest, total in rows
        ]

    search_cars.__doc__ = Inventory.search_cars.__doc__

    # Bookings -------------------------------------------------------------------------------

    def book(
        self, *, key: str, kind: str, item_id: str, quantity: int, thread_id: str, task_id: str
    ) -> Booking:
        _check_choice(kind, _KINDS, "booking kind")
        _check_at_least(quantity, 1, "quantity")

        def work(conn: psycopg.Connection[Any]) -> Booking:
            # One booking per key at a time: a second call waits here, then finds the first's.
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_KEY_LOCK, key))
            row = conn.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE key = %s", (key,)
            ).fetchone()
            if row is not None:
                existing = _booking(row, self.identity)
                asked = (kind, item_id, quantity, thread_id)
                held = (existing.kind, existing.item_id, existing.quantity, existing.thread_id)
                if asked != held:
                    raise KeyConflict(
                        f"idempotency key {key!r} already names booking {existing.ref} "
                        f"({existing.kind} {existing.item_id} x{existing.quantity}), not "
                        f"{kind} {item_id} x{quantity}: refusing to return another booking"
                    )
                return existing
            if kind == "flight":
                flight = _flight_item(item_id)
                taken, total, description, details = self._take_flight(conn, flight, quantity)
            elif kind == "hotel":
                hotel = _hotel_item(item_id)
                city = conn.execute(
                    "SELECT city FROM hotels WHERE id = %s", (hotel.hotel_id,)
                ).fetchone()
                if city is not None:  # an unknown hotel: `_take_hotel` says so
                    self._refuse_past_stay(city[0], hotel.check_in, f"stay {item_id!r}")
                taken, total, description, details = _take_hotel(conn, hotel, quantity)
            else:
                car = _car_item(item_id)
                self._refuse_past_rental(car.airport, car.pick_up, f"rental {item_id!r}")
                taken, total, description = _take_car(conn, car, quantity)
                details = _car_details(car, quantity, total)
            values = (
                _new_ref(conn, kind, key),
                key,
                kind,
                item_id,
                quantity,
                round(total, 2),
                "confirmed",
                thread_id,
                task_id,
                clock.now().isoformat(timespec="microseconds"),
                description,
                json.dumps(details),
            )
            conn.execute(
                f"INSERT INTO bookings ({_BOOKING_COLUMNS}, taken) "
                f"VALUES ({', '.join(['%s'] * 13)})",
                (*values, json.dumps(taken)),
            )
            return _booking(values, self.identity)

        return self._transact(work)

    book.__doc__ = Inventory.book.__doc__

    def cancel(self, ref_or_key: str, *, thread_id: str | None = None) -> Booking:
        """Give back exactly what a booking took and mark it cancelled; a no-op if it already is.
        With `thread_id`, only a booking of that thread: another thread's is as unknown as one
        that does not exist (a reference alone must not let one traveller cancel another's)."""

        def work(conn: psycopg.Connection[Any]) -> Booking:
            row = None
            for column in ("ref", "key"):
                # FOR UPDATE: a concurrent cancel waits, then sees 'cancelled' and releases nothing.
                row = conn.execute(
                    f"SELECT {_BOOKING_COLUMNS}, taken FROM bookings WHERE {column} = %s "
                    "FOR UPDATE",
                    (ref_or_key,),
                ).fetchone()
                if row is not None:
                    break
            if row is not None and thread_id is not None and row[_THREAD_COLUMN] != thread_id:
                row = None
            if row is None:
                raise UnknownBooking(f"no booking with reference or key {ref_or_key!r}")
            booking = _booking(row[:-1], self.identity)
            if booking.status == "cancelled":
                return booking
            _release(conn, booking.kind, json.loads(row[-1]))
            conn.execute("UPDATE bookings SET status = 'cancelled' WHERE ref = %s", (booking.ref,))
            return booking.model_copy(update={"status": "cancelled"})

        return self._transact(work)

    def bookings(self, thread_id: str | None = None) -> list[Booking]:
        """Bookings in the order they were made, optionally only those of one thread."""
        with self._connection() as conn:
            if thread_id is None:
                rows = conn.execute(
                    f"SELECT {_BOOKING_COLUMNS} FROM bookings ORDER BY created_at, seq"
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE thread_id = %s "
                    "ORDER BY created_at, seq",
                    (thread_id,),
                ).fetchall()
        return [_booking(row, self.identity) for row in rows]

    def bookings_keyed(self, key_prefix: str) -> list[Booking]:
        """The bookings whose idempotency key starts with `key_prefix` (one run's, one scope's),
        in the order they were made: the ledger a run's itinerary and verdict are read from."""
        with self._connection() as conn:
            # A range on the unique key index (byte order), then an exact, case-sensitive
            # prefix check: no LIKE, so '%' and '_' in a key are plain characters.
            rows = conn.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM bookings "
                "WHERE key >= %s AND starts_with(key, %s) ORDER BY created_at, seq",
                (key_prefix, key_prefix),
            ).fetchall()
        return [_booking(row, self.identity) for row in rows]

    # Inspection and scenario helpers for tests and benchmarks -------------------------------

    def seats_left(self, flight_option_id: str) -> int:
        item = _flight_item(flight_option_id)
        with self._connection() as conn:
            return int(_flight_row(conn, item)[6])

    def rooms_left(self, hotel_id: str, day: date) -> int:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT rooms_left FROM hotel_nights WHERE hotel_id = %s AND day = %s",
                (hotel_id, day),
            ).fetchone()
        if row is None:
            raise ValueError(f"no hotel {hotel_id!r} on {day} in the inventory")
        return int(row[0])

    def cars_left(self, airport: str, car_class: str, day: date) -> int:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT cars_left FROM car_days WHERE airport = %s AND day = %s AND car_class = %s",
                (self._code(airport), day, car_class),
            ).fetchone()
        if row is None:
            raise ValueError(f"no {car_class!r} cars at {airport} on {day} in the inventory")
        return int(row[0])

    def set_seats(self, flight_option_id: str, seats: int) -> None:
        item = _flight_item(flight_option_id)
        _check_at_least(seats, 0, "seats")

        def work(conn: psycopg.Connection[Any]) -> None:
            schedule_id = _flight_row(conn, item, lock=True)[0]
            conn.execute(
                f"UPDATE flight_instances SET {_SEAT_COLUMN[item.cabin]} = %s "
                "WHERE schedule_id = %s AND day = %s",
                (seats, schedule_id, item.day),
            )

        self._transact(work)

    def set_rooms(self, hotel_id: str, day: date, rooms: int) -> None:
        _check_at_least(rooms, 0, "rooms")
        changed = self._transact(
            lambda conn: (
                conn.execute(
                    "UPDATE hotel_nights SET rooms_left = %s WHERE hotel_id = %s AND day = %s",
                    (rooms, hotel_id, day),
                ).rowcount
            )
        )
        if changed == 0:
            raise ValueError(f"no hotel {hotel_id!r} on {day} in the inventory")

    def set_cars(self, airport: str, car_class: str, day: date, cars: int) -> None:
        _check_at_least(cars, 0, "cars")
        code = self._code(airport)
        changed = self._transact(
            lambda conn: (
                conn.execute(
                    "UPDATE car_days SET cars_left = %s WHERE airport = %s AND day = %s "
                    "AND car_class = %s",
                    (cars, code, day, car_class),
                ).rowcount
            )
        )
        if changed == 0:
            raise ValueError(f"no {car_class!r} cars at {airport} on {day} in the inventory")

    # Internals ------------------------------------------------------------------------------

    def _ensure_details_column(self) -> None:
        """Every PostgreSQL inventory has had the column from the start."""

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        raise TypeError("PostgresInventory has no SQLite connection")  # a method not overridden
        yield  # pragma: no cover

    @contextmanager
    def _write(self) -> Iterator[Any]:
        raise TypeError("PostgresInventory has no SQLite connection")  # a method not overridden
        yield  # pragma: no cover

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._idle_lock:
            if self._pid != os.getpid():
                # A forked child: the parent's connections share its sockets. Never use them,
                # nor close them (that would end the parent's sessions): just keep them.
                self._inherited += self._idle
                self._idle, self._pid = [], os.getpid()
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            conn = psycopg.connect(self.uri, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        try:
            yield conn
        finally:
            idle = (
                not conn.closed
                and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            )
            with self._idle_lock:
                keep = idle and not self._closed and len(self._idle) < IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def _transact(self, work: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """`work` in one transaction, retried when PostgreSQL aborts it for a deadlock, a
        serialization failure or a concurrent insert of the same booking reference."""
        for attempt in range(ATTEMPTS):
            try:
                with self._connection() as conn, conn.transaction():
                    return work(conn)
            except _RETRIED:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _take_flight(
        self, conn: psycopg.Connection[Any], item: _FlightItem, travelers: int
    ) -> tuple[dict[str, Any], float, str, dict[str, Any]]:
        schedule_id, origin, destination, depart_min, duration, fare, seats = _flight_row(
            conn, item, lock=True
        )
        cabin = _check_choice(item.cabin, _CABINS, "cabin")
        option = self._flight_option(
            (item.flight_no, origin, destination, depart_min, duration, fare, 0), item.day, cabin
        )
        self._refuse_departed(item.flight_no, origin, option.depart_local)
        if seats < travelers:
            raise SoldOut(
                f"flight {item.flight_no} on {item.day} has {seats} {item.cabin} seat(s) left, "
                f"{travelers} needed",
                item_id=f"{item.flight_no}:{item.day.isoformat()}:{item.cabin}",
            )
        column = _SEAT_COLUMN[item.cabin]
        conn.execute(
            f"UPDATE flight_instances SET {column} = {column} - %s "
            "WHERE schedule_id = %s AND day = %s",
            (travelers, schedule_id, item.day),
        )
        taken = {"schedule_id": schedule_id, "day": item.day.isoformat(), "cabin": item.cabin}
        description = (
            f"Flight {item.flight_no} {origin}->{destination} on {item.day} at "
            f"{depart_min // 60:02d}:{depart_min % 60:02d}, {item.cabin}, {travelers} traveller(s)"
        )
        details = {
            "flight_no": option.flight_no,
            "origin": option.origin,
            "destination": option.destination,
            "depart_local": option.depart_local,
            "arrive_local": option.arrive_local,
            "duration_min": option.duration_min,
            "cabin": option.cabin,
            "red_eye": option.red_eye,
            "travelers": travelers,
            "fare": option.price,
        }
        return (
            {**taken, "count": travelers},
            round(fare * CABIN_MULTIPLIER[item.cabin], 2) * travelers,
            description,
            details,
        )


# Taking and giving back inventory (inside the caller's transaction) -----------------------


def _flight_row(
    conn: psycopg.Connection[Any], item: _FlightItem, *, lock: bool = False
) -> tuple[int, str, str, int, int, float, int]:
    row = conn.execute(
        "SELECT s.id, s.origin, s.destination, s.depart_min, s.duration_min, i.price, "
        f"i.{_SEAT_COLUMN[item.cabin]} FROM schedules AS s "
        "JOIN flight_instances AS i ON i.schedule_id = s.id AND i.day = %s "
        "WHERE s.flight_no = %s" + (" FOR UPDATE OF i" if lock else ""),
        (item.day, item.flight_no),
    ).fetchone()
    if row is None:
        raise ValueError(f"no flight {item.flight_no} on {item.day} in the inventory")
    return row  # type: ignore[no-any-return]


def _take_hotel(
    conn: psycopg.Connection[Any], item: _HotelItem, rooms: int
) -> tuple[dict[str, Any], float, str, dict[str, Any]]:
    item_id = f"{item.hotel_id}:{item.check_in}:{item.check_out}:{item.rooms}"
    if rooms != item.rooms:
        raise ValueError(
            f"item {item_id!r} is for {item.rooms} room(s) but quantity is {rooms}; "
            "search again with the number of rooms you want"
        )
    hotel = conn.execute(
        "SELECT name, city, tier FROM hotels WHERE id = %s", (item.hotel_id,)
    ).fetchone()
    if hotel is None:
        raise ValueError(f"unknown hotel {item.hotel_id!r}")
    span = (item.hotel_id, item.check_in, item.check_out)
    # Locked in date order, so two overlapping stays queue instead of deadlocking.
    nights = conn.execute(
        "SELECT day, rooms_left, price FROM hotel_nights "
        "WHERE hotel_id = %s AND day >= %s AND day < %s ORDER BY day FOR UPDATE",
        span,
    ).fetchall()
    if len(nights) != (item.check_out - item.check_in).days:
        raise ValueError(f"stay {item_id!r} is not inside the inventory window")
    full = [day.isoformat() for day, rooms_left, _ in nights if rooms_left < rooms]
    if full:
        raise SoldOut(
            f"{hotel[0]} ({item.hotel_id}) has fewer than {rooms} room(s) free on "
            f"{', '.join(full)}",
            item_id=item_id,
        )
    conn.execute(
        "UPDATE hotel_nights SET rooms_left = rooms_left - %s "
        "WHERE hotel_id = %s AND day >= %s AND day < %s",
        (rooms, *span),
    )
    taken = {
        "hotel_id": item.hotel_id,
        "days": [day.isoformat() for day, _, _ in nights],
        "count": rooms,
    }
    description = (
        f"{hotel[0]}, {hotel[1]}: {len(nights)} night(s) from {item.check_in} to "
        f"{item.check_out}, {rooms} room(s)"
    )
    details = {
        "hotel_id": item.hotel_id,
        "name": hotel[0],
        "city": hotel[1],
        "tier": hotel[2],
        "check_in": item.check_in.isoformat(),
        "check_out": item.check_out.isoformat(),
        "nights": (item.check_out - item.check_in).days,
        "rooms": item.rooms,
    }
    return taken, sum(price for _, _, price in nights) * rooms, description, details


def _take_car(
    conn: psycopg.Connection[Any], item: _CarItem, cars: int
) -> tuple[dict[str, Any], float, str]:
    item_id = f"{item.airport}:{item.car_class}:{item.pick_up}:{item.drop_off}"
    end = item.pick_up + timedelta(days=item.days)
    span = (item.airport, item.pick_up, end, item.car_class)
    days = conn.execute(
        "SELECT day, cars_left, price_per_day FROM car_days "
        "WHERE airport = %s AND day >= %s AND day < %s AND car_class = %s ORDER BY day "
        "FOR UPDATE",
        span,
    ).fetchall()
    if len(days) != item.days:
        raise ValueError(f"rental {item_id!r} is not inside the inventory window")
    short = [day.isoformat() for day, cars_left, _ in days if cars_left < cars]
    if short:
        raise SoldOut(
            f"fewer than {cars} {item.car_class} car(s) free at {item.airport} on "
            f"{', '.join(short)}",
            item_id=item_id,
        )
    conn.execute(
        "UPDATE car_days SET cars_left = cars_left - %s "
        "WHERE airport = %s AND day >= %s AND day < %s AND car_class = %s",
        (cars, *span),
    )
    taken = {
        "airport": item.airport,
        "car_class": item.car_class,
        "days": [day.isoformat() for day, _, _ in days],
        "count": cars,
    }
    description = (
        f"{cars} {item.car_class} car(s) at {item.airport}, {item.days} day(s) from "
        f"{item.pick_up} to {item.drop_off}"
    )
    return taken, sum(price for _, _, price in days) * cars, description


def _release(conn: psycopg.Connection[Any], kind: str, taken: dict[str, Any]) -> None:
    count = int(taken["count"])
    if kind == "flight":
        column = _SEAT_COLUMN[taken["cabin"]]
        conn.execute(
            f"UPDATE flight_instances SET {column} = {column} + %s "
            "WHERE schedule_id = %s AND day = %s",
            (count, taken["schedule_id"], date.fromisoformat(taken["day"])),
        )
        return
    # Day by day in date order (the order `taken` lists them), as bookings lock them.
    with conn.cursor() as cursor:
        if kind == "hotel":
            cursor.executemany(
                "UPDATE hotel_nights SET rooms_left = rooms_left + %s "
                "WHERE hotel_id = %s AND day = %s",
                [(count, taken["hotel_id"], date.fromisoformat(d)) for d in taken["days"]],
            )
        else:
            cursor.executemany(
                "UPDATE car_days SET cars_left = cars_left + %s "
                "WHERE airport = %s AND day = %s AND car_class = %s",
                [
                    (count, taken["airport"], date.fromisoformat(d), taken["car_class"])
                    for d in taken["days"]
                ],
            )


def _new_ref(conn: psycopg.Connection[Any], kind: str, key: str) -> str:
    """A short reference derived from the key, so a replayed run gets the same one (as SQLite)."""
    for attempt in range(100):
        digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
        code = "".join(_REF_ALPHABET[byte % len(_REF_ALPHABET)] for byte in digest[:6])
        ref = f"{_REF_PREFIX[kind]}-{code}"
        if conn.execute("SELECT 1 FROM bookings WHERE ref = %s", (ref,)).fetchone() is None:
            return ref
    raise RuntimeError(f"could not find a free booking reference for key {key!r}")


__all__ = [
    "DEFAULT_SCHEMA",
    "PostgresInventory",
    "build_postgres_inventory",
    "inventory_exists",
]
