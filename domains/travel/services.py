"""Where travel workers get their inventory: one `Inventory` per data directory, opened lazily.

By default the inventory is the SQLite file in the data directory. With `ORCHESTRATOR_INVENTORY`
set to a `postgresql://` URI it is the `PostgresInventory` in that database instead (whatever the
data directory), created and seeded on first use: for processes on several hosts.

An inventory that cannot be opened (damaged, truncated, unreadable, or a data directory that
cannot hold one; an unreachable database) raises `InventoryUnavailable`, whose one-line message
names the file or the database (never its password) and says what to do.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from domains.travel.inventory import Inventory
from orchestrator.domain import StorageUnavailable
from orchestrator.workers import TaskFailed, WorkerCall

T = TypeVar("T")
INVENTORY_FILE = "inventory.sqlite"
INVENTORY_ENV = "ORCHESTRATOR_INVENTORY"
"""A `postgresql://` URI: keep the inventory and its bookings in that database, not the file."""
BOOK_WORKER = "book"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class InventoryUnavailable(StorageUnavailable):
    """The inventory database cannot be used; the message names it and says what to do."""


_opening = threading.Lock()


def inventory_path(data_dir: str) -> Path:
    return Path(data_dir) / INVENTORY_FILE


def postgres_inventory_uri() -> str | None:
    """The PostgreSQL URI in `ORCHESTRATOR_INVENTORY`, or None for the SQLite default."""
    value = os.environ.get(INVENTORY_ENV, "").strip()
    if not value:
        return None
    if not value.startswith(_POSTGRES_SCHEMES):
        raise InventoryUnavailable(
            f"{INVENTORY_ENV} must be a postgresql:// URI (got {_shown(value)}): set it to the "
            "database that holds the bookings, or unset it for the SQLite file in the data "
            "directory"
        )
    return value


def inventory_at(data_dir: str) -> Inventory:
    """The inventory database in `data_dir` (or in `ORCHESTRATOR_INVENTORY`'s PostgreSQL),
    created on first use (deterministic from a seed).

    Parallel workers of one process share one build: the lock keeps them from each building it.
    """
    uri = postgres_inventory_uri()
    with _opening:
        return _open(data_dir) if uri is None else _open_postgres(uri)


def existing_inventory(data_dir: str) -> Inventory | None:
    """The inventory in `data_dir` if there is one; never builds a new one."""
    if not inventory_exists(data_dir):
        return None
    return inventory_at(data_dir)


def inventory_exists(data_dir: str) -> bool:
    """Whether the inventory `inventory_at` would open already exists (never builds one)."""
    uri = postgres_inventory_uri()
    if uri is None:
        return inventory_path(data_dir).exists()
    from domains.travel.inventory.postgres import inventory_exists as seeded

    try:
        return seeded(uri)
    except Exception as exc:  # psycopg.Error, or a malformed URI
        raise InventoryUnavailable(_describe_postgres(uri, exc)) from None


def inventory_location(data_dir: str) -> str:
    """Where the inventory is, as messages name it: the file, or the database without password."""
    uri = postgres_inventory_uri()
    return str(inventory_path(data_dir)) if uri is None else _shown(uri)


@lru_cache(maxsize=8)
def _open(data_dir: str) -> Inventory:
    path = inventory_path(data_dir)
    try:
        return Inventory.open(path)
    except sqlite3.Error as exc:
        raise InventoryUnavailable(_describe(path, exc)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InventoryUnavailable(
            f"cannot create or open the inventory database {path} ({reason}): point "
            "ORCHESTRATOR_HOME or --data-dir at a writable directory"
        ) from None
    except (KeyError, ValueError) as exc:  # a database, but not an inventory
        raise InventoryUnavailable(_describe(path, exc)) from None


@lru_cache(maxsize=8)
def _open_postgres(uri: str) -> Inventory:
    from domains.travel.inventory.postgres import PostgresInventory

    try:
        return PostgresInventory.open(uri)
    except Exception as exc:  # psycopg.Error, a malformed URI, or a schema that is not ours
        raise InventoryUnavailable(_describe_postgres(uri, exc)) from None


def _shown(uri: str) -> str:
    from orchestrator.redact import redact_url

    return redact_url(uri)


def _describe_postgres(uri: str, exc: BaseException) -> str:
    from orchestrator.redact import redact_text

    text = redact_text(str(exc).strip())
    reason = text.splitlines()[0] if text else type(exc).__name__
    return (
        f"cannot use the inventory database at {_shown(uri)} ({reason}): start PostgreSQL or "
        f"point {INVENTORY_ENV} at a reachable database you may create tables in (unset it "
        "for the SQLite file in the data directory)"
    )


def _describe(path: Path, exc: BaseException) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = reason.lower()
    if any(s in lowered for s in ("readonly", "read-only", "unable to open", "permission")):
        advice = "make it and its directory writable"
    else:
        advice = (
            "it is damaged or not an inventory: restore it from a backup, or point "
            "ORCHESTRATOR_HOME or --data-dir at the directory that holds the right one"
        )
    return f"cannot use the inventory database {path} ({reason}): {advice}"


def thread_bookings(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bookings a run's state records: the outputs of its `book` tasks' latest results."""
    tasks: Mapping[str, Any] = values.get("tasks") or {}
    results: Mapping[str, Any] = values.get("results") or {}
    found: list[dict[str, Any]] = []
    for task in tasks.values():
        if task.get("worker") != BOOK_WORKER or not task.get("result_ref"):
            continue
        result = results.get(task["result_ref"]) or {}
        output = result.get("output")
        if result.get("ok", True) and isinstance(output, dict) and output.get("ref"):
            found.append(output)
    return found


def check_inventory_holds(
    thread_id: str,
    bookings: Iterable[Mapping[str, Any]],
    data_dir: str,
    *,
    searched: bool = False,
) -> None:
    """Raises `InventoryUnavailable` unless `data_dir`'s inventory is the one `bookings` were
    made in. Never builds an inventory: a new one would not know them.

    A booking without an `inventory_id` (recorded before bookings carried one) is not held
    against any inventory, except that a missing file is always refused. With `searched` (the
    run has worker results, so it is about to book what an inventory offered) a missing file is
    refused even before any booking.
    """
    made = list(bookings)
    path = inventory_location(data_dir)
    if postgres_inventory_uri() is None:
        where = "point ORCHESTRATOR_HOME or --data-dir at the directory that holds it"
        restore = "restore that file"
    else:
        where = f"point {INVENTORY_ENV} at the database that holds it"
        restore = "restore that database"
    if not made:
        if searched and not inventory_exists(data_dir):
            raise InventoryUnavailable(
                f"thread {thread_id} planned with the inventory at {path}, which is missing: "
                f"{restore}, or {where}; or plan afresh with a new trip"
            )
        return
    if not inventory_exists(data_dir):
        raise InventoryUnavailable(
            f"thread {thread_id} holds {len(made)} booking(s) but there is no inventory at "
            f"{path}: {restore}, or {where} (a new inventory would not know them)"
        )
    identity = inventory_at(data_dir).identity
    others = sorted({str(b["inventory_id"]) for b in made if b.get("inventory_id")} - {identity})
    if others:
        original = "file" if postgres_inventory_uri() is None else "database"
        raise InventoryUnavailable(
            f"thread {thread_id}'s bookings were made in inventory {', '.join(others)}, but "
            f"{path} is inventory {identity}: restore the original {original}, or {where}"
        )


def check_thread_storage(
    thread_id: str, values: Mapping[str, Any], data_dir: str, *, resuming: bool
) -> None:
    """The travel domain's `check_thread`: `check_inventory_holds` for the bookings a thread's
    state records; when `resuming` a run that already searched, a missing inventory is refused
    too, rather than continued (and booked) in a freshly built one."""
    searched = resuming and bool(values.get("results"))
    check_inventory_holds(thread_id, thread_bookings(values), data_dir, searched=searched)


async def with_inventory(call: WorkerCall, work: Callable[[Inventory], T]) -> T:
    """Runs blocking inventory work off the event loop, so parallel workers stay parallel.

    The inventory raises `ValueError` for what cannot exist (an unknown airport or city, a
    malformed option id): that is the task's verdict, not a fault worth retrying.
    """
    inventory = await asyncio.to_thread(inventory_at, call.context.data_dir)
    try:
        return await asyncio.to_thread(work, inventory)
    except ValueError as exc:
        raise TaskFailed(str(exc)) from exc
