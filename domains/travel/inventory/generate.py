"""Builds the inventory database: a deterministic world of flights, hotels and rental cars.

Owns the schema and the generator. Randomness comes from one `random.Random` stream per entity (a
route, a flight, a hotel, an airport's car class), seeded with the seed and the entity's name. Every
day of the window draws a fixed number of values from that stream, in order of the day's offset
from the window start. So each value depends only on (seed, entity, day offset): the same offsets
give the same data whatever the start date, and a shorter window is a prefix of a longer one.

Flights keep one seat pool per cabin (economy, premium, business) on each dated flight, and one
economy fare; the other cabins cost a fixed multiple of it (`CABIN_MULTIPLIER`).
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import exp
from pathlib import Path
from zoneinfo import ZoneInfo

from domains.travel.inventory.airports import (
    AIRPORTS,
    CARRIERS,
    COORDINATES,
    EXTRA_ROUTES,
    HUBS,
    PRICE_LEVEL,
    great_circle_km,
)

SCHEMA_VERSION = "1"
IDENTITY_KEY = "inventory_id"
"""The `meta` key of the inventory's identity: a uuid made at build, new for every build."""
CABIN_MULTIPLIER: dict[str, float] = {"economy": 1.0, "premium": 1.8, "business": 3.5}
CAR_CLASSES: tuple[str, ...] = ("economy", "compact", "midsize", "suv", "luxury")

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE airports (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT NOT NULL COLLATE NOCASE,
    country TEXT NOT NULL,
    tz TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX airports_city ON airports (city);

-- One row per scheduled flight number; it flies every day of the window.
CREATE TABLE schedules (
    id INTEGER PRIMARY KEY,
    flight_no TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL REFERENCES airports (code),
    destination TEXT NOT NULL REFERENCES airports (code),
    depart_min INTEGER NOT NULL,  -- local time of day at the origin, minutes after midnight
    duration_min INTEGER NOT NULL,
    base_price REAL NOT NULL,     -- typical economy fare, USD
    capacity_economy INTEGER NOT NULL,
    capacity_premium INTEGER NOT NULL,
    capacity_business INTEGER NOT NULL
);
CREATE INDEX schedules_route ON schedules (origin, destination);

-- One row per flight per departure day (local date at the origin).
CREATE TABLE flight_instances (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id),
    day TEXT NOT NULL,
    price REAL NOT NULL,          -- economy fare that day, USD; other cabins are multiples
    seats_economy INTEGER NOT NULL CHECK (seats_economy >= 0),
    seats_premium INTEGER NOT NULL CHECK (seats_premium >= 0),
    seats_business INTEGER NOT NULL CHECK (seats_business >= 0),
    PRIMARY KEY (schedule_id, day)
) WITHOUT ROWID;

CREATE TABLE hotels (
    id TEXT PRIMARY KEY,
    city TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL,
    tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 5),
    description TEXT NOT NULL,
    rooms INTEGER NOT NULL        -- rooms the hotel sells through us on a normal night
) WITHOUT ROWID;
CREATE INDEX hotels_city ON hotels (city, tier);

CREATE TABLE hotel_nights (
    hotel_id TEXT NOT NULL REFERENCES hotels (id),
    day TEXT NOT NULL,
    rooms_left INTEGER NOT NULL CHECK (rooms_left >= 0),
    price REAL NOT NULL,          -- per room per night, USD
    PRIMARY KEY (hotel_id, day)
) WITHOUT ROWID;

CREATE TABLE car_days (
    airport TEXT NOT NULL REFERENCES airports (code),
    day TEXT NOT NULL,
    car_class TEXT NOT NULL,
    cars_left INTEGER NOT NULL CHECK (cars_left >= 0),
    price_per_day REAL NOT NULL,
    PRIMARY KEY (airport, day, car_class)
) WITHOUT ROWID;

CREATE TABLE bookings (
    ref TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,     -- idempotency key
    kind TEXT NOT NULL CHECK (kind IN ('flight', 'hotel', 'car')),
    item_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    total_price REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    thread_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    description TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',  -- JSON: every fact the itinerary states, at booking time
    taken TEXT NOT NULL           -- JSON: the inventory rows and counts to give back on cancel
);
CREATE INDEX bookings_created ON bookings (created_at);
CREATE INDEX bookings_thread ON bookings (thread_id, created_at);
"""

# Offsets are fixed as of a winter day so that a schedule does not depend on the window start.
_REFERENCE_MOMENT = datetime(2025, 1, 15, 12, 0)
_FIRST_DEPARTURE = 6 * 60
_LAST_DEPARTURE = 21 * 60 + 30
_RED_EYE_DEPARTURES = range(17 * 60, 24 * 60)

_HOTEL_RATE = {1: 60.0, 2: 95.0, 3: 150.0, 4: 240.0, 5: 420.0}
_CAR_FLEET = {"economy": 25, "compact": 25, "midsize": 20, "suv": 14, "luxury": 6}
_CAR_RATE = {"economy": 35.0, "compact": 44.0, "midsize": 58.0, "suv": 82.0, "luxury": 150.0}

_HOTEL_NAMES = {
    1: ("{city} Backpackers", "Budget Inn {city}", "EconoStay {city} Central", "Hostel One {city}"),
    2: ("Comfort Lodge {city}", "{city} Traveller Hotel", "CityRest {city}", "Hotel Metro {city}"),
    3: ("{city} Plaza Hotel", "Hotel Meridian {city}", "Parkside Hotel {city}", "The {city} Inn"),
    4: ("Grand Hotel {city}", "The {city} Regency", "Harbourview {city}", "Hotel Belmont {city}"),
    5: ("The Royal {city}", "{city} Palace", "The Ritzmore {city}", "Hotel Aurelia {city}"),
}  # fmt: skip
_HOTEL_KINDS = {
    1: "Budget hotel with shared lounges",
    2: "Simple two-star hotel",
    3: "Comfortable three-star hotel",
    4: "Upscale four-star hotel",
    5: "Five-star luxury hotel",
}
_HOTEL_PLACES = (
    "in the old town", "near the central station", "by the waterfront",
    "in the business district", "a short ride from the airport", "on a quiet residential street",
    "next to the main shopping street",
)  # fmt: skip
_HOTEL_PERKS = (
    "free breakfast", "a rooftop bar", "an indoor pool", "a 24-hour gym", "a spa",
    "airport shuttle", "late checkout", "a well-reviewed restaurant",
)  # fmt: skip


@dataclass(frozen=True)
class _Schedule:
    id: int
    flight_no: str
    origin: str
    destination: str
    depart_min: int
    duration_min: int
    base_price: float
    capacity: tuple[int, int, int]  # economy, premium, business

    def row(self) -> tuple[int | str | float, ...]:
        head = (self.id, self.flight_no, self.origin, self.destination, self.depart_min)
        return (*head, self.duration_min, self.base_price, *self.capacity)


@dataclass(frozen=True)
class _Hotel:
    id: str
    city: str
    name: str
    tier: int
    description: str
    rooms: int
    rate: float  # typical price per night, USD


def build_inventory(
    path: Path, *, start: date, days: int = 365, seed: int = 7, overwrite: bool = True
) -> None:
    """Create the inventory database at `path` for `days` days from `start`.

    The file is built under a temporary name in the same directory and then moved into place, so
    no process ever sees a half-built database. With `overwrite=False` an existing file (say, one
    another process finished first) is kept and this build is thrown away.
    """
    if days < 1:
        raise ValueError(f"an inventory needs at least one day, got days={days}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".building", dir=path.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        _write(temporary, start=start, days=days, seed=seed)
        if overwrite:
            os.replace(temporary, path)
        else:
            _publish_unless_exists(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _publish_unless_exists(temporary: Path, path: Path) -> None:
    # A hard link is an atomic "create if absent": the loser of a race gets FileExistsError and
    # keeps the winner's file, which may already hold bookings.
    try:
        os.link(temporary, path)
    except FileExistsError:
        return
    except OSError:
        # Some file systems have no hard links; a replace is still atomic, just not exclusive.
        if not path.exists():
            os.replace(temporary, path)


def _write(target: Path, *, start: date, days: int, seed: int) -> None:
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        # Nothing can read the file until it is moved into place, so skip the journal entirely.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        for table, width, rows in table_rows(start=start, days=days, seed=seed):
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)
        conn.execute("COMMIT")
        # WAL lets readers run while one booking writes; the mode is stored in the file.
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def table_rows(
    *, start: date, days: int, seed: int
) -> Iterator[tuple[str, int, Iterable[tuple[int | str | float, ...]]]]:
    """Every table's rows, as `(table, columns, rows)` in build order: the one generator both
    the SQLite build and the PostgreSQL one (`postgres.py`) load. Row iterators are lazy, so
    consume each before asking for the next table. `meta` comes first and holds a new identity.
    """
    day_names = [(start + timedelta(days=offset)).isoformat() for offset in range(days)]
    meta = {"start": start.isoformat(), "days": str(days), "seed": str(seed)}
    meta["schema_version"] = SCHEMA_VERSION
    meta[IDENTITY_KEY] = uuid.uuid4().hex
    yield "meta", 2, list(meta.items())
    yield (
        "airports",
        7,
        [
            (a.code, a.name, a.city, a.country, a.tz, *COORDINATES[a.code])
            for a in sorted(AIRPORTS, key=lambda a: a.code)
        ],
    )
    schedules = _schedules(seed)
    yield "schedules", 10, [s.row() for s in schedules]
    yield "flight_instances", 6, _flight_rows(schedules, day_names, seed)
    hotels = _hotels(seed)
    yield "hotels", 6, [(h.id, h.city, h.name, h.tier, h.description, h.rooms) for h in hotels]
    yield "hotel_nights", 4, _hotel_rows(hotels, day_names, seed)
    yield "car_days", 5, _car_rows(day_names, seed)


def _routes() -> list[tuple[str, str]]:
    """Directed routes: hub to hub, every airport to its nearest hubs, and some famous links."""
    city = {a.code: a.city for a in AIRPORTS}
    pairs: set[tuple[str, str]] = set()
    for a in HUBS:
        pairs.update((a, b) for b in HUBS if city[a] != city[b])
    for airport in AIRPORTS:
        if airport.code in HUBS:
            continue
        # Same-city hops and hops under 150 km are not flights anyone books.
        reachable = [
            hub
            for hub in HUBS
            if city[hub] != airport.city and great_circle_km(airport.code, hub) > 150
        ]
        reachable.sort(key=lambda hub: great_circle_km(airport.code, hub))
        for hub in reachable[:3]:
            pairs.update({(airport.code, hub), (hub, airport.code)})
    for a, b in EXTRA_ROUTES:
        pairs.update({(a, b), (b, a)})
    return sorted(pairs)


def _fare(km: float) -> float:
    """A typical one-way economy fare in USD: dear per km on short hops, cheaper on long hauls."""
    return 40 + 0.16 * min(km, 1500) + 0.08 * max(km - 1500, 0)


def _block_minutes(origin: str, destination: str, km: float) -> int:
    # Taxi, climb and descent, then cruise at about 820 km/h; the jet stream helps eastbound.
    east = (COORDINATES[destination][1] - COORDINATES[origin][1]) % 360 < 180
    return round((35 + km / 820 * 60) * (0.96 if east else 1.05))


def _utc_offset_min(tz: str) -> int:
    offset = ZoneInfo(tz).utcoffset(_REFERENCE_MOMENT)
    assert offset is not None
    return int(offset.total_seconds()) // 60


def _schedules(seed: int) -> list[_Schedule]:
    by_code = {a.code: a for a in AIRPORTS}
    next_number: dict[str, int] = {}
    schedules: list[_Schedule] = []
    for origin, destination in _routes():
        rng = random.Random(f"{seed}:route:{origin}-{destination}")
        km = great_circle_km(origin, destination)
        block = _block_minutes(origin, destination, km)
        count = rng.randint(3, 5)
        # One departure in each equal slice of the day, so they spread from morning to night.
        span = (_LAST_DEPARTURE - _FIRST_DEPARTURE) / count
        departs = [
            _FIRST_DEPARTURE + int(span * i + rng.random() * (span - 30)) // 5 * 5
            for i in range(count)
        ]
        red_eye_slot = _red_eye_departure(rng, by_code[origin].tz, by_code[destination].tz, block)
        if block >= 240 and red_eye_slot is not None and red_eye_slot not in departs:
            departs[-1] = red_eye_slot
        seats = 150 if km < 1500 else 210 if km < 5000 else 290
        carriers = CARRIERS[by_code[origin].country]
        for depart in departs:
            carrier = rng.choice(carriers)
            number = next_number.get(carrier, 100 + rng.randrange(20))
            next_number[carrier] = number + rng.randint(1, 7)
            total = seats + rng.randrange(-20, 41)
            capacity = (round(total * 0.82), round(total * 0.1), round(total * 0.08))
            factor = 0.9 + 0.3 * rng.random()
            if depart == red_eye_slot:
                factor *= 0.85  # red-eyes are the cheap seats
            schedules.append(
                _Schedule(
                    id=len(schedules) + 1,
                    flight_no=f"{carrier}{number}",
                    origin=origin,
                    destination=destination,
                    depart_min=depart,
                    duration_min=block + 5 * rng.randrange(-2, 3),
                    base_price=round(_fare(km) * factor),
                    capacity=capacity,
                )
            )
    return schedules


def _red_eye_departure(rng: random.Random, origin_tz: str, dest_tz: str, block: int) -> int | None:
    """An evening departure that lands around 04:00-05:30 local, if the route allows one."""
    arrive = 240 + 5 * rng.randrange(19)
    depart = (arrive - _utc_offset_min(dest_tz) + _utc_offset_min(origin_tz) - block) % 1440
    return depart if depart in _RED_EYE_DEPARTURES else None


def _flight_rows(
    schedules: Iterable[_Schedule], day_names: list[str], seed: int
) -> Iterator[tuple[int, str, float, int, int, int]]:
    # Fares rise and planes fill up as departure gets close.
    closeness = [exp(-offset / 10) for offset in range(len(day_names))]
    demand = [0.3 + 0.25 * near for near in closeness]
    surcharge = [1 + 0.35 * near for near in closeness]
    for s in schedules:
        rnd = random.Random(f"{seed}:flight:{s.flight_no}").random
        economy, premium, business = s.capacity
        base = s.base_price
        for offset, day in enumerate(day_names):
            a, b, c, d, e = rnd(), rnd(), rnd(), rnd(), rnd()
            load = demand[offset] + 0.55 * a
            if load > 1.0:
                load = 1.0
            # One flight in thirty is nearly sold out in economy.
            economy_left = int(c * 4) if b < 0.03 else int(economy * (1 - load))
            price = round(base * (0.8 + 0.45 * e) * surcharge[offset] * (0.8 + load))
            premium_left = int(premium * (1 - load) * (0.5 + c))
            yield (
                s.id,
                day,
                float(price),
                economy_left,
                premium_left,
                int(business * d * (1.2 - load)),
            )


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _hotels(seed: int) -> list[_Hotel]:
    airports_per_city: dict[str, int] = {}
    for airport in AIRPORTS:
        airports_per_city[airport.city] = airports_per_city.get(airport.city, 0) + 1
    hotels: list[_Hotel] = []
    for city, airports in sorted(airports_per_city.items()):
        rng = random.Random(f"{seed}:hotels:{city}")
        # Every city has every tier; cities big enough for several airports get more mid-range.
        tiers = (1, 2, 2, 3, 3, 4, 4, 5) if airports > 1 else (1, 2, 3, 3, 4, 5)
        names_left = {tier: list(names) for tier, names in _HOTEL_NAMES.items()}
        for number, tier in enumerate(tiers, start=1):
            template = names_left[tier].pop(rng.randrange(len(names_left[tier])))
            description = (
                f"{_HOTEL_KINDS[tier]} {rng.choice(_HOTEL_PLACES)}, "
                f"with {rng.choice(_HOTEL_PERKS)}."
            )
            rate = _HOTEL_RATE[tier] * PRICE_LEVEL.get(city, 1.0) * (0.85 + 0.35 * rng.random())
            hotels.append(
                _Hotel(
                    id=f"{_slug(city)}-{number}",
                    city=city,
                    name=template.format(city=city),
                    tier=tier,
                    description=description,
                    rooms=rng.randint(10, 40),
                    rate=rate,
                )
            )
    return sorted(hotels, key=lambda h: h.id)


def _hotel_rows(
    hotels: Iterable[_Hotel], day_names: list[str], seed: int
) -> Iterator[tuple[str, str, int, float]]:
    closeness = [exp(-offset / 7) for offset in range(len(day_names))]
    for h in hotels:
        rnd = random.Random(f"{seed}:hotel:{h.id}").random
        for offset, day in enumerate(day_names):
            a, b, c = rnd(), rnd(), rnd()
            rooms_left = int(h.rooms * (0.25 + 0.75 * a))
            if b < 0.03:
                rooms_left = 0  # fully booked that night
            elif b < 0.07:
                rooms_left = min(rooms_left, 1 + int(c * 2))
            busy = 1 + 0.2 * (1 - a)  # the fuller the hotel, the dearer the room
            price = h.rate * (0.85 + 0.4 * c) * (1 + 0.15 * closeness[offset]) * busy
            yield h.id, day, rooms_left, float(round(price))


def _car_rows(day_names: list[str], seed: int) -> Iterator[tuple[str, str, str, int, float]]:
    # Rows go out in primary-key order (airport, day, class): one stream per airport and class.
    for airport in sorted(AIRPORTS, key=lambda a: a.code):
        level = PRICE_LEVEL.get(airport.city, 1.0)
        classes = sorted(CAR_CLASSES)
        streams = [random.Random(f"{seed}:car:{airport.code}:{k}").random for k in classes]
        for day in day_names:
            for car_class, rnd in zip(classes, streams, strict=True):
                a, b, c = rnd(), rnd(), rnd()
                cars_left = 0 if b < 0.02 else int(_CAR_FLEET[car_class] * (0.1 + 0.9 * a))
                price = _CAR_RATE[car_class] * level * (0.85 + 0.35 * c) * (1.15 - 0.3 * a)
                yield airport.code, day, car_class, cars_left, float(round(price, 2))
