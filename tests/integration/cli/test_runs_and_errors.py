# ruff: noqa: E501  (the table of cases reads best one case per line)
"""`orchestrator runs`, thread and checkpoint prefixes, `fork --at latest`, and the failures a
user can cause that end in one `error:` line and exit 2 (the CLI's and `examples/run_trip.py`'s),
each in a subprocess with a timeout, on a private copy of a small world: a finished thread
`trip-booked` and a thread `trip-paused` waiting for approval."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from itertools import pairwise
from pathlib import Path

import pytest

from domains.travel.services import INVENTORY_FILE
from tests.ports import free_port

BIN = Path(sys.executable).parent / "orchestrator"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "run_trip.py"
TIMEOUT_S = 60
TRIP = ["trip", "--from", "SFO", "--to", "CDG", "--depart", "+30", "--return", "+34"]
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_", "COLUMNS"))
}
BASE_ENV["LANGSMITH_TRACING"] = "false"


def cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env={**BASE_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@dataclass(frozen=True)
class World:
    data_dir: Path
    checkpoints: list[str]
    """`trip-paused`'s checkpoint ids, oldest first."""

    @property
    def d(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, inventory_template: Path) -> World:
    root = tmp_path_factory.mktemp("runs") / "data"
    root.mkdir()
    shutil.copy(inventory_template, root / INVENTORY_FILE)
    d = ["--data-dir", str(root)]
    done = cli([*TRIP, "--budget", "9000", "--yes", "--thread", "trip-booked", *d])
    assert done.returncode == 0, done.stderr
    paused = cli([*TRIP, "--budget", "9000", "--thread", "trip-paused", *d])
    assert paused.returncode == 3, paused.stderr
    listed = cli(["history", "trip-paused", "--json", *d])
    return World(root, [e["checkpoint_id"] for e in json.loads(listed.stdout)])


def test_runs_lists_threads_newest_first(world: World) -> None:
    listed = cli(["runs", "--json", *world.d])
    text = cli(["runs", *world.d], env={"COLUMNS": "80"})

    rows = json.loads(listed.stdout)
    assert [r["thread_id"] for r in rows] == ["trip-paused", "trip-booked"]
    assert [r["status"] for r in rows] == ["awaiting_approval", "completed"]
    assert all(r["started"] and r["goal"].startswith("Book a trip SFO") for r in rows)
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["THREAD", "STATUS", "STARTED", "COST", "GOAL"]
    assert lines[1].startswith("trip-paused  awaiting_approval")
    assert all(len(line) <= 80 for line in lines)


def test_a_unique_prefix_names_a_thread(world: World) -> None:
    by_prefix = cli(["history", "trip-b", "--json", *world.d])
    full = cli(["history", "trip-booked", "--json", *world.d])
    positional = cli(["bookings", "trip-b", "--json", *world.d])
    deprecated = cli(["bookings", "--thread", "trip-booked", "--json", *world.d])

    assert by_prefix.returncode == 0 and by_prefix.stdout == full.stdout
    assert positional.stdout == deprecated.stdout and json.loads(positional.stdout)
    assert "deprecated" in deprecated.stderr


def test_fork_at_latest_continues_from_the_newest_checkpoint(world: World, tmp_path: Path) -> None:
    data_dir = shutil.copytree(world.data_dir, tmp_path / "data")
    branch = cli(
        [
            "fork",
            "trip-p",
            "--at",
            "latest",
            "--yes",
            "--thread",
            "trip-forked",
            "--data-dir",
            str(data_dir),
        ]
    )

    assert branch.returncode == 0, branch.stderr
    assert f"forked trip-paused@{world.checkpoints[-1]} -> trip-forked" in branch.stderr
    assert "orchestrator show trip-forked" in branch.stderr


def test_show_of_a_paused_run_lists_what_it_waits_for(world: World) -> None:
    shown = cli(["show", "trip-paused", *world.d])
    data = cli(["show", "trip-paused", "--format", "json", *world.d])

    assert shown.returncode == 0, shown.stderr
    assert "Approval needed before booking:\n  1. flight" in shown.stdout
    assert "continue with: orchestrator resume trip-paused" in shown.stdout
    assert json.loads(data.stdout)["pending_approval"][0]["items"]


def test_show_mermaid_is_raw_unless_asked_for_markdown(world: World) -> None:
    raw = cli(["show", "trip-booked", "--format", "mermaid", *world.d])
    plan = cli(["show", "trip-b", "--format", "mermaid", "--diagram", "plan", *world.d])
    fenced = cli(["show", "trip-booked", "--format", "mermaid", "--markdown", *world.d])

    assert raw.stdout.startswith("%% plan of trip-booked\nflowchart LR")
    assert "\ngantt\n" in raw.stdout and "```" not in raw.stdout
    assert plan.stdout.startswith("%% plan") and "gantt" not in plan.stdout
    assert fenced.stdout.startswith("```mermaid\nflowchart LR") and fenced.stdout.count("```") == 4


def test_fork_at_latest_of_a_finished_run_starts_before_its_bookings(
    world: World, tmp_path: Path
) -> None:
    data_dir = shutil.copytree(world.data_dir, tmp_path / "data")
    d = ["--data-dir", str(data_dir)]
    branch = cli(["fork", "trip-booked", "--at", "latest", "--budget", "12000", "--yes", *d])

    assert branch.returncode == 0, branch.stderr
    assert "finished: completed" in branch.stderr


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    expect: str
    env: dict[str, str] = field(default_factory=dict)
    fresh: bool = False
    """Runs on an empty data directory, which must still not exist afterwards."""


PG_DOWN = "postgresql://postgres:pw@127.0.0.1:1/test"
CASES = [
    Case("fork-first-checkpoint", ["fork", "trip-paused", "--at", "{first}", "--yes"], "before the run started"),
    Case("fork-checkpoint-ambiguous", ["fork", "trip-paused", "--at", "{first8}", "--yes"], "checkpoint prefix"),
    Case("fork-checkpoint-unknown", ["fork", "trip-paused", "--at", "zzz", "--yes"], "no checkpoint 'zzz'"),
    Case("thread-ambiguous", ["history", "trip-"], "run prefix 'trip-' matches 2: trip-paused, trip-booked"),
    Case("thread-unknown", ["show", "nope"], "no run named 'nope'"),
    Case("planner-llm-flag", [*TRIP, "--planner", "llm", "--yes"], "--planner llm needs a model", fresh=True),
    Case("planner-llm-env", [*TRIP, "--yes"], "ORCHESTRATOR_PLANNER=llm needs a model", env={"ORCHESTRATOR_PLANNER": "llm"}, fresh=True),
    Case("planner-bogus-runs", ["runs"], "ORCHESTRATOR_PLANNER", env={"ORCHESTRATOR_PLANNER": "bogus"}),
    Case("postgres-down-runs", ["runs", "--checkpointer", PG_DOWN], "127.0.0.1:1"),
    Case("postgres-down-env", ["history", "trip-booked"], "127.0.0.1:1", env={"ORCHESTRATOR_CHECKPOINTER": PG_DOWN}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_user_mistake_is_one_error_line_and_exit_2(
    case: Case, world: World, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    if not case.fresh:
        shutil.copytree(world.data_dir, data_dir)
    first = world.checkpoints[0]
    args = [a.replace("{first8}", first[:8]).replace("{first}", first) for a in case.args]

    done = cli([*args, "--data-dir", str(data_dir)], case.env)

    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert case.expect in lines[0]
    if case.fresh:
        assert not data_dir.exists(), "a refused run must write nothing"


# examples/run_trip.py against no server, a port that speaks something else, and auth ---------


class _Refuse(BaseHTTPRequestHandler):
    """A server with auth on: every request without the right token gets 401."""

    def do_POST(self) -> None:
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"detail": "unauthorized"}')

    do_GET = do_POST

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def auth_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def not_http() -> Iterator[str]:
    """A port where something that is not a LangGraph server listens and hangs up."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    sock.close()


@pytest.mark.parametrize(
    ("which", "extra", "expect"),
    [
        ("nobody", [], "no LangGraph server at"),
        ("not_http", [], "no LangGraph server at"),
        ("auth", [], "refused the request (401): pass --token"),
        ("auth", ["--token", "wrong"], "refused the request (401): check --token"),
        ("nobody", ["--input", "/no/such.json"], "cannot read --input"),
    ],
    ids=["no-server", "wrong-port", "missing-token", "wrong-token", "missing-input"],
)
def test_the_sdk_example_fails_in_one_line(
    which: str, extra: list[str], expect: str, auth_server: str, not_http: str
) -> None:
    url = {"nobody": f"http://127.0.0.1:{free_port()}", "auth": auth_server, "not_http": not_http}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", url[which], "--yes", *extra],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=BASE_ENV,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], done.stderr


def test_the_sdk_example_moves_the_dates_keeping_the_gaps() -> None:
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        from run_trip import shift_dates  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    data = json.loads((EXAMPLE.parent / "group_trip.json").read_text())
    today = date(2030, 5, 1)

    moved = shift_dates(data, 30, today)

    days = sorted({leg["date"] for p in moved["request"]["parties"] for leg in p["trip"]["legs"]})
    original = sorted(
        {leg["date"] for p in data["request"]["parties"] for leg in p["trip"]["legs"]}
    )
    assert days[0] == (today + timedelta(days=30)).isoformat()
    gaps = [date.fromisoformat(b) - date.fromisoformat(a) for a, b in pairwise(days)]
    assert gaps == [date.fromisoformat(b) - date.fromisoformat(a) for a, b in pairwise(original)]
