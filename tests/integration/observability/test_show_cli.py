"""`orchestrator show THREAD` and `orchestrator graph`: text, Mermaid, JSON and images, and the
one-line errors for an unknown run or an image type we cannot draw."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from orchestrator.cli import main
from tests.integration.observability.conftest import data_dir_from
from tests.unit.travel.support import run_trip, trip

THREAD = "t1"


@pytest.fixture(scope="module")
def finished_run(inventory_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of one completed round trip with a car, on thread `t1`."""
    data_dir = data_dir_from(inventory_template, tmp_path_factory.mktemp("show") / "data")
    start = Inventory.open(inventory_template).window()[0] + timedelta(days=35)
    request = trip(
        ("SFO", "JFK", start), ("JFK", "SFO", start + timedelta(days=3)), travelers=2, car=True
    )
    outcome = asyncio.run(run_trip(data_dir, request, thread=THREAD))
    assert outcome.values["status"] == "completed", outcome.values["reason"]
    return data_dir


def show(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_show_prints_goal_status_plan_timeline_and_totals(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = show(capsys, THREAD, "--data-dir", str(finished_run))

    assert code == 0
    assert "Run t1  COMPLETED" in out
    assert "Goal: Book a trip SFO -> JFK -> SFO" in out
    assert re.search(r"Plan: \d+ tasks in \d+ rounds", out)
    assert re.search(r"✓ flights-1\s+search_flights\s+done", out)
    assert "» search flights for all 2 legs in parallel" in out
    assert "Timeline (0 = run start; ◆ = critical path)" in out
    assert re.search(r"\d+\s+approval\s+approve", out) is None, "approval was automatic"
    assert re.search(r"critical path\s+\d+ ms of worker time: flights-\d →", out)
    assert "tokens         none (no model was called)" in out
    assert "\x1b[" not in out


def test_show_mermaid_prints_a_flowchart_and_a_gantt(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = show(
        capsys, THREAD, "--format", "mermaid", "--markdown", "--data-dir", str(finished_run)
    )

    assert code == 0
    blocks = re.findall(r"```mermaid\n(.*?)\n```", out, re.S)
    assert [b.split("\n", 1)[0] for b in blocks] == ["flowchart LR", "gantt"]
    assert "search_flights · done" in blocks[0]
    assert re.search(r"flights-1 \(search_flights\) :(crit, )?done, a\d+, \d+, \d+", blocks[1])


def test_show_json_is_the_report_data(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = show(capsys, THREAD, "--json", "--data-dir", str(finished_run))

    report = json.loads(out)
    assert code == 0
    assert report["thread_id"] == THREAD and report["status"] == "completed"
    totals = report["totals"]
    assert totals["tasks"] == len(report["tasks"]) == totals["by_status"]["done"]
    assert totals["max_parallel"] >= 2, "the two flight searches ran together"
    assert 0 < totals["critical_path_s"] <= totals["wall_s"]
    assert [s["kind"] for s in report["steps"]][:2] == ["plan", "work"]
    assert report["critical_path"][0].startswith("flights-")


@pytest.mark.parametrize("name", ["run.png", "run.svg"])
def test_show_out_draws_the_plan_and_the_timeline(
    finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    target = tmp_path / name

    code, out, err = show(capsys, THREAD, "--out", str(target), "--data-dir", str(finished_run))

    assert code == 0
    assert out == "", "only the image was asked for"
    assert err.strip() == f"wrote {target}"
    head = target.read_bytes()[:100]
    assert head.startswith(b"\x89PNG") if name.endswith(".png") else b"<svg" in target.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no run named 'nope'"),
        ([THREAD, "--out", "run.jpg"], "--out must end in .png or .svg, not .jpg"),
        ([THREAD, "--out", "run"], "--out must end in .png or .svg, not no extension"),
    ],
)
def test_show_refuses_bad_input_in_one_line(
    finished_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    code, out, err = show(capsys, *args, "--data-dir", str(finished_run))

    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not list(tmp_path.glob("run*"))


def test_show_without_any_checkpoints_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = show(capsys, "t9", "--data-dir", str(tmp_path / "empty"))

    assert code == 2
    assert err.startswith("error: no run named 't9': there are no checkpoints at ")
    assert not (tmp_path / "empty").exists()


def test_graph_lists_draws_and_exports_the_structure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph"]) == 0
    text = capsys.readouterr().out
    # Five workers, the lanes node that runs planned chains without a barrier, orchestrate,
    # approve, synthesize, start and end.
    assert text.startswith("travel-orchestrator: 11 nodes, 19 edges")
    assert re.search(r"orchestrate\s+-> search_flights\s+conditional", text)
    assert re.search(r"orchestrate\s+-> lanes\s+conditional", text)

    assert main(["graph", "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    assert "orchestrate -.-> approve;" in mermaid and "__error_handler__" not in mermaid

    assert main(["graph", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"source": "approve", "target": "book", "conditional": True} in data["edges"]

    target = tmp_path / "graph.svg"
    assert main(["graph", "--out", str(target)]) == 0
    assert "<svg" in target.read_text()
    assert capsys.readouterr().err == f"wrote {target}\n"

    assert main(["graph", "--out", str(tmp_path / "graph.gif")]) == 2
    assert capsys.readouterr().err.startswith("error: --out must end in .png or .svg, not .gif")
