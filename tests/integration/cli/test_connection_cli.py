"""`orchestrator trip` on a route that is not served: the offline planner books it as a one-stop
connection, in a subprocess, and the ledger holds each flight as its own booking."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from domains.travel.inventory import Inventory
from domains.travel.models import Booking
from domains.travel.policy import connects
from domains.travel.services import INVENTORY_FILE

BIN = Path(sys.executable).parent / "orchestrator"
ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_", "COLUMNS"))
}
ENV["LANGSMITH_TRACING"] = "false"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_an_unserved_route_is_booked_as_a_connection_through_the_cli(
    tmp_path: Path, inventory_template: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(inventory_template, data_dir / INVENTORY_FILE)
    inventory = Inventory(data_dir / INVENTORY_FILE)
    out = date.today() + timedelta(days=30)
    assert not inventory.search_flights("ORD", "BCN", out, include_full=True), "served now?"
    d = ["--data-dir", str(data_dir)]

    run = cli(
        "trip", "--from", "ORD", "--to", "BCN", "--depart", "+30", "--return", "+34",
        "--travelers", "2", "--yes", "--json", "--thread", "via-hub", *d,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["status"] == "completed", result["reason"]
    listed = cli("bookings", "via-hub", "--json", *d)
    assert listed.returncode == 0, listed.stderr
    ledger = [Booking.model_validate(b) for b in json.loads(listed.stdout)]
    flights = {b.task_id: b for b in ledger if b.kind == "flight" and b.status == "confirmed"}
    assert sorted(flights) == [
        "book-flight-1a",
        "book-flight-1b",
        "book-flight-2a",
        "book-flight-2b",
    ]
    first, second = flights["book-flight-1a"].details, flights["book-flight-1b"].details
    assert (first["origin"], first["destination"]) == ("ORD", second["origin"])
    assert second["destination"] == "BCN" and connects(first, second)
    assert all(b.quantity == 2 for b in flights.values())
    connections = result["itinerary"]["connections"]
    assert [c["bookings"] for c in connections] == [
        [flights["book-flight-1a"].ref, flights["book-flight-1b"].ref],
        [flights["book-flight-2a"].ref, flights["book-flight-2b"].ref],
    ]
