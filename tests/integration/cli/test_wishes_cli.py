"""`orchestrator trip --car-at / --hotel-at`: wishes per city from the command line, in a
subprocess; the ledger holds exactly what was asked, and a bad wish is one line with nothing
written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from tests.integration.cli.test_connection_cli import cli


def _data_dir(tmp_path: Path, inventory_template: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(inventory_template, data_dir / INVENTORY_FILE)
    return data_dir


def test_a_car_count_and_a_hotel_tier_in_one_city_are_booked_as_asked(
    tmp_path: Path, inventory_template: Path
) -> None:
    data_dir = _data_dir(tmp_path, inventory_template)
    run = cli(
        "trip", "--leg", "SFO-CDG:+30", "--leg", "CDG-FCO:+33", "--leg", "FCO-SFO:+36",
        "--travelers", "3", "--car-at", "FCO:2", "--hotel-at", "CDG:none",
        "--yes", "--json", "--thread", "wishes", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["status"] == "completed", result["reason"]
    live = [
        b
        for b in Inventory(data_dir / INVENTORY_FILE).bookings("wishes")
        if b.status == "confirmed"
    ]
    cars = [b for b in live if b.kind == "car"]
    hotels = [b for b in live if b.kind == "hotel"]
    assert [(c.details["airport"], c.quantity) for c in cars] == [("FCO", 2)], "two cars, Rome only"
    assert [h.details["city"] for h in hotels] == ["Rome"], "no hotel in Paris, as asked"


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--car-at", "CDG:bus"], "use AIRPORT[:CLASS][:COUNT]"),
        (["--hotel-at", "CDG:7"], "use AIRPORT:TIER (1-5) or AIRPORT:none"),
        (["--car-at", "XYZ"], "unknown airport 'XYZ'"),
        (["--car-at", "FCO"], "the trip does not stay in Rome"),
        (["--car", "--car-at", "CDG"], "use either --car"),
    ],
)
def test_a_bad_wish_is_one_line_and_writes_nothing(
    tmp_path: Path, inventory_template: Path, flags: list[str], says: str
) -> None:
    data_dir = _data_dir(tmp_path, inventory_template)
    before = sorted(p.name for p in data_dir.iterdir())
    run = cli(
        "trip", "--from", "SFO", "--to", "CDG", "--depart", "+30", "--return", "+35",
        *flags, "--yes", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and says in lines[0], run.stderr
    assert sorted(p.name for p in data_dir.iterdir()) == before, "nothing written"


def test_a_car_where_a_one_way_trip_ends_is_one_line_and_writes_nothing(
    tmp_path: Path, inventory_template: Path
) -> None:
    """A one-way trip ends in Barcelona: it never stays there, so no car can be wished there."""
    data_dir = _data_dir(tmp_path, inventory_template)
    before = sorted(p.name for p in data_dir.iterdir())
    run = cli(
        "trip", "--from", "ORD", "--to", "BCN", "--depart", "+30", "--car-at", "BCN:1",
        "--yes", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    assert "the trip does not stay in Barcelona (BCN)" in lines[0], run.stderr
    assert "it has a single leg, so it stays nowhere" in lines[0], run.stderr
    assert sorted(p.name for p in data_dir.iterdir()) == before, "nothing written"
