"""`orchestrator fork --budget` at a paused run: the batch waiting for approval was planned under
the old budget, so the fork never books it; its planner plans again under the new budget. Each
command runs the real executable in a subprocess, with a private `ORCHESTRATOR_HOME`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domains.travel.services import INVENTORY_FILE

BIN = Path(sys.executable).parent / "orchestrator"
TIMEOUT_S = 60
BOOKS = "book-flight-1, book-flight-2, book-hotel-1"


def trip(budget: str | None) -> list[str]:
    flags = ["trip", "--from", "SFO", "--to", "LHR", "--depart", "+60", "--return", "+65"]
    return [*flags, *(["--budget", budget] if budget else [])]


@dataclass(frozen=True)
class Home:
    path: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_"))
        }
        env.update(ORCHESTRATOR_HOME=str(self.path), LANGSMITH_TRACING="false")
        return subprocess.run(
            [str(BIN), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self.cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def show(self, thread: str) -> Any:
        done = self.cli("show", thread, "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def goal(self, thread: str) -> str:
        return str(next(r["goal"] for r in self.json("runs") if r["thread_id"] == thread))


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory, inventory_template: Path) -> Path:
    """A home with `ap3` (no budget) and `london` (budget $6,000), both paused for approval."""
    root = tmp_path_factory.mktemp("fork-budget") / "home"
    root.mkdir()
    shutil.copy(inventory_template, root / INVENTORY_FILE)
    home = Home(root)
    for thread, budget in (("ap3", None), ("london", "6000")):
        done = home.cli(*trip(budget), "--thread", thread)
        assert done.returncode == 3, done.stderr  # no terminal, no --yes: paused
    return root


@pytest.fixture
def home(paused: Path, tmp_path: Path) -> Home:
    return Home(Path(shutil.copytree(paused, tmp_path / "home")))


def test_a_lower_budget_never_books_the_batch_approved_under_the_old_one(home: Home) -> None:
    forked = home.cli("fork", "ap3", "--at", "latest", "--budget", "100", "--yes", "--json")

    assert forked.returncode == 1, forked.stderr
    result = json.loads(forked.stdout)
    assert result["status"] == "failed"
    assert result["reason"].startswith("nothing is booked")
    assert result["itinerary"]["planner_said"].startswith("over budget")
    assert result["itinerary"]["budget"] == 100 and result["itinerary"]["bookings"] == []
    assert f"not carried out: {BOOKS} (planned under the old request)" in forked.stderr
    assert "approved automatically" not in forked.stderr
    fork_thread = result["thread_id"]
    assert home.json("bookings", fork_thread) == []
    assert home.json("bookings", "ap3") == []
    assert home.goal(fork_thread).endswith("for 1 traveller(s), budget $100")
    original = home.show("ap3")  # not touched: still waiting for the same approval
    assert "budget" not in original["goal"] and original["status"] == "awaiting_approval"
    assert ", ".join(original["pending_approval"][0]["task_ids"]) == BOOKS


def test_a_higher_budget_asks_again_for_a_batch_planned_under_it(home: Home) -> None:
    forked = home.cli("fork", "london", "--at", "latest", "--budget", "12000", "--thread", "lb")

    assert forked.returncode == 3, forked.stderr  # the new batch waits for its own approval
    asked = forked.stderr.split("not carried out:", 1)[1]
    assert "total $" in asked and "(budget $12,000.00)" in asked
    assert "$6,000" not in asked
    waiting = home.show("lb")["pending_approval"][0]
    assert waiting["budget"] == 12000 and waiting["within_budget"] is True
    booked = home.cli("resume", "lb", "--yes", "--json")

    assert booked.returncode == 0, booked.stderr
    itinerary = json.loads(booked.stdout)["itinerary"]
    assert itinerary["budget"] == 12000 and len(itinerary["bookings"]) == 3
    assert any("within the budget of $12,000" in d for d in itinerary["decisions"])
    assert not any("$6,000" in d for d in itinerary["decisions"])
    assert home.goal("lb").endswith("budget $12,000")
    assert home.goal("london").endswith("budget $6,000")
    assert home.json("bookings", "london") == []


def test_a_fork_that_keeps_the_request_continues_from_the_pause(home: Home) -> None:
    same = home.cli("fork", "london", "--at", "latest", "--budget", "6000", "--json")

    assert same.returncode == 3, same.stderr
    assert "not carried out" not in same.stderr
    waiting = json.loads(same.stdout)["approval"][0]
    assert waiting["round"] == 3 and waiting["budget"] == 6000
    assert ", ".join(waiting["task_ids"]) == BOOKS
