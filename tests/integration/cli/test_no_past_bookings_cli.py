"""`orchestrator trip` never books the past, run as a person runs it: the real executable in a
subprocess, on the real clock, with `ORCHESTRATOR_HOME` as the data directory.

- An inventory built weeks ago still holds its first days, now past: a trip on them is refused in
  one line (exit 2) naming the dates that can be booked, and nothing is written.
- A trip departing today, from an airport where the day's best flight has already left, books a
  flight still to leave (the audit's JL210 case), whatever the time of day the test runs at: the
  airport is picked for the moment, and the subprocess's time zone (`TZ`) is that airport's, so
  `--depart +0` is today there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domains.travel.inventory import Inventory, clock
from domains.travel.models import FlightOption
from domains.travel.policy import choose_flight
from domains.travel.services import INVENTORY_FILE

BIN = Path(sys.executable).parent / "orchestrator"
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_", "TZ"))
}
BASE_ENV["LANGSMITH_TRACING"] = "false"
ZONEINFO = Path("/usr/share/zoneinfo")


def orchestrator(home: Path, zone: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env={**BASE_ENV, "ORCHESTRATOR_HOME": str(home), "TZ": zone},
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_trip_on_days_an_old_inventory_still_holds_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    home = tmp_path / "old"
    home.mkdir()
    today = datetime.now(UTC).date()
    start = today - timedelta(days=20)
    inventory = Inventory.open(home / INVENTORY_FILE, start=start, days=60)
    assert inventory.days_held() == (start, start + timedelta(days=59))
    files = sorted(p.name for p in home.iterdir())
    depart, back = today - timedelta(days=16), today - timedelta(days=11)

    done = orchestrator(
        home, "UTC", "trip", "--from", "SFO", "--to", "CDG",
        "--depart", depart.isoformat(), "--return", back.isoformat(), "--yes",
    )  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    # The window shown starts today (UTC here), not on the file's first day.
    expected = {
        f"error: {depart} is in the past, outside the inventory window: the inventory can book "
        f"from {day} to {start + timedelta(days=59)}"
        for day in (today, datetime.now(UTC).date())  # in case midnight passed meanwhile
    }
    assert len(lines) == 1 and lines[0] in expected, done.stderr
    assert sorted(p.name for p in home.iterdir()) == files, "a refused trip writes nothing"
    assert inventory.bookings() == []


def _departs(option: FlightOption) -> datetime:
    return datetime.fromisoformat(option.depart_local)


def _gone_route(
    inventory: Inventory, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, str, FlightOption]:
    """An airport where it is daytime now, and a route from it whose best flight today (by the
    planner's policy, over the whole day) left at least a minute ago while a later one leaves
    in 20 minutes or more: (zone, origin, destination, the flight gone)."""
    routes = sorted(inventory.served_routes())
    for airport in sorted(inventory.airports(), key=lambda a: a.code):
        local = now.astimezone(ZoneInfo(airport.tz))
        if not 9 <= local.hour < 22 or not (ZONEINFO / airport.tz).exists():
            continue
        midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        for origin, destination in routes:
            if origin != airport.code:
                continue
            with monkeypatch.context() as patched:  # at midnight: the whole day's schedule
                patched.setattr(clock, "now", lambda at=midnight: at)
                day = inventory.search_flights(origin, destination, local.date())
            best = choose_flight([o.model_dump() for o in day], 1)
            if best is None:
                continue
            gone = next(o for o in day if o.id == best["id"])
            later = [o for o in day if _departs(o) >= now + timedelta(minutes=20)]
            if _departs(gone) < now - timedelta(minutes=1) and later:
                return airport.tz, origin, destination, gone
    raise AssertionError(f"no daytime airport with a best flight gone at {now}")


def test_a_flight_that_left_today_is_not_booked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "today"
    home.mkdir()
    now = datetime.now(UTC)
    inventory = Inventory.open(home / INVENTORY_FILE, start=now.date() - timedelta(days=1), days=5)
    zone, origin, destination, gone = _gone_route(inventory, now, monkeypatch)
    local_today = now.astimezone(ZoneInfo(zone)).date()

    done = orchestrator(
        home, zone, "trip", "--from", origin, "--to", destination, "--depart", "+0",
        "--yes", "--json", "--thread", "today",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["status"] == "completed", result["reason"]
    flights = [b for b in inventory.bookings("today") if b.kind == "flight"]
    assert flights and all(b.status == "confirmed" for b in flights)
    for booking in flights:
        departs = datetime.fromisoformat(booking.details["depart_local"])
        assert departs >= now, f"{booking.description} had left at {now}"
    assert gone.flight_no not in {b.details["flight_no"] for b in flights}
    assert date.fromisoformat(flights[0].details["depart_local"][:10]) == local_today
