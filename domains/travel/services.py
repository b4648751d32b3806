"""Where travel workers get their inventory: one `Inventory` per data directory, opened lazily."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from domains.travel.inventory import Inventory
from orchestrator.workers import TaskFailed, WorkerCall

T = TypeVar("T")
INVENTORY_FILE = "inventory.sqlite"


_opening = threading.Lock()


def inventory_at(data_dir: str) -> Inventory:
    """The inventory database in `data_dir`, created on first use (deterministic from a seed).

    Parallel workers of one process share one build: the lock keeps them from each building it.
    """
    with _opening:
        return _open(data_dir)


@lru_cache(maxsize=8)
def _open(data_dir: str) -> Inventory:
    return Inventory.open(Path(data_dir) / INVENTORY_FILE)


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
