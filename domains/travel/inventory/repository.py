"""The inventory service: the only way the app searches, books and cancels flights, hotels and cars.

Plain synchronous sqlite3 (async callers wrap calls in `asyncio.to_thread`). Every call opens its
own short-lived connection, so one `Inventory` can be shared by any number of threads, and any
number of processes can use the same file: the database is in WAL mode so readers never wait,
every write is a single `BEGIN IMMEDIATE` transaction, and a writer queues for up to 30 s instead
of failing with 'database is locked'.

An option's `id` holds everything needed to book it:

- flight: `{flight_no}:{day}:{cabin}`, e.g. `AF1234:2026-03-01:economy`; quantity = travellers
- hotel: `{hotel_id}:{check_in}:{check_out}:{rooms}`, e.g. `paris-3:2026-03-01:2026-03-04:1`;
  quantity must equal `rooms`
- car: `{airport}:{car_class}:{pick_up}:{drop_off}`, e.g. `CDG:compact:2026-03-01:2026-03-04`;
  quantity = cars

Nothing in the past is sold, whatever the file holds and however old a search's option id is
(the rules read `clock`, the one source of "now"): a search never offers a flight that has left
(its departure, local time and offset, compared in UTC with now), and a stay or a rental that
begins before today where it is (`clock.first_night_in`, `clock.today_in`) is refused, by the
searches and by `book`, with `InThePast` and nothing taken.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, get_args
from zoneinfo import ZoneInfo

from domains.travel.inventory import clock
from domains.travel.inventory.generate import CABIN_MULTIPLIER, IDENTITY_KEY, build_inventory
from domains.travel.models import (
    Airport,
    Booking,
    BookingKind,
    Cabin,
    CarClass,
    CarOption,
    FlightOption,
    HotelOption,
)

BUSY_TIMEOUT_S = 30.0

_T = TypeVar("_T")

FLIGHT_SEARCH_SQL = """
SELECT s.flight_no, s.origin, s.destination, s.depart_min, s.duration_min, i.price,
       CASE :cabin WHEN 'premium' THEN i.seats_premium WHEN 'business' THEN i.seats_business
                   ELSE i.seats_economy END AS seats
FROM schedules AS s
JOIN flight_instances AS i ON i.schedule_id = s.id AND i.day = :day
WHERE s.origin = :origin AND s.destination = :destination AND seats >= :travelers
ORDER BY i.price, s.duration_min, s.flight_no
"""

HOTEL_SEARCH_SQL = """
SELECT h.id, h.name, h.city, h.tier, h.description, MIN(n.rooms_left), SUM(n.price)
FROM hotels AS h
JOIN hotel_nights AS n ON n.hotel_id = h.id AND n.day >= :check_in AND n.day < :check_out
WHERE h.city = :city AND (:tier IS NULL OR h.tier = :tier)
GROUP BY h.id
HAVING COUNT(*) = :nights AND MIN(n.rooms_left) >= :rooms
ORDER BY SUM(n.price), h.id
"""

ROUTES_SQL = "SELECT DISTINCT origin, destination FROM schedules"
"""Every route with a scheduled flight: a schedule flies every day of the window."""

CAR_SEARCH_SQL = """
SELECT car_class, MIN(cars_left), SUM(price_per_day)
FROM car_days
WHERE airport = :airport AND day >= :first AND day < :end
  AND (:car_class IS NULL OR car_class = :car_class)
GROUP BY car_class
HAVING COUNT(*) = :days AND MIN(cars_left) >= 1
ORDER BY SUM(price_per_day), car_class
"""

_BOOKING_COLUMNS = (
    "ref, key, kind, item_id, quantity, total_price, status, thread_id, task_id, created_at, "
    "description, details"
)
_THREAD_COLUMN = [c.strip() for c in _BOOKING_COLUMNS.split(",")].index("thread_id")
_SEAT_COLUMN: dict[str, str] = {
    "economy": "seats_economy",
    "premium": "seats_premium",
    "business": "seats_business",
}
_REF_PREFIX: dict[str, str] = {"flight": "FL", "hotel": "HT", "car": "CR"}
_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread
# Checked values mapped to themselves, typed as the models' literals.
_CABINS: dict[str, Cabin] = {cabin: cabin for cabin in get_args(Cabin)}
_CAR_CLASSES: dict[str, CarClass] = {car_class: car_class for car_class in get_args(CarClass)}
_KINDS: dict[str, BookingKind] = {kind: kind for kind in get_args(BookingKind)}


class SoldOut(Exception):
    """Not enough seats, rooms or cars are left for a booking; nothing was taken."""

    def __init__(self, message: str, item_id: str = "") -> None:
        super().__init__(message)
        self.item_id = item_id


class InThePast(ValueError):
    """The item begins before now: a flight that has left, a stay or a rental that begins
    before today where it is. Nothing was taken; search again for a later one."""


class UnknownBooking(LookupError):
    """No booking has this reference or idempotency key."""


class KeyConflict(ValueError):
    """An idempotency key already names a different booking: never hand that one back."""


@dataclass(frozen=True)
class _FlightItem:
    flight_no: str
    day: date
    cabin: str


@dataclass(frozen=True)
class _HotelItem:
    hotel_id: str
    check_in: date
    check_out: date
    rooms: int


@dataclass(frozen=True)
class _CarItem:
    airport: str
    car_class: str
    pick_up: date
    drop_off: date

    @property
    def days(self) -> int:
        return _rental_days(self.pick_up, self.drop_off)


class _FlightRow(NamedTuple):
    schedule_id: int
    origin: str
    destination: str
    depart_min: int
    fare: float  # economy
    seats: int  # in the item's cabin


class Inventory:
    """Searches and bookings over one inventory database file."""

    def __init__(self, path: Path | str) -> None:
        """Open an existing inventory file; use `Inventory.open` to create it when missing."""
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no inventory database at {self.path}")
        # mode=rw: a file deleted under us must not come back as an empty database.
        self._uri = self.path.resolve().as_uri() + "?mode=rw"
        with self._connect() as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            rows = conn.execute("SELECT code, name, city, country, tz FROM airports").fetchall()
        if IDENTITY_KEY not in meta:
            # A file built before inventories had an identity gets one, once: under the write
            # lock, so two processes opening it at once agree on the same one.
            with self._write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES (?, ?)", (IDENTITY_KEY, uuid.uuid4().hex)
                )
                found = conn.execute("SELECT value FROM meta WHERE key = ?", (IDENTITY_KEY,))
                meta[IDENTITY_KEY] = found.fetchone()[0]
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
        self._has_details = False
        self._routes: frozenset[tuple[str, str]] | None = None

    @classmethod
    def open(
        cls, path: Path | str, *, seed: int = 7, start: date | None = None, days: int = 365
    ) -> Inventory:
        """Open the inventory at `path`, building it first if the file does not exist.

        A new window starts at `start` (default: today, `clock.today()`). An existing file keeps
        its own seed and days (`days_held`); the days before today are no longer sold
        (`window`). Safe when several processes race to create the same file: each builds a
        private copy, the first to finish publishes it, and the rest open that one.
        """
        path = Path(path)
        if not path.exists():
            build_inventory(
                path, start=start or clock.today(), days=days, seed=seed, overwrite=False
            )
        return cls(path)

    @property
    def identity(self) -> str:
        """This inventory's own id, made when it was built: a rebuilt file gets a new one, so
        bookings recorded elsewhere (a run's checkpoints) can tell which inventory holds them."""
        return self._identity

    def window(self) -> tuple[date, date]:
        """First and last bookable day, inclusive: the days held (`days_held`) from today on.

        Today is this machine's date (`clock.today()`), as `--depart +0` reads it. The file's
        days are fixed when it is built, so an old file's first days are past and are not
        offered; once its last day has passed the window is empty (first after last). What is
        bookable at a place is decided there by the searches and `book` (see the module doc).
        """
        first, last = self.days_held()
        return max(first, clock.today()), last

    def days_held(self) -> tuple[date, date]:
        """The first and last day the inventory holds, past or not: fixed when it was built."""
        return self._start, self._start + timedelta(days=self._days - 1)

    # Airports -------------------------------------------------------------------------------

    def airports(self) -> list[Airport]:
        return list(self._airports.values())

    def airport(self, code: str) -> Airport | None:
        return self._airports.get(code.strip().upper())

    def airports_in_city(self, city: str) -> list[Airport]:
        wanted = city.strip().casefold()
        return [a for a in self._airports.values() if a.city.casefold() == wanted]

    def sibling_airports(self, code: str) -> list[Airport]:
        """The other airports serving the same city, e.g. LGW and STN for LHR."""
        airport = self.airport(code)
        if airport is None:
            return []
        return [a for a in self.airports_in_city(airport.city) if a.code != airport.code]

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
        """Flights departing on `day` (local date) with seats for everyone; cheapest first.

        A flight that has left (its departure earlier than `clock.now()`) is never listed.
        `include_full` lists the full flights too: an empty answer then means that no flight is
        scheduled on the route that day (not served), or that all of them have left (a served
        route: `served_routes`), rather than sold out."""
        origin, destination = self._code(origin), self._code(destination)
        checked_cabin = _check_choice(cabin, _CABINS, "cabin")
        _check_at_least(travelers, 1, "travelers")
        params = {
            "origin": origin,
            "destination": destination,
            "day": day.isoformat(),
            "cabin": cabin,
            "travelers": 0 if include_full else travelers,
        }
        with self._connect() as conn:
            rows = conn.execute(FLIGHT_SEARCH_SQL, params).fetchall()
        return self._not_left([self._flight_option(row, day, checked_cabin) for row in rows])

    def served_routes(self) -> frozenset[tuple[str, str]]:
        """Every (origin, destination) with a scheduled flight. Schedules fly every day of the
        window and never change, so the set is read once per `Inventory`."""
        if self._routes is None:
            with self._connect() as conn:
                self._routes = frozenset(conn.execute(ROUTES_SQL).fetchall())
        return self._routes

    def search_hotels(
        self,
        city: str,
        check_in: date,
        check_out: date,
        *,
        rooms: int = 1,
        tier: int | None = None,
    ) -> list[HotelOption]:
        """Hotels with `rooms` free on every night in [check_in, check_out); cheapest first.

        `city` is a city name in any case, or one of the city's airport codes. A stay whose
        first night is over there raises `InThePast`.
        """
        city = self._city(city)
        nights = (check_out - check_in).days
        if nights < 1:
            raise ValueError(f"check-out {check_out} must be after check-in {check_in}")
        _check_at_least(rooms, 1, "rooms")
        self._refuse_past_stay(city, check_in, "the stay searched")
        params = {
            "city": city,
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "tier": tier,
            "nights": nights,
            "rooms": rooms,
        }
        with self._connect() as conn:
            rows = conn.execute(HOTEL_SEARCH_SQL, params).fetchall()
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

    def search_cars(
        self, airport: str, pick_up: date, drop_off: date, *, car_class: str | None = None
    ) -> list[CarOption]:
        """Car classes free at `airport` on every rental day; cheapest first.

        A rental lasts `max(1, (drop_off - pick_up).days)` days, so a same-day return is one day.
        A pick-up before today at `airport` raises `InThePast`.
        """
        airport = self._code(airport)
        if car_class is not None:
            _check_choice(car_class, _CAR_CLASSES, "car class")
        if drop_off < pick_up:
            raise ValueError(f"drop-off {drop_off} is before pick-up {pick_up}")
        self._refuse_past_rental(airport, pick_up, "the rental searched")
        days = _rental_days(pick_up, drop_off)
        params = {
            "airport": airport,
            "first": pick_up.isoformat(),
            "end": (pick_up + timedelta(days=days)).isoformat(),
            "car_class": car_class,
            "days": days,
        }
        with self._connect() as conn:
            rows = conn.execute(CAR_SEARCH_SQL, params).fetchall()
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

    # Bookings -------------------------------------------------------------------------------

    def book(
        self, *, key: str, kind: str, item_id: str, quantity: int, thread_id: str, task_id: str
    ) -> Booking:
        """Take `quantity` of an item and record the booking, all in one transaction.

        Idempotent on `key`: if a booking with this key exists for the same item and quantity
        it is returned as it is (even if cancelled) and nothing more is taken; if the key names
        another item, thread or quantity, `KeyConflict` is raised: a key never returns someone
        else's booking. Raises `SoldOut` when too little is left, `InThePast` for a flight that
        has left or a stay or rental that begins before today where it is (however old the
        search that gave the id: the id holds the date), and `ValueError` for a malformed or
        unknown item; in all these cases nothing changes. A booking already made under `key` is
        returned even once it is in the past: a replay gets what was booked.

        The record keeps every fact the itinerary states (`details`: flight number, route and
        local times, hotel name and nights, car class and days, quantities, unit prices), read
        from the inventory in the same transaction that takes the item.
        """
        _check_choice(kind, _KINDS, "booking kind")
        _check_at_least(quantity, 1, "quantity")
        self._ensure_details_column()
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE key = ?", (key,)
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
                details = self._flight_details(conn, flight, quantity)
                self._refuse_departed(flight.flight_no, details["origin"], details["depart_local"])
                taken, total, description = _take_flight(conn, flight, quantity)
            elif kind == "hotel":
                hotel = _hotel_item(item_id)
                city = conn.execute(
                    "SELECT city FROM hotels WHERE id = ?", (hotel.hotel_id,)
                ).fetchone()
                if city is not None:  # an unknown hotel: `_take_hotel` says so
                    self._refuse_past_stay(city[0], hotel.check_in, f"stay {item_id!r}")
                taken, total, description = _take_hotel(conn, hotel, quantity)
                details = _hotel_details(conn, hotel)
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
                f"INSERT INTO bookings ({_BOOKING_COLUMNS}, taken) VALUES ({', '.join('?' * 13)})",
                (*values, json.dumps(taken)),
            )
        return _booking(values, self.identity)

    def cancel(self, ref_or_key: str, *, thread_id: str | None = None) -> Booking:
        """Give back exactly what a booking took and mark it cancelled; a no-op if it already is.
        With `thread_id`, only a booking of that thread: another thread's is as unknown as one
        that does not exist (a reference alone must not let one traveller cancel another's)."""
        self._ensure_details_column()
        with self._write() as conn:
            row = None
            for column in ("ref", "key"):
                row = conn.execute(
                    f"SELECT {_BOOKING_COLUMNS}, taken FROM bookings WHERE {column} = ?",
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
            conn.execute("UPDATE bookings SET status = 'cancelled' WHERE ref = ?", (booking.ref,))
        return booking.model_copy(update={"status": "cancelled"})

    def bookings(self, thread_id: str | None = None) -> list[Booking]:
        """Bookings in the order they were made, optionally only those of one thread."""
        self._ensure_details_column()
        with self._connect() as conn:
            if thread_id is None:
                rows = conn.execute(
                    f"SELECT {_BOOKING_COLUMNS} FROM bookings ORDER BY created_at, rowid"
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE thread_id = ? "
                    "ORDER BY created_at, rowid",
                    (thread_id,),
                ).fetchall()
        return [_booking(row, self.identity) for row in rows]

    def bookings_keyed(self, key_prefix: str) -> list[Booking]:
        """The bookings whose idempotency key starts with `key_prefix` (one run's, one scope's),
        in the order they were made: the ledger a run's itinerary and verdict are read from."""
        self._ensure_details_column()
        with self._connect() as conn:
            # A range on the unique key index, then an exact (case-sensitive) prefix check.
            rows = conn.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM bookings "
                "WHERE key >= ? AND substr(key, 1, ?) = ? ORDER BY created_at, rowid",
                (key_prefix, len(key_prefix), key_prefix),
            ).fetchall()
        return [_booking(row, self.identity) for row in rows]

    # Inspection and scenario helpers for tests and benchmarks -------------------------------

    def seats_left(self, flight_option_id: str) -> int:
        item = _flight_item(flight_option_id)
        with self._connect() as conn:
            return _flight_row(conn, item).seats

    def rooms_left(self, hotel_id: str, day: date) -> int:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT rooms_left FROM hotel_nights WHERE hotel_id = ? AND day = ?",
                (hotel_id, day.isoformat()),
            ).fetchone()
        if row is None:
            raise ValueError(f"no hotel {hotel_id!r} on {day} in the inventory")
        return int(row[0])

    def cars_left(self, airport: str, car_class: str, day: date) -> int:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT cars_left FROM car_days WHERE airport = ? AND day = ? AND car_class = ?",
                (self._code(airport), day.isoformat(), car_class),
            ).fetchone()
        if row is None:
            raise ValueError(f"no {car_class!r} cars at {airport} on {day} in the inventory")
        return int(row[0])

    def set_seats(self, flight_option_id: str, seats: int) -> None:
        item = _flight_item(flight_option_id)
        _check_at_least(seats, 0, "seats")
        with self._write() as conn:
            schedule_id = _flight_row(conn, item).schedule_id
            conn.execute(
                f"UPDATE flight_instances SET {_SEAT_COLUMN[item.cabin]} = ? "
                "WHERE schedule_id = ? AND day = ?",
                (seats, schedule_id, item.day.isoformat()),
            )

    def set_rooms(self, hotel_id: str, day: date, rooms: int) -> None:
        _check_at_least(rooms, 0, "rooms")
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE hotel_nights SET rooms_left = ? WHERE hotel_id = ? AND day = ?",
                (rooms, hotel_id, day.isoformat()),
            ).rowcount
        if changed == 0:
            raise ValueError(f"no hotel {hotel_id!r} on {day} in the inventory")

    def set_cars(self, airport: str, car_class: str, day: date, cars: int) -> None:
        _check_at_least(cars, 0, "cars")
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE car_days SET cars_left = ? WHERE airport = ? AND day = ? AND car_class = ?",
                (cars, self._code(airport), day.isoformat(), car_class),
            ).rowcount
        if changed == 0:
            raise ValueError(f"no {car_class!r} cars at {airport} on {day} in the inventory")

    # Internals ------------------------------------------------------------------------------

    def _ensure_details_column(self) -> None:
        """Files built before bookings kept their details get the column (empty for old rows)."""
        if self._has_details:
            return
        with self._write() as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(bookings)")}
            if "details" not in columns:
                conn.execute("ALTER TABLE bookings ADD COLUMN details TEXT NOT NULL DEFAULT '{}'")
        self._has_details = True

    def _flight_details(
        self, conn: sqlite3.Connection, item: _FlightItem, travelers: int
    ) -> dict[str, Any]:
        row = _flight_row(conn, item)
        duration = conn.execute(
            "SELECT duration_min FROM schedules WHERE id = ?", (row.schedule_id,)
        ).fetchone()[0]
        cabin = _check_choice(item.cabin, _CABINS, "cabin")
        option = self._flight_option(
            (item.flight_no, row.origin, row.destination, row.depart_min, duration, row.fare, 0),
            item.day,
            cabin,
        )
        return {
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

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two writers never both read and then
        # deadlock trying to upgrade; the loser waits on busy_timeout instead.
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite may already have rolled back on its own
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _zone(self, place: str) -> ZoneInfo:
        """The time zone of an airport code, or of a city (by name or by airport code)."""
        airport = self.airport(place) or next(iter(self.airports_in_city(place)), None)
        if airport is None:
            raise ValueError(f"unknown airport or city {place!r}")
        return self._zones[airport.code]

    def _not_left(self, options: list[FlightOption]) -> list[FlightOption]:
        return [o for o in options if not clock.has_left(o.depart_local)]

    def _refuse_departed(self, flight_no: str, origin: str, depart_local: str) -> None:
        # The exact instant: the departure's local time and offset against now, in UTC.
        if clock.has_left(depart_local):
            departure = datetime.fromisoformat(depart_local)
            there = clock.now().astimezone(departure.tzinfo)
            raise InThePast(
                f"flight {flight_no} from {origin} left at {_local(departure)}, before now "
                f"({there:%Y-%m-%d %H:%M} there): it can no longer be booked; search again for "
                "a later flight"
            )

    def _refuse_past_stay(self, city: str, check_in: date, what: str) -> None:
        # The city's own date, not this machine's (the zone of every airport is at hand): its
        # first night is on sale until EARLY_ARRIVAL_HOUR the next morning there
        # (`clock.first_night_in`), the hour before which the stay policy books last night's
        # room for a red-eye landing early today, so such a stay stays bookable.
        zone = self._zone(city)
        first = clock.first_night_in(zone)
        if check_in < first:
            there = clock.now().astimezone(zone)
            raise InThePast(
                f"{what} begins on {check_in}, a night already over in {city} (it is "
                f"{_local(there)} there): the first night still bookable is {first}"
            )

    def _refuse_past_rental(self, airport: str, pick_up: date, what: str) -> None:
        # The airport's own date, not this machine's (the zone of every airport is at hand): a
        # car can be picked up while it is still that day where the car is.
        zone = self._zone(airport)
        today = clock.today_in(zone)
        if pick_up < today:
            raise InThePast(
                f"{what} at {airport.upper()} begins on {pick_up}, before today there "
                f"({today}): pick up a car from {today} on"
            )

    def _code(self, code: str) -> str:
        airport = self.airport(code)
        if airport is None:
            raise ValueError(f"unknown airport code {code!r}")
        return airport.code

    def _city(self, city: str) -> str:
        airport = self.airport(city) if len(city.strip()) == 3 else None
        if airport is not None:
            return airport.city
        known = self._cities.get(city.strip().casefold())
        if known is None:
            raise ValueError(f"unknown city {city!r}: no airport of ours serves it")
        return known

    def _flight_option(self, row: tuple[Any, ...], day: date, cabin: Cabin) -> FlightOption:
        flight_no, origin, destination, depart_min, duration, price, seats = row
        depart = datetime.combine(
            day, time(depart_min // 60, depart_min % 60), tzinfo=self._zones[origin]
        )
        # Add the flight time in UTC: wall-clock arithmetic would ignore a DST change en route.
        arrive = (depart.astimezone(UTC) + timedelta(minutes=duration)).astimezone(
            self._zones[destination]
        )
        return FlightOption(
            id=f"{flight_no}:{day.isoformat()}:{cabin}",
            flight_no=flight_no,
            origin=origin,
            destination=destination,
            depart_local=depart.isoformat(),
            arrive_local=arrive.isoformat(),
            duration_min=duration,
            cabin=cabin,
            price=round(price * CABIN_MULTIPLIER[cabin], 2),
            seats_left=seats,
            red_eye=arrive.hour < 6,
        )


# Item ids ---------------------------------------------------------------------------------


def _split(item_id: str, parts: int, shape: str) -> list[str]:
    fields = item_id.split(":")
    if len(fields) != parts or not all(fields):
        raise ValueError(f"malformed item id {item_id!r}: expected {shape}")
    return fields


def _day(text: str, item_id: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"malformed item id {item_id!r}: {text!r} is not a date") from None


def _flight_item(item_id: str) -> _FlightItem:
    flight_no, day, cabin = _split(item_id, 3, "'FLIGHT_NO:YYYY-MM-DD:CABIN'")
    _check_choice(cabin, _CABINS, "cabin")
    return _FlightItem(flight_no, _day(day, item_id), cabin)


def _hotel_item(item_id: str) -> _HotelItem:
    hotel_id, check_in, check_out, rooms = _split(item_id, 4, "'HOTEL_ID:CHECK_IN:CHECK_OUT:ROOMS'")
    if not rooms.isdigit():
        raise ValueError(f"malformed item id {item_id!r}: rooms {rooms!r} is not a number")
    item = _HotelItem(hotel_id, _day(check_in, item_id), _day(check_out, item_id), int(rooms))
    if item.check_out <= item.check_in:
        raise ValueError(f"item id {item_id!r}: check-out must be after check-in")
    return item


def _car_item(item_id: str) -> _CarItem:
    airport, car_class, pick_up, drop_off = _split(
        item_id, 4, "'AIRPORT:CAR_CLASS:PICK_UP:DROP_OFF'"
    )
    _check_choice(car_class, _CAR_CLASSES, "car class")
    item = _CarItem(airport.upper(), car_class, _day(pick_up, item_id), _day(drop_off, item_id))
    if item.drop_off < item.pick_up:
        raise ValueError(f"item id {item_id!r}: drop-off is before pick-up")
    return item


# Taking and giving back inventory (inside the caller's write transaction) -----------------


def _flight_row(conn: sqlite3.Connection, item: _FlightItem) -> _FlightRow:
    row = conn.execute(
        "SELECT s.id, s.origin, s.destination, s.depart_min, i.price, "
        f"i.{_SEAT_COLUMN[item.cabin]} FROM schedules AS s "
        "JOIN flight_instances AS i ON i.schedule_id = s.id AND i.day = ? "
        "WHERE s.flight_no = ?",
        (item.day.isoformat(), item.flight_no),
    ).fetchone()
    if row is None:
        raise ValueError(f"no flight {item.flight_no} on {item.day} in the inventory")
    return _FlightRow(*row)


def _take_flight(
    conn: sqlite3.Connection, item: _FlightItem, travelers: int
) -> tuple[dict[str, Any], float, str]:
    schedule_id, origin, destination, depart_min, fare, seats = _flight_row(conn, item)
    if seats < travelers:
        raise SoldOut(
            f"flight {item.flight_no} on {item.day} has {seats} {item.cabin} seat(s) left, "
            f"{travelers} needed",
            item_id=f"{item.flight_no}:{item.day.isoformat()}:{item.cabin}",
        )
    column = _SEAT_COLUMN[item.cabin]
    conn.execute(
        f"UPDATE flight_instances SET {column} = {column} - ? WHERE schedule_id = ? AND day = ?",
        (travelers, schedule_id, item.day.isoformat()),
    )
    taken = {"schedule_id": schedule_id, "day": item.day.isoformat(), "cabin": item.cabin}
    description = (
        f"Flight {item.flight_no} {origin}->{destination} on {item.day} at "
        f"{depart_min // 60:02d}:{depart_min % 60:02d}, {item.cabin}, {travelers} traveller(s)"
    )
    return (
        {**taken, "count": travelers},
        round(fare * CABIN_MULTIPLIER[item.cabin], 2) * travelers,
        description,
    )


def _take_hotel(
    conn: sqlite3.Connection, item: _HotelItem, rooms: int
) -> tuple[dict[str, Any], float, str]:
    item_id = f"{item.hotel_id}:{item.check_in}:{item.check_out}:{item.rooms}"
    if rooms != item.rooms:
        raise ValueError(
            f"item {item_id!r} is for {item.rooms} room(s) but quantity is {rooms}; "
            "search again with the number of rooms you want"
        )
    hotel = conn.execute("SELECT name, city FROM hotels WHERE id = ?", (item.hotel_id,)).fetchone()
    if hotel is None:
        raise ValueError(f"unknown hotel {item.hotel_id!r}")
    span = (item.hotel_id, item.check_in.isoformat(), item.check_out.isoformat())
    nights = conn.execute(
        "SELECT day, rooms_left, price FROM hotel_nights "
        "WHERE hotel_id = ? AND day >= ? AND day < ? ORDER BY day",
        span,
    ).fetchall()
    if len(nights) != (item.check_out - item.check_in).days:
        raise ValueError(f"stay {item_id!r} is not inside the inventory window")
    full = [day for day, rooms_left, _ in nights if rooms_left < rooms]
    if full:
        raise SoldOut(
            f"{hotel[0]} ({item.hotel_id}) has fewer than {rooms} room(s) free on "
            f"{', '.join(full)}",
            item_id=item_id,
        )
    conn.execute(
        "UPDATE hotel_nights SET rooms_left = rooms_left - ? "
        "WHERE hotel_id = ? AND day >= ? AND day < ?",
        (rooms, *span),
    )
    taken = {"hotel_id": item.hotel_id, "days": [day for day, _, _ in nights], "count": rooms}
    description = (
        f"{hotel[0]}, {hotel[1]}: {len(nights)} night(s) from {item.check_in} to "
        f"{item.check_out}, {rooms} room(s)"
    )
    return taken, sum(price for _, _, price in nights) * rooms, description


def _take_car(
    conn: sqlite3.Connection, item: _CarItem, cars: int
) -> tuple[dict[str, Any], float, str]:
    item_id = f"{item.airport}:{item.car_class}:{item.pick_up}:{item.drop_off}"
    end = item.pick_up + timedelta(days=item.days)
    span = (item.airport, item.pick_up.isoformat(), end.isoformat(), item.car_class)
    days = conn.execute(
        "SELECT day, cars_left, price_per_day FROM car_days "
        "WHERE airport = ? AND day >= ? AND day < ? AND car_class = ? ORDER BY day",
        span,
    ).fetchall()
    if len(days) != item.days:
        raise ValueError(f"rental {item_id!r} is not inside the inventory window")
    short = [day for day, cars_left, _ in days if cars_left < cars]
    if short:
        raise SoldOut(
            f"fewer than {cars} {item.car_class} car(s) free at {item.airport} on "
            f"{', '.join(short)}",
            item_id=item_id,
        )
    conn.execute(
        "UPDATE car_days SET cars_left = cars_left - ? "
        "WHERE airport = ? AND day >= ? AND day < ? AND car_class = ?",
        (cars, *span),
    )
    taken = {
        "airport": item.airport,
        "car_class": item.car_class,
        "days": [day for day, _, _ in days],
        "count": cars,
    }
    description = (
        f"{cars} {item.car_class} car(s) at {item.airport}, {item.days} day(s) from "
        f"{item.pick_up} to {item.drop_off}"
    )
    return taken, sum(price for _, _, price in days) * cars, description


def _release(conn: sqlite3.Connection, kind: str, taken: dict[str, Any]) -> None:
    count = int(taken["count"])
    if kind == "flight":
        column = _SEAT_COLUMN[taken["cabin"]]
        conn.execute(
            f"UPDATE flight_instances SET {column} = {column} + ? "
            "WHERE schedule_id = ? AND day = ?",
            (count, taken["schedule_id"], taken["day"]),
        )
    elif kind == "hotel":
        conn.executemany(
            "UPDATE hotel_nights SET rooms_left = rooms_left + ? WHERE hotel_id = ? AND day = ?",
            [(count, taken["hotel_id"], day) for day in taken["days"]],
        )
    else:
        conn.executemany(
            "UPDATE car_days SET cars_left = cars_left + ? "
            "WHERE airport = ? AND day = ? AND car_class = ?",
            [(count, taken["airport"], day, taken["car_class"]) for day in taken["days"]],
        )


# Small helpers ----------------------------------------------------------------------------


def _new_ref(conn: sqlite3.Connection, kind: str, key: str) -> str:
    """A short reference derived from the key, so a replayed run gets the same one."""
    for attempt in range(100):
        digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
        code = "".join(_REF_ALPHABET[byte % len(_REF_ALPHABET)] for byte in digest[:6])
        ref = f"{_REF_PREFIX[kind]}-{code}"
        if conn.execute("SELECT 1 FROM bookings WHERE ref = ?", (ref,)).fetchone() is None:
            return ref
    raise RuntimeError(f"could not find a free booking reference for key {key!r}")


def _hotel_details(conn: sqlite3.Connection, item: _HotelItem) -> dict[str, Any]:
    name, city, tier = conn.execute(
        "SELECT name, city, tier FROM hotels WHERE id = ?", (item.hotel_id,)
    ).fetchone()
    return {
        "hotel_id": item.hotel_id,
        "name": name,
        "city": city,
        "tier": tier,
        "check_in": item.check_in.isoformat(),
        "check_out": item.check_out.isoformat(),
        "nights": (item.check_out - item.check_in).days,
        "rooms": item.rooms,
    }


def _car_details(item: _CarItem, cars: int, total: float) -> dict[str, Any]:
    return {
        "airport": item.airport,
        "car_class": item.car_class,
        "pick_up": item.pick_up.isoformat(),
        "drop_off": item.drop_off.isoformat(),
        "days": item.days,
        "cars": cars,
        "price_per_car": round(total / cars, 2),
    }


def _booking(row: tuple[Any, ...], inventory_id: str = "") -> Booking:
    ref, key, kind, item_id, quantity, total, status, thread_id, task_id, created, text = row[:11]
    details = json.loads(row[11]) if len(row) > 11 and row[11] else {}
    return Booking(
        ref=ref,
        key=key,
        kind=kind,
        item_id=item_id,
        quantity=quantity,
        total_price=total,
        status=status,
        thread_id=thread_id,
        task_id=task_id,
        created_at=created,
        description=text,
        details=details,
        inventory_id=inventory_id,
    )


def _check_choice(value: str, allowed: dict[str, _T], what: str) -> _T:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return allowed[value]


def _check_at_least(value: int, minimum: int, what: str) -> None:
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")


def _local(moment: datetime) -> str:
    """An aware moment as `2026-12-01 07:00 (UTC+09:00)`."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _rental_days(pick_up: date, drop_off: date) -> int:
    """Days charged for a rental: a same-day return still costs one day."""
    return max(1, (drop_off - pick_up).days)
