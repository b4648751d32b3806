"""`orchestrator show` keeps the planner's own reason, attributed, beside the verifier's verdict
(as the end of a run prints it): "The planner said: over budget ..."."""

from __future__ import annotations

from rich.console import Console

from orchestrator.report.model import build_report
from orchestrator.report.text import print_report
from tests.unit.report.support import TWO_ROUND_CHECKPOINTS, two_rounds

SAID = "over budget: the cheapest plan found costs $2,584 against a budget of $500"


def _shown(values: dict[str, object]) -> tuple[str, dict[str, object]]:
    report = build_report(values, thread_id="t", checkpoints=TWO_ROUND_CHECKPOINTS)
    console = Console(record=True, width=200)
    print_report(report, console=console)
    return console.export_text(), report.as_dict()


def test_the_planners_reason_is_shown_and_in_the_json() -> None:
    values = {
        **two_rounds(),
        "status": "failed",
        "reason": "nothing is booked",
        "claim": {"status": "failed", "reason": SAID},
    }
    text, data = _shown(values)
    assert "Why:  nothing is booked" in text
    assert f"The planner said: {SAID}" in text
    assert data["planner_said"] == SAID


def test_no_line_when_the_planner_agrees_or_said_nothing() -> None:
    agreeing = {**two_rounds(), "reason": SAID, "claim": {"status": "failed", "reason": SAID}}
    for values in (agreeing, two_rounds()):
        text, data = _shown(values)
        assert "The planner said" not in text and data["planner_said"] == ""
