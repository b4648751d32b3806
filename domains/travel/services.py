"""Where travel workers get their inventory: one `Inventory` per data directory, opened lazily.

An inventory that cannot be opened (damaged, truncated, unreadable, or a data directory that
cannot hold one) raises `InventoryUnavailable`, whose one-line message names the file and says
what to do.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from domains.travel.inventory import Inventory
from orchestrator.workers import TaskFailed, WorkerCall

T = TypeVar("T")
INVENTORY_FILE = "inventory.sqlite"
BOOK_WORKER = "book"


class InventoryUnavailable(Exception):
    """The inventory database cannot be used; the message names it and says what to do."""


_opening = threading.Lock()


def inventory_path(data_dir: str) -> Path:
    return Path(data_dir) / INVENTORY_FILE


def inventory_at(data_dir: str) -> Inventory:
    """The inventory database in `data_dir`, created on first use (deterministic from a seed).

    Parallel workers of one process share one build: the lock keeps them from each building it.
    """
    with _opening:
        return _open(data_dir)


def existing_inventory(data_dir: str) -> Inventory | None:
    """The inventory in `data_dir` if there is one; never builds a new one."""
    if not inventory_path(data_dir).exists():
        return None
    return inventory_at(data_dir)


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
    path = inventory_path(data_dir)
    where = "point ORCHESTRATOR_HOME or --data-dir at the directory that holds it"
    if not made:
        if searched and not path.exists():
            raise InventoryUnavailable(
                f"thread {thread_id} planned with the inventory at {path}, which is missing: "
                f"restore that file, or {where}; or plan afresh with a new trip"
            )
        return
    if not path.exists():
        raise InventoryUnavailable(
            f"thread {thread_id} holds {len(made)} booking(s) but there is no inventory at "
            f"{path}: restore that file, or {where} (a new inventory would not know them)"
        )
    identity = inventory_at(data_dir).identity
    others = sorted({str(b["inventory_id"]) for b in made if b.get("inventory_id")} - {identity})
    if others:
        raise InventoryUnavailable(
            f"thread {thread_id}'s bookings were made in inventory {', '.join(others)}, but "
            f"{path} is inventory {identity}: restore the original file, or {where}"
        )


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
