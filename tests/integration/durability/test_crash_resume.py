"""SIGKILL the CLI at random moments across trips, resume each time, then audit everything.

Kills are placed by progress rather than by clock: each process is killed after a random number
of its own progress lines plus a random few milliseconds, so they land in every phase of a trip
(planning, searches, the approval, bookings, synthesis) instead of mostly during start-up.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from graph.persistence import open_checkpointer

BIN = Path(sys.executable).parent / "orchestrator"
KILLS = 12


def _trip_args(inventory: Inventory, n: int) -> list[str]:
    start = inventory.window()[0] + timedelta(days=50 + 3 * n)
    return [
        "--leg",
        f"SFO-JFK:{start}",
        "--leg",
        f"JFK-CDG:{start + timedelta(days=3)}",
        "--leg",
        f"CDG-SFO:{start + timedelta(days=6)}",
        "--travelers",
        "2",
        "--car",
    ]


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _run_and_kill(cmd: list[str], lines: int, rng: random.Random) -> str | None:
    """Kills the run after `lines` lines of its progress and says where; None if it ended first."""
    with _start(cmd) as proc:
        assert proc.stderr is not None
        seen, last = 0, "start-up"
        while seen < lines:
            line = proc.stderr.readline()
            if not line:
                break
            seen, last = seen + 1, line.strip()
        time.sleep(rng.uniform(0, 0.03))
        if proc.poll() is not None:
            proc.communicate(timeout=30)
            return None
        proc.kill()  # SIGKILL: no cleanup, no flush, no goodbye
        proc.communicate(timeout=30)
        return last


def _finish(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_books_everything_exactly_once(
    data_dir: Path, inventory: Inventory, inventory_template: Path, checkpointer_target: str
) -> None:
    rng = random.Random(1234)
    common = ["--yes", "--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    threads: list[str] = []
    kill_points: list[str] = []
    while len(kill_points) < KILLS:
        thread = f"crash-{uuid.uuid4().hex[:8]}"
        threads.append(thread)
        start = [
            str(BIN),
            "trip",
            *_trip_args(inventory, len(threads)),
            "--thread",
            thread,
            *common,
        ]
        resume = [str(BIN), "resume", thread, *common]
        started = False
        for _ in range(8):  # several kills per trip, each at a random point
            killed_at = _run_and_kill(resume if started else start, rng.randint(1, 14), rng)
            started = started or _has_checkpoints(thread, checkpointer_target)
            if killed_at is None:
                break
            kill_points.append(killed_at)
        outcome = _finish(resume if started else start)
        if outcome.returncode == 2 and "no run named" in outcome.stderr:
            outcome = _finish(start)
        assert outcome.returncode == 0, outcome.stderr[-2000:]

    phases = {_phase(p) for p in kill_points}
    assert len(phases) >= 4, f"kills should land across the trip, landed in {phases}"
    for thread in threads:
        _audit_thread(thread, inventory, common)
    _audit_inventory(inventory, Inventory.open(inventory_template))


def _phase(line: str) -> str:
    """The kind of progress line a kill followed: round, dispatch, result, approval..."""
    return line.split()[0] if line else "start-up"


def _has_checkpoints(thread: str, target: str) -> bool:
    async def look() -> bool:
        async with open_checkpointer(target) as saver:
            return await saver.aget_tuple({"configurable": {"thread_id": thread}}) is not None

    return asyncio.run(look())


def _audit_thread(thread: str, inventory: Inventory, common: list[str]) -> None:
    import json

    final = subprocess.run(
        [str(BIN), "resume", thread, "--json", *common],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert final.returncode == 0, final.stderr
    assert "already finished" in final.stderr  # resuming a finished run does nothing else
    result = json.loads(final.stdout)
    assert result["status"] == "completed", result["reason"]
    bookings = inventory.bookings(thread)
    confirmed = [b for b in bookings if b.status == "confirmed"]
    # One booking per booking task: no duplicate, none lost.
    assert len({b.key for b in bookings}) == len(bookings)
    assert Counter(b.kind for b in confirmed) == Counter({"flight": 3, "hotel": 2, "car": 2})
    itinerary = result["itinerary"]
    refs = {leg["booking"] for leg in itinerary["legs"]}
    refs |= {h["booking"] for h in itinerary["hotels"]} | {c["booking"] for c in itinerary["cars"]}
    assert refs == {b.ref for b in confirmed}
    assert itinerary["booked_total"] == pytest.approx(sum(b.total_price for b in confirmed))


def _audit_inventory(inventory: Inventory, template: Inventory) -> None:
    """What every confirmed booking took is exactly what the inventory lost."""
    taken: Counter[tuple[str, str]] = Counter()
    for booking in inventory.bookings():
        if booking.status == "confirmed":
            taken[(booking.kind, booking.item_id)] += booking.quantity
    assert taken
    for (kind, item_id), quantity in taken.items():
        if kind == "flight":
            assert template.seats_left(item_id) - inventory.seats_left(item_id) == quantity
        elif kind == "hotel":
            hotel_id, check_in, check_out, _rooms = item_id.split(":")
            night = _date(check_in)
            while night < _date(check_out):
                lost = template.rooms_left(hotel_id, night) - inventory.rooms_left(hotel_id, night)
                assert lost == _rooms_taken(inventory, hotel_id, night)
                night += timedelta(days=1)
        else:
            airport, car_class, pick_up, _drop_off = item_id.split(":")
            lost = template.cars_left(airport, car_class, _date(pick_up)) - inventory.cars_left(
                airport, car_class, _date(pick_up)
            )
            assert lost == _cars_taken(inventory, airport, car_class, _date(pick_up))


def _date(text: str):  # type: ignore[no-untyped-def]
    from datetime import date

    return date.fromisoformat(text)


def _rooms_taken(inventory: Inventory, hotel_id: str, night) -> int:  # type: ignore[no-untyped-def]
    total = 0
    for b in inventory.bookings():
        if b.status == "confirmed" and b.kind == "hotel":
            h, check_in, check_out, _ = b.item_id.split(":")
            if h == hotel_id and _date(check_in) <= night < _date(check_out):
                total += b.quantity
    return total


def _cars_taken(inventory: Inventory, airport: str, car_class: str, day) -> int:  # type: ignore[no-untyped-def]
    total = 0
    for b in inventory.bookings():
        if b.status == "confirmed" and b.kind == "car":
            a, c, pick_up, drop_off = b.item_id.split(":")
            if (a, c) == (airport, car_class) and _date(pick_up) <= day < max(
                _date(drop_off), _date(pick_up) + timedelta(days=1)
            ):
                total += b.quantity
    return total
