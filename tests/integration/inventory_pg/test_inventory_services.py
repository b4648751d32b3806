"""`ORCHESTRATOR_INVENTORY=postgresql://...`: the app's inventory is the PostgreSQL one, a trip
through `build_graph` books in it (and nothing in the data directory), and what goes wrong is
one line without the password."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domains.travel import services
from domains.travel.domain import travel_domain
from domains.travel.inventory.postgres import PostgresInventory
from domains.travel.models import Leg, TripRequest
from domains.travel.services import (
    INVENTORY_FILE,
    InventoryUnavailable,
    check_inventory_holds,
    existing_inventory,
    inventory_at,
)
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.runner import drive, run_config

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_inventory(pg_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app pointed at the test database; the inventory `inventory_at` opened is closed."""
    monkeypatch.setenv("ORCHESTRATOR_INVENTORY", pg_uri)
    services._open_postgres.cache_clear()
    yield pg_uri
    if services._open_postgres.cache_info().currsize:
        opened = services._open_postgres(pg_uri)
        assert isinstance(opened, PostgresInventory)
        opened.close()
    services._open_postgres.cache_clear()


async def test_a_trip_through_the_graph_books_in_postgres(
    app_inventory: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    began = time.perf_counter()
    inventory = inventory_at(str(data_dir))  # seeds the full 365-day window on first use
    print(f"\nopened (seeded on first use) in {time.perf_counter() - began:.2f} s")
    assert isinstance(inventory, PostgresInventory)
    assert inventory_at(str(tmp_path / "elsewhere")) is inventory  # one per database
    start = inventory.window()[0] + timedelta(days=30)
    request = TripRequest(
        legs=[
            Leg(origin="SFO", destination="CDG", date=start),
            Leg(origin="CDG", destination="SFO", date=start + timedelta(days=4)),
        ],
        travelers=2,
    )
    context = Context(data_dir=str(data_dir), approval="ask", planner="rules")
    thread = "pg-trip-1"
    config = run_config(thread, context)

    async def approver(question: dict[str, Any]) -> dict[str, Any]:
        return {"decision": "approve"}

    async with open_checkpointer(str(tmp_path / "checkpoints.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        outcome = await drive(
            graph,
            {"goal": request.goal(), "request": request.model_dump(mode="json")},
            config=config,
            context=context,
            approver=approver,
        )
    values = outcome.values
    assert values["status"] == "completed", values["reason"]
    ledger = inventory.bookings_keyed(f"{thread}:{values['run_id']}:")
    live = [b for b in ledger if b.status == "confirmed"]
    data = values["answer"]["data"]
    shown = [item["booking"] for kind in ("legs", "hotels", "cars") for item in data[kind]]
    assert live and sorted(shown) == sorted(b.ref for b in live)
    assert data["booked_total"] == pytest.approx(sum(b.total_price for b in live))
    assert {b.ref for b in inventory.bookings(thread)} == {b.ref for b in ledger}
    assert {b.inventory_id for b in ledger} == {inventory.identity}
    flights = [b for b in live if b.kind == "flight"]
    assert len(flights) == 2 and all(b.quantity == 2 for b in flights)
    assert not (data_dir / INVENTORY_FILE).exists(), "nothing was booked in the SQLite file"
    check_inventory_holds(thread, [b.model_dump() for b in ledger], str(data_dir))
    with pytest.raises(InventoryUnavailable, match="restore the original database"):
        check_inventory_holds(thread, [{"ref": "FL-1", "inventory_id": "x"}], str(data_dir))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/tmp/inventory.sqlite", "must be a postgresql:// URI"),
        (
            "postgresql://orch:s3cret@127.0.0.1:1/nowhere?connect_timeout=2",
            "cannot use the inventory database at postgresql://orch:\\*\\*\\*@127.0.0.1:1",
        ),
    ],
)
def test_a_bad_setting_is_one_line_without_the_password(
    value: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_INVENTORY", value)
    for call in (inventory_at, existing_inventory):
        with pytest.raises(InventoryUnavailable, match=message) as raised:
            call(str(tmp_path))
        assert "\n" not in str(raised.value) and "s3cret" not in str(raised.value)
    assert not (tmp_path / INVENTORY_FILE).exists()
