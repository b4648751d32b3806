"""The `orchestrator` CLI: bad input fails fast, in one line, writing nothing; --json is clean."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from orchestrator.cli import main

BIN = Path(sys.executable).parent / "orchestrator"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "SFO", "--to", "XXX", "--depart", "{d}"], "unknown airport 'XXX'"),
        (
            ["--from", "SFO", "--to", "CDG", "--depart", "{d}", "--return", "{before}"],
            "before --depart",
        ),
        (
            ["--from", "SFO", "--to", "CDG", "--depart", "2001-01-01"],
            "outside the inventory window",
        ),
        (["--from", "SFO", "--to", "CDG", "--depart", "{d}", "--travelers", "0"], "at least 1"),
        (
            ["--from", "SFO", "--to", "CDG", "--depart", "{d}", "--budget", "-5"],
            "cannot be negative",
        ),
        (["--from", "SFO", "--to", "CDG", "--depart", "10/01/2027"], "use YYYY-MM-DD"),
        (["--leg", "SFO-CDG"], "FROM-TO:DATE"),
        (["--from", "SFO"], "say where and when"),
    ],
)
def test_bad_trip_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    data_dir = tmp_path / "fresh"

    d = date.today() + timedelta(days=30)
    filled = [a.format(d=d, before=d - timedelta(days=2)) for a in args]

    code = main(["trip", *filled, "--data-dir", str(data_dir), "--yes"])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not data_dir.exists(), "bad input must not create the data directory"


def test_trip_json_prints_itinerary_and_status_on_stdout(
    data_dir: Path, inventory: Inventory
) -> None:
    start = inventory.window()[0] + timedelta(days=40)
    proc = subprocess.run(
        [
            str(BIN),
            "trip",
            "--from",
            "SFO",
            "--to",
            "CDG",
            "--depart",
            start.isoformat(),
            "--return",
            (start + timedelta(days=4)).isoformat(),
            "--travelers",
            "2",
            "--budget",
            "9000",
            "--car",
            "--yes",
            "--json",
            "--thread",
            "cli-1",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # stdout holds nothing but the JSON document
    assert result["status"] == "completed" and result["thread_id"] == "cli-1"
    itinerary = result["itinerary"]
    assert [leg["origin"] for leg in itinerary["legs"]] == ["SFO", "CDG"]
    assert itinerary["booked_total"] <= 9000
    assert "round 1" in proc.stderr  # progress went to stderr

    listed = subprocess.run(
        [str(BIN), "bookings", "--thread", "cli-1", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    bookings = json.loads(listed.stdout)
    assert {b["kind"] for b in bookings} == {"flight", "hotel", "car"}
    assert all(b["thread_id"] == "cli-1" and b["status"] == "confirmed" for b in bookings)


def test_resume_of_unknown_thread_exits_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["resume", "no-such-thread", "--data-dir", str(data_dir)])
    assert code == 2
    assert "no run named 'no-such-thread'" in capsys.readouterr().err
