"""Input limits on a trip, the checkpoint store's target, and the inventory's identity."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from domains.travel.inventory import Inventory
from domains.travel.models import TripRequest
from domains.travel.request import TripInputError, build_trip, make_leg, parse_leg
from domains.travel.services import (
    INVENTORY_FILE,
    InventoryUnavailable,
    check_inventory_holds,
    thread_bookings,
)
from graph.persistence import StoreError, check_target, open_checkpointer

DAY = date(2027, 1, 10)


def legs(*routes: str) -> list[dict[str, object]]:
    return [
        {"origin": r[:3], "destination": r[4:], "date": DAY + timedelta(days=i)}
        for i, r in enumerate(routes)
    ]


@pytest.mark.parametrize("budget", [float("inf"), float("-inf"), float("nan"), 1e400])
def test_a_budget_is_finite(budget: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        TripRequest.model_validate({"legs": legs("SFO-CDG"), "budget": budget})
    with pytest.raises(TripInputError, match="finite"):
        build_trip(
            legs=[make_leg("SFO", "CDG", DAY)],
            travelers=1,
            budget=budget,
            cabin="economy",
            hotel_tier=3,
            car=False,
            car_class="compact",
            window=(DAY, DAY + timedelta(days=30)),
        )


def test_legs_connect_unless_the_trip_is_an_open_jaw_on_purpose() -> None:
    with pytest.raises(ValidationError, match="does not start where the previous leg"):
        TripRequest.model_validate({"legs": legs("SFO-JFK", "CDG-LHR")})
    trip = TripRequest.model_validate({"legs": legs("SFO-JFK", "CDG-LHR"), "open_jaw": True})
    assert trip.open_jaw
    assert TripRequest.model_validate({"legs": legs("SFO-JFK", "JFK-CDG", "CDG-SFO")})
    assert "open jaw" in (TripRequest.model_fields["open_jaw"].description or "")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: make_leg("SFOX", "CDG", DAY), "not an airport code"),
        (lambda: make_leg("SFO", "C1G", DAY), "not an airport code"),
        (lambda: parse_leg("SFO-JFK-CDG:2027-01-10"), "one leg per --leg"),
    ],
)
def test_airport_codes_and_legs_fail_as_one_line(make: object, message: str) -> None:
    with pytest.raises(TripInputError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "empty"),
        ("mysql://x", "unknown checkpoint store"),
        ("sqlite:///x.db", "unknown checkpoint store"),
        ("postgresql://", "names no server"),
        ("postgres://", "names no server"),
    ],
)
def test_unknown_or_empty_stores_are_refused(target: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        check_target(target)


@pytest.mark.parametrize(
    "target",
    ["runs.sqlite", "/tmp/x/runs.sqlite", "postgresql://u:pw@db:5432/x", "postgresql:///x"],
)
def test_file_paths_and_full_postgres_uris_are_stores(target: str) -> None:
    assert check_target(target) == target


async def test_a_damaged_checkpoint_file_is_one_error_and_no_thread_left_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "checkpoints.sqlite"
    path.write_bytes(b"\x00garbage" * 500)
    before = set(threading.enumerate())
    with pytest.raises(StoreError, match=f"{path}.*damaged"):
        async with open_checkpointer(str(path)):
            pass
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)  # a closed aiosqlite connection's thread ends by itself
        assert not thread.is_alive(), f"{thread.name} left running: the process would hang"


async def test_a_directory_is_not_a_checkpoint_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        async with open_checkpointer(str(tmp_path)):
            pass


def test_an_inventory_has_an_identity_that_survives_reopening(
    inventory_template: Path, tmp_path: Path
) -> None:
    first = tmp_path / "a" / INVENTORY_FILE
    first.parent.mkdir()
    shutil.copy(inventory_template, first)
    identity = Inventory(first).identity
    assert identity and Inventory(first).identity == identity

    # A file from before identities gets one on first open, and keeps it.
    with sqlite3.connect(first) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'inventory_id'")
    conn.close()
    given = Inventory(first).identity
    assert given and given != identity and Inventory(first).identity == given


def _state(*bookings: dict[str, object]) -> dict[str, object]:
    tasks = {f"b{i}": {"worker": "book", "result_ref": f"r{i}"} for i in range(len(bookings))}
    tasks["s"] = {"worker": "search_flights", "result_ref": "rs"}
    results: dict[str, object] = {
        f"r{i}": {"ok": True, "output": b} for i, b in enumerate(bookings)
    }
    results["rs"] = {"ok": True, "output": {"ref": "not a booking"}}
    return {"tasks": tasks, "results": results}


def test_a_threads_bookings_must_be_in_this_inventory(data_dir: Path) -> None:
    here = Inventory(data_dir / INVENTORY_FILE).identity
    mine = {"ref": "FL-1", "inventory_id": here}
    old = {"ref": "FL-2", "inventory_id": ""}  # recorded before bookings carried an identity
    other = {"ref": "FL-3", "inventory_id": "elsewhere"}
    assert [b["ref"] for b in thread_bookings(_state(mine, old))] == ["FL-1", "FL-2"]

    check_inventory_holds("t", [mine, old], str(data_dir))
    with pytest.raises(InventoryUnavailable, match="made in inventory elsewhere"):
        check_inventory_holds("t", [mine, other], str(data_dir))

    gone = data_dir.parent / "gone"
    with pytest.raises(InventoryUnavailable, match="no inventory at"):
        check_inventory_holds("t", [old], str(gone))
    with pytest.raises(InventoryUnavailable, match="missing"):
        check_inventory_holds("t", [], str(gone), searched=True)
    check_inventory_holds("t", [], str(gone))
    assert not gone.exists(), "checking never builds an inventory"
