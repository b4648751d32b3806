"""LangSmith traces of a CLI run, recorded by a loopback stand-in for the LangSmith API.

One traced trip runs in a child process, exactly as a user runs it: the rules planner, an LLM
synthesizer on the scripted loopback model server (so an API key is really used), approval by
`--yes`. The tests then read the run tree the langsmith client sent, and look for the API key
everywhere it must not be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from graph import build_graph, open_checkpointer
from orchestrator.report import RunReport, load_report
from orchestrator.testing.scripted_openai import ScriptedOpenAI, Text, scripted_openai
from tests.integration.observability.conftest import clean_env, data_dir_from
from tests.integration.observability.langsmith_sink import LangSmithSink, langsmith_sink

BIN = Path(sys.executable).parent / "orchestrator"
OPENAI_KEY = "sk-MARKER-obs-5d1c7e9a3f20b84c"
LANGSMITH_KEY = "lsv2_pt_MARKER_obs_0a9b8c7d6e5f"
THREAD = "traced-1"
WORKERS = {"search_flights", "search_hotels", "search_cars", "book", "cancel"}


def trip_args(data_dir: Path, thread: str) -> list[str]:
    start = Inventory.open(data_dir / "inventory.sqlite").window()[0] + timedelta(days=30)
    return [
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
        "--budget",
        "9000",
        "--planner",
        "rules",
        "--yes",
        "--json",
        "--thread",
        thread,
        "--data-dir",
        str(data_dir),
    ]


@dataclass
class TracedRun:
    proc: subprocess.CompletedProcess[str]
    sink: LangSmithSink
    model: ScriptedOpenAI
    data_dir: Path

    def runs(self) -> dict[str, dict[str, Any]]:
        return self.sink.runs()


@pytest.fixture(scope="module")
def traced(
    inventory_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TracedRun]:
    data_dir = data_dir_from(inventory_template, tmp_path_factory.mktemp("traced") / "data")
    with langsmith_sink() as sink, scripted_openai() as model:
        model.script(Text("Your Paris trip is booked: two flights and a hotel."))
        env = clean_env() | {
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_BASE_URL": model.base_url,
            "ORCHESTRATOR_SYNTHESIZER_MODEL": "writer-model",
            "LANGSMITH_TRACING": "true",
            "LANGSMITH_API_KEY": LANGSMITH_KEY,
            "LANGSMITH_ENDPOINT": sink.url,
            "ORCHESTRATOR_HOME": str(data_dir),
        }
        proc = subprocess.run(
            trip_args(data_dir, THREAD),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        yield TracedRun(proc, sink, model, data_dir)


async def report_of(data_dir: Path, thread: str) -> RunReport:
    async with open_checkpointer(str(data_dir / "checkpoints.sqlite")) as saver:
        return await load_report(build_graph(travel_domain(), checkpointer=saver), thread)


def parent(runs: dict[str, dict[str, Any]], run: dict[str, Any]) -> dict[str, Any] | None:
    return runs.get(run.get("parent_run_id") or "")


def metadata(run: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = (run.get("extra") or {}).get("metadata") or {}
    return meta


async def test_the_trace_nests_rounds_and_worker_tasks_under_the_graph_run(
    traced: TracedRun,
) -> None:
    assert traced.proc.returncode == 0, traced.proc.stderr
    assert json.loads(traced.proc.stdout)["status"] == "completed"
    report = await report_of(traced.data_dir, THREAD)
    runs = traced.runs()

    roots = [r for r in runs.values() if not r.get("parent_run_id")]
    # The run pauses for approval and `--yes` resumes it: two invocations, two traces.
    assert [r["name"] for r in roots] == ["travel-orchestrator"] * 2
    assert all(metadata(r)["thread_id"] == THREAD for r in roots)
    root_ids = {r["id"] for r in roots}
    for run in runs.values():
        up = parent(runs, run)
        if up is not None:
            assert run["dotted_order"].startswith(up["dotted_order"] + "."), "LangSmith nesting"
            assert run["trace_id"] == up["trace_id"]

    rounds = [r for r in runs.values() if r["name"] == "orchestrate"]
    assert all(r["parent_run_id"] in root_ids for r in rounds)
    assert sorted(metadata(r)["round"] for r in rounds) == list(range(1, report.totals.rounds + 1))
    assert all(metadata(r)["thread_id"] == THREAD for r in rounds)

    tasks = [r for r in runs.values() if r["name"] in WORKERS]
    assert all(r["parent_run_id"] in root_ids for r in tasks)
    for run in tasks:
        meta = metadata(run)
        assert meta["worker"] == run["name"] and meta["thread_id"] == THREAD
    traced_tasks = sorted(
        (metadata(r)["task_id"], metadata(r)["attempt"], metadata(r)["round"]) for r in tasks
    )
    assert traced_tasks == sorted((a.task_id, a.attempt, a.round) for a in report.attempts)
    assert {r["name"] for r in tasks} >= {"search_flights", "search_hotels", "book"}

    approvals = [r for r in runs.values() if r["name"] == "approve"]
    assert len(approvals) == 2, "asked (and interrupted), then resumed"
    booking_round = next(a.round for a in report.attempts if a.worker == "book")
    assert {metadata(r)["round"] for r in approvals} == {booking_round}

    (synthesize,) = [r for r in runs.values() if r["name"] == "synthesize"]
    assert metadata(synthesize)["round"] == report.totals.rounds
    model_calls = [r for r in runs.values() if r["run_type"] == "llm"]
    assert [parent(runs, r)["name"] for r in model_calls] == ["synthesize"]  # type: ignore[index]


def test_secrets_appear_in_no_checkpoint_database_log_or_trace(traced: TracedRun) -> None:
    assert traced.proc.returncode == 0, traced.proc.stderr
    assert traced.model.headers[0]["authorization"] == f"Bearer {OPENAI_KEY}", "the key was used"
    assert any(r["run_type"] == "llm" for r in traced.runs().values()), "the model call was traced"
    key = OPENAI_KEY.encode()

    stores = sorted(traced.data_dir.glob("*.sqlite*"))
    assert {p.name for p in stores} >= {"checkpoints.sqlite", "inventory.sqlite"}
    for store in stores:
        assert key not in store.read_bytes(), store.name
    # The searches are readable where they are stored, so the key's absence means something.
    assert b"search_flights" in b"".join(p.read_bytes() for p in stores)
    assert b"search_flights" in traced.sink.bodies()
    assert OPENAI_KEY not in traced.proc.stdout
    assert OPENAI_KEY not in traced.proc.stderr
    assert traced.sink.requests, "the trace was sent"
    for request in traced.sink.requests:
        assert key not in request.body, request.path
        assert OPENAI_KEY not in json.dumps(request.headers)
        # LangSmith's own key authenticates the upload (a header), and is never part of a run.
        assert LANGSMITH_KEY.encode() not in request.body, request.path


def test_without_tracing_configured_nothing_is_sent(sink: LangSmithSink, data_dir: Path) -> None:
    env = clean_env() | {
        # A key and an endpoint alone do not turn tracing on (`langgraph dev` differs: see
        # the README); only LANGSMITH_TRACING=true does.
        "LANGSMITH_API_KEY": LANGSMITH_KEY,
        "LANGSMITH_ENDPOINT": sink.url,
        "ORCHESTRATOR_HOME": str(data_dir),
    }

    proc = subprocess.run(
        trip_args(data_dir, "untraced-1"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )

    assert proc.returncode == 0, proc.stderr
    assert sink.requests == []
