"""A PostgreSQL database of its own for the inventory tests, dropped at the end of the session.

Inventories are seeded with a 50-day window (the same `days` the SQLite build takes), each in a
schema of its own, so a test that books never sees another test's bookings.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from domains.travel.inventory import Inventory, build_inventory
from domains.travel.inventory.postgres import PostgresInventory, build_postgres_inventory
from tests.postgres import require_postgres

START = date(2030, 1, 7)  # as tests/unit/travel/test_inventory.py, whose cases run here too
DAYS = 50  # covers its DAY (START + 40) and the stays that follow it
SEEDING: dict[str, float] = {}


def with_database(uri: str, database: str) -> str:
    return urlunsplit(urlsplit(uri)._replace(path="/" + database))


@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
    """A new database `orch_inv_test_<random>` on the test server; dropped afterwards."""
    admin = require_postgres()
    name = f"orch_inv_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if SEEDING:
            print("\nPostgreSQL inventory seeding: " + ", ".join(
                f"{what} {seconds:.2f} s" for what, seconds in SEEDING.items()
            ))  # fmt: skip


def new_schema() -> str:
    return f"inv_{uuid.uuid4().hex[:12]}"


def seed(uri: str, schema: str, *, days: int = DAYS) -> PostgresInventory:
    began = time.perf_counter()
    build_postgres_inventory(uri, start=START, days=days, schema=schema)
    SEEDING.setdefault(f"{days} days", time.perf_counter() - began)
    return PostgresInventory(uri, schema=schema)


def drop_schema(uri: str, schema: str) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="session")
def pg_shared(pg_uri: str) -> Iterator[PostgresInventory]:
    """One seeded inventory for tests that only read."""
    inventory = seed(pg_uri, "shared")
    yield inventory
    inventory.close()


@pytest.fixture
def pg_fresh(pg_uri: str) -> Iterator[PostgresInventory]:
    """A private, newly seeded inventory for a test that books or changes inventory."""
    schema = new_schema()
    inventory = seed(pg_uri, schema)
    yield inventory
    inventory.close()
    drop_schema(pg_uri, schema)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inventory-50d") / "inventory.db"
    build_inventory(path, start=START, days=DAYS, seed=7)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Inventory]:
    """A fresh inventory of each kind: the same cases must hold for both."""
    if request.param == "sqlite":
        copy = tmp_path / "inventory.db"
        shutil.copyfile(sqlite_template, copy)
        yield Inventory(copy)
    else:
        yield request.getfixturevalue("pg_fresh")
