"""The report as text, Mermaid and images; the graph's structure drawn without a network."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from domains.synthetic import ScriptedPlanner, synthetic_domain
from domains.travel.domain import travel_domain
from graph.builder import build_graph
from orchestrator.report.image import (
    image_format,
    plan_figure,
    report_figure,
    save,
    structure_figure,
    timeline_figure,
)
from orchestrator.report.mermaid import (
    plan_flowchart,
    report_markdown,
    structure_mermaid,
    timeline_gantt,
)
from orchestrator.report.model import RunReport, build_report
from orchestrator.report.text import print_report, seconds
from tests.unit.report.support import TWO_ROUND_CHECKPOINTS, result, task, two_rounds, values


@pytest.fixture
def report() -> RunReport:
    return build_report(two_rounds(), thread_id="t-42", checkpoints=TWO_ROUND_CHECKPOINTS)


def plain_text(report: RunReport, width: int = 120) -> str:
    out = io.StringIO()
    print_report(report, Console(file=out, width=width, color_system=None))
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), (0.0123, "12 ms"), (3.4, "3.40 s"), (125.0, "2m 05s")],
)
def test_durations_read_like_people_write_them(value: float | None, text: str) -> None:
    assert seconds(value) == text


def test_the_text_report_has_goal_status_plan_timeline_and_totals(report: RunReport) -> None:
    text = plain_text(report)

    assert "Run t-42  COMPLETED" in text
    assert "Goal: test goal" in text
    assert "Plan: 5 tasks in 3 rounds" in text
    assert "» start with a, b and c" in text
    assert re.search(r"✓ d\s+sleep\s+done\s+.*after a", text)
    assert re.search(r"✓ b\s+sleep\s+done.*◆ critical path", text)
    assert re.search(r"2\s+e ◆\s+sleep\s+540 ms\s+700 ms\s+160 ms", text), "e on the timeline"
    assert re.search(r"1\s+plan\s+orchestrate\s+1 ms\s+10 ms\s+9 ms", text)
    assert "critical path  640 ms of worker time: b → e" in text
    assert "up to 3 tasks at once" in text
    assert "175 (150 prompt + 25 completion) in 2 model call(s), $0.0010" in text
    assert "\x1b[" not in text, "no colour codes when not a terminal"


def test_a_run_without_model_calls_says_so() -> None:
    report = build_report(values([task("a", round=1)], [result("a", 0, 1)], rounds=2))

    assert "none (no model was called)" in plain_text(report)


def test_mermaid_draws_rounds_tasks_dependencies_and_the_critical_path(report: RunReport) -> None:
    chart = plan_flowchart(report)

    assert chart.startswith("flowchart LR\n")
    assert 'subgraph r1["round 1"]' in chart and 'subgraph r2["round 2"]' in chart
    assert 't3["d<br/><small>sleep · done</small>"]' in chart
    assert "t0 --> t3" in chart, "d depends on a"
    assert "r1 -. re-plan .-> r2" in chart
    assert "class t1,t4 critical" in chart
    assert "class t0,t1,t2,t3,t4 done" in chart


def test_mermaid_gantt_has_orchestrator_steps_and_attempts_in_milliseconds(
    report: RunReport,
) -> None:
    gantt = timeline_gantt(report)

    assert gantt.startswith("gantt\n")
    assert "    dateFormat x" in gantt
    assert "    plan r1 :done, s0, 1, 10" in gantt
    assert "    section round 2" in gantt
    assert "    e (sleep) :crit, done, a4, 540, 700" in gantt
    assert "    a (sleep) :done, a1, 20, 100" in gantt, "attempts in start order, then end"
    fenced = report_markdown(report)
    assert fenced.count("```mermaid") == 2


def test_mermaid_labels_cannot_break_the_syntax() -> None:
    state = values([task('say "hi" <b>', round=1)], [result('say "hi" <b>', 0, 1)], rounds=1)
    state["goal"] = 'a "quoted" goal'
    report = build_report(state)

    chart = plan_flowchart(report)
    gantt = timeline_gantt(report)

    assert '"hi"' not in chart and "say #quot;hi#quot; #lt;b#gt;" in chart
    assert 'say "hi" <b> (sleep)' in gantt, "gantt names keep quotes"
    assert ": " not in gantt.split("\n", 4)[4].split(":", 1)[0]


def test_the_graph_structure_is_langgraphs_own_mermaid_without_error_handlers() -> None:
    text = structure_mermaid(build_graph(synthetic_domain(lambda _ctx: ScriptedPlanner([]))))

    assert "orchestrate -.-> sleep;" in text
    assert "sleep --> orchestrate;" in text
    assert "__error_handler__" not in text


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_report_images_are_png_or_svg(report: RunReport, tmp_path: Path) -> None:
    png = save(report_figure(report), tmp_path / "run.png")
    svg = save(report_figure(report), tmp_path / "deep" / "run.svg")

    width, height = _png_size(png.read_bytes())
    assert width > 900 and height > 600
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "round 2" in text and "critical path" in text


def test_plan_and_timeline_figures_stand_alone(report: RunReport, tmp_path: Path) -> None:
    for name, figure in [("plan", plan_figure(report)), ("time", timeline_figure(report))]:
        path = save(figure, tmp_path / f"{name}.png")
        assert _png_size(path.read_bytes())[0] > 500


def test_a_large_run_draws_lanes_and_a_more_box(tmp_path: Path) -> None:
    tasks = [task(f"t{i}", round=1 + i // 100) for i in range(300)]
    results = [result(f"t{i}", (i // 100) + (i % 7) * 0.01, (i // 100) + 0.5) for i in range(300)]
    report = build_report(values(tasks, results, rounds=4))

    path = save(report_figure(report), tmp_path / "big.png")

    _width, height = _png_size(path.read_bytes())
    assert height < 3000, "300 tasks do not make a poster"


def test_the_graph_structure_draws_without_a_network(tmp_path: Path) -> None:
    path = save(structure_figure(build_graph(travel_domain())), tmp_path / "graph.png")

    assert _png_size(path.read_bytes())[0] > 500


@pytest.mark.parametrize("name", ["run.jpg", "run", "run.PDF"])
def test_only_png_and_svg_are_written(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"must end in \.png or \.svg"):
        image_format(tmp_path / name)
    assert image_format("x.SVG") == "svg"
