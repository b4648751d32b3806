"""`orchestrator run "..."`: free text in, a structured trip out, then the same run as `trip`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domains.travel.inventory import Inventory
from orchestrator.cli import main
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from tests.integration.llm.support import MODEL, add, finish, prompt_of, task, tool_names

TEXT = "Plan a trip from San Francisco to Paris, Jan 10-15, two people, under $4000"


def test_without_a_model_run_exits_2_and_names_both_ways_forward(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    data_dir = tmp_path / "fresh"

    code = main(["run", TEXT, "--data-dir", str(data_dir)])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ")
    for hint in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "orchestrator trip --from"):
        assert hint in err[0]
    assert not data_dir.exists(), "nothing is written"


def _trip(origin: str, destination: str, out: str, back: str) -> dict[str, Any]:
    return {
        "legs": [
            {"origin": origin, "destination": destination, "date": out},
            {"origin": destination, "destination": origin, "date": back},
        ],
        "travelers": 2,
        "budget": 4000,
    }


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch, server: ScriptedOpenAI) -> None:
    """A model configured the way a user does it: the environment."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("ORCHESTRATOR_PLANNER_MODEL", MODEL)
    monkeypatch.setenv("ORCHESTRATOR_REQUEST_TIMEOUT", "5")


@pytest.mark.usefixtures("model_env")
def test_run_extracts_the_trip_then_plans_it_with_the_model(
    server: ScriptedOpenAI,
    data_dir: Path,
    inventory: Inventory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = inventory.window()[0] + timedelta(days=40)
    out, back = start.isoformat(), (start + timedelta(days=5)).isoformat()
    legs = [("r1-out", "SFO", "CDG", out), ("r1-back", "CDG", "SFO", back)]
    searches = [
        task(i, "search_flights", origin=o, destination=d, date=day, travelers=2)
        for i, o, d, day in legs
    ]
    server.script(
        _trip("SFO", "PAR", out, back),  # a city code, not an airport: re-asked
        _trip("SFO", "CDG", out, back),
        add(*searches),
        finish("partial", "the cheapest flights for two already cost more than $4,000"),
    )

    code = main(["run", TEXT, "--yes", "--json", "--data-dir", str(data_dir), "--thread", "r-1"])

    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 1, captured.err
    assert report["status"] == "failed" and report["reason"].startswith("nothing is booked;")
    assert "$4,000" in report["itinerary"]["planner_said"]
    assert report["thread_id"] == "r-1"
    assert report["usage"]["calls"] == 4
    assert report["usage"]["prompt_tokens"] > 0 and report["usage"]["cost_usd"] is None
    assert "understood: Book a trip SFO -> CDG -> SFO" in captured.err
    assert "budget $4,000" in captured.err
    assert "model usage: 4 call(s)" in captured.err

    extraction, reask, plan = server.requests[0], server.requests[1], server.requests[2]
    assert tool_names(extraction) == ["TripRequest"] and extraction["model"] == MODEL
    assert TEXT in prompt_of(extraction)
    assert "unknown airport 'PAR'" in prompt_of(reask)
    assert tool_names(plan) == ["PlanUpdate"]
    assert '"travelers":2' in prompt_of(plan) and '"budget":4000' in prompt_of(plan)


@pytest.mark.usefixtures("model_env")
def test_a_request_the_model_cannot_turn_into_a_trip_exits_2(
    server: ScriptedOpenAI, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script({"legs": []}, {"legs": []}, {"legs": []})

    code = main(["run", "something nice, somewhere warm", "--data-dir", str(data_dir)])

    err = capsys.readouterr().err
    assert code == 2
    assert "could not turn the request into a trip in 3 attempt(s)" in err
    assert "orchestrator trip" in err
    assert server.calls == 3
    assert not (data_dir / "checkpoints.sqlite").exists(), "nothing is written"
