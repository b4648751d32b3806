# ruff: noqa: E501  (the table of cases reads best one case per line)
"""Broken stores and bad input end in one `error:` line and exit 2: never a traceback, a hang, a
password on screen, or a file written.

Each case runs the real CLI in a subprocess with a timeout (a hang fails the case) on a private
copy of a small world: an inventory, a finished thread `booked` that holds bookings and a thread
`paused` waiting for approval. The cases run two at a time, once per module; each test checks one.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from domains.travel.services import INVENTORY_FILE
from tests.postgres import POSTGRES_URI

BIN = Path(sys.executable).parent / "orchestrator"
TIMEOUT_S = 60
SECRET = "s3cretpw"
PG_WRONG_PORT = f"postgresql://postgres:{SECRET}@127.0.0.1:1/test"
PG_WRONG_DB = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/no_such_db_13"
PG_WRONG_USER = f"postgresql://nobody13:{SECRET}@127.0.0.1:5432/test"
DAY = (date.today() + timedelta(days=30)).isoformat()
BACK = (date.today() + timedelta(days=34)).isoformat()
TRIP = ["trip", "--from", "SFO", "--to", "CDG", "--depart", DAY, "--return", BACK, "--yes"]
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_"))
}
BASE_ENV["LANGSMITH_TRACING"] = "false"

Setup = Callable[[Path], None]


def cli(
    args: list[str], env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env={**BASE_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
        **kw,  # type: ignore[arg-type]
    )


# What a case does to its copy of the world before the command runs ---------------------------


def truncate_checkpoints(d: Path) -> None:
    path = d / "checkpoints.sqlite"
    path.write_bytes(path.read_bytes()[:5000])


def garbage_checkpoints(d: Path) -> None:
    (d / "checkpoints.sqlite").write_bytes(os.urandom(3000))


def truncate_inventory(d: Path) -> None:
    with (d / INVENTORY_FILE).open("r+b") as f:
        f.truncate(1_000_000)


def delete_inventory(d: Path) -> None:
    (d / INVENTORY_FILE).unlink()


def replace_inventory(d: Path) -> None:
    """Another inventory in the same place: same data, another identity."""
    with sqlite3.connect(d / INVENTORY_FILE) as conn:
        conn.execute("UPDATE meta SET value = 'another-inventory' WHERE key = 'inventory_id'")
    conn.close()


def make_file(d: Path) -> None:
    (d.parent / "a-file").write_text("not a directory\n")


@dataclass
class Case:
    id: str
    args: list[str]
    expect: str
    setup: Setup | None = None
    env: dict[str, str] = field(default_factory=dict)
    fresh: bool = False
    """Runs against a data directory that does not exist, and must not create it."""


DIR = "{dir}"  # the case's data directory
FILE = "{file}"  # a plain file next to it


def _cases() -> list[Case]:
    d = ["--data-dir", DIR]
    pg = "cannot use PostgreSQL at"
    return [
        # A damaged checkpoint database: one line, no hang (the aiosqlite thread is closed).
        Case("ckpt-truncated-history", ["history", "booked", *d], "damaged", truncate_checkpoints),
        Case("ckpt-truncated-resume", ["resume", "paused", *d], "damaged", truncate_checkpoints),
        Case("ckpt-truncated-trip", [*TRIP, *d], "damaged", truncate_checkpoints),
        Case("ckpt-garbage-fork", ["fork", "booked", "--at", "x", *d], "damaged", garbage_checkpoints),
        Case("ckpt-garbage-demo", ["demo", *d], "damaged", garbage_checkpoints),
        Case("ckpt-garbage-bookings", ["bookings", "--thread", "booked", *d], "damaged", garbage_checkpoints),
        # A store that is no store.
        Case("ckpt-dir-history", ["history", "booked", *d, "--checkpointer", DIR], "is a directory"),
        Case("scheme-mysql-trip", [*TRIP, *d, "--checkpointer", "mysql://x"], "unknown checkpoint store"),
        Case("scheme-mysql-run", ["run", "a trip", *d, "--checkpointer", "mysql://u:" + SECRET + "@x/db"], "unknown checkpoint store"),
        Case("scheme-env-history", ["history", "booked", *d], "unknown checkpoint store", env={"ORCHESTRATOR_CHECKPOINTER": "mysql://x"}),
        Case("pg-empty-history", ["history", "booked", *d, "--checkpointer", "postgresql://"], "names no server"),
        # PostgreSQL that does not answer, or refuses: one line, password masked.
        Case("pg-port-history", ["history", "booked", *d, "--checkpointer", PG_WRONG_PORT], pg),
        Case("pg-port-trip", [*TRIP, *d, "--checkpointer", PG_WRONG_PORT], pg),
        Case("pg-port-fork", ["fork", "booked", "--at", "x", *d, "--checkpointer", PG_WRONG_PORT], pg),
        Case("pg-db-show", ["show", "booked", *d, "--checkpointer", PG_WRONG_DB], pg),
        Case("pg-db-demo", ["demo", *d, "--checkpointer", PG_WRONG_DB], pg),
        Case("pg-user-bookings", ["bookings", "--thread", "booked", *d, "--checkpointer", PG_WRONG_USER], pg),
        # A damaged inventory.
        Case("inv-truncated-trip", [*TRIP, *d], "inventory database", truncate_inventory),
        Case("inv-truncated-bookings", ["bookings", *d], "inventory database", truncate_inventory),
        # A data directory that cannot be one.
        Case("home-file-trip", TRIP, "is a file", make_file, env={"ORCHESTRATOR_HOME": FILE}),
        Case("home-under-file-demo", ["demo"], "cannot write", make_file, env={"ORCHESTRATOR_HOME": FILE + "/sub"}),
        Case("out-unwritable-graph", ["graph", "--out", FILE + "/g.png"], "cannot write", make_file),
        # Bookings made in an inventory that is gone, or another one: never a silent rebuild.
        Case("inv-deleted-bookings", ["bookings", "--thread", "booked", *d], "no inventory at", delete_inventory),
        Case("inv-deleted-show", ["show", "booked", *d], "no inventory at", delete_inventory),
        Case("inv-deleted-resume", ["resume", "booked", *d], "no inventory at", delete_inventory),
        Case("inv-deleted-resume-paused", ["resume", "paused", "--yes", *d], "missing", delete_inventory),
        Case("inv-other-bookings", ["bookings", "--thread", "booked", *d], "another-inventory", replace_inventory),
        Case("inv-other-resume", ["resume", "booked", *d], "another-inventory", replace_inventory),
        # Input limits: nothing is written, not even the data directory.
        Case("budget-inf", [*TRIP, "--budget", "inf", *d], "finite", fresh=True),
        Case("budget-1e400", [*TRIP, "--budget", "1e400", *d], "finite", fresh=True),
        Case("budget-nan", [*TRIP, "--budget", "nan", *d], "finite", fresh=True),
        Case("fork-budget-nan", ["fork", "booked", "--at", "x", "--budget", "nan", *d], "finite"),
        Case("legs-disconnected", ["trip", "--leg", f"SFO-JFK:{DAY}", "--leg", f"CDG-LHR:{BACK}", "--yes", *d], "open jaw", fresh=True),
        Case("from-4-letters", ["trip", "--from", "SFOX", "--to", "CDG", "--depart", DAY, *d], "not an airport code", fresh=True),
        Case("leg-3-airports", ["trip", "--leg", f"SFO-JFK-CDG:{DAY}", *d], "FROM-TO:DATE", fresh=True),
        Case("thread-long", [*TRIP, "--thread", "a" * 129, *d], "not valid", fresh=True),
        Case("thread-newline", [*TRIP, "--thread", "a\nb", *d], "not valid", fresh=True),
        Case("thread-history", ["history", "../x", *d], "not valid"),
        Case("thread-resume", ["resume", "a b", *d], "not valid"),
        Case("fork-onto-existing", ["fork", "paused", "--at", "{checkpoint}", "--thread", "booked", "--yes", *d], "already holds a run"),
        Case("env-planner", [*TRIP, *d], "ORCHESTRATOR_PLANNER", env={"ORCHESTRATOR_PLANNER": "bogus"}, fresh=True),
        Case("env-timeout", [*TRIP, *d], "ORCHESTRATOR_REQUEST_TIMEOUT", env={"ORCHESTRATOR_REQUEST_TIMEOUT": "abc"}, fresh=True),
    ]  # fmt: skip


CASES = _cases()


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@dataclass
class Outcome:
    proc: subprocess.CompletedProcess[str]
    before: dict[str, tuple[int, int]]
    after: dict[str, tuple[int, int]]
    data_dir: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, inventory_template: Path) -> tuple[Path, str]:
    """An inventory with a finished thread `booked` (with bookings) and a paused one, plus a
    checkpoint id of `paused` to fork from."""
    root = tmp_path_factory.mktemp("world") / "data"
    root.mkdir()
    shutil.copy(inventory_template, root / INVENTORY_FILE)
    d = ["--data-dir", str(root)]
    done = cli([*TRIP, "--budget", "9000", "--thread", "booked", *d])
    assert done.returncode == 0, done.stderr
    trip = [a for a in TRIP if a != "--yes"]
    paused = cli([*trip, "--budget", "9000", "--thread", "paused", *d])
    assert paused.returncode == 3, paused.stderr
    listed = cli(["history", "paused", "--json", *d])
    import json

    entries = json.loads(listed.stdout)
    return root, entries[len(entries) // 2]["checkpoint_id"]


def _run_case(case: Case, world: tuple[Path, str], base: Path) -> Outcome:
    source, checkpoint = world
    data_dir = base / "data"
    if not case.fresh:
        shutil.copytree(source, data_dir)
    if case.setup:
        case.setup(data_dir)

    def fill(text: str) -> str:
        return (
            text.replace(DIR, str(data_dir))
            .replace(FILE, str(base / "a-file"))
            .replace("{checkpoint}", checkpoint)
        )

    before = _listing(base)
    proc = cli([fill(a) for a in case.args], {k: fill(v) for k, v in case.env.items()}, cwd=base)
    return Outcome(proc, before, _listing(base), data_dir)


@pytest.fixture(scope="module")
def outcomes(
    world: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Outcome]]:
    bases = {case.id: tmp_path_factory.mktemp(case.id) for case in CASES}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {c.id: pool.submit(_run_case, c, world, bases[c.id]) for c in CASES}
        yield {cid: f.result() for cid, f in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_exits_2_with_one_error_line_writing_nothing(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    out = outcomes[case.id]
    err = out.proc.stderr
    assert "Traceback" not in err + out.proc.stdout
    assert SECRET not in err + out.proc.stdout
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert out.proc.returncode == 2, err
    assert len(errors) == 1, err
    assert case.expect in errors[0]
    if case.fresh:
        assert err.strip() == errors[0], "bad input says one line, nothing else"
        assert not out.data_dir.exists(), "bad input must not create the data directory"
    assert out.after == out.before, "nothing is written"


@pytest.mark.parametrize(
    "args",
    [
        ["history", "booked"],
        ["show", "booked"],
        ["airports"],
    ],
    ids=lambda a: a[0],
)
def test_a_closed_pipe_ends_quietly(args: list[str], world: tuple[Path, str]) -> None:
    """`orchestrator history A | head -1`: the reader is gone before the first line."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [str(BIN), *args, "--data-dir", str(world[0])]
            if args[0] not in ("airports", "graph")
            else [str(BIN), *args],
            env=BASE_ENV,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    finally:
        os.close(write)
    assert proc.returncode in (0, 141), proc.stderr
    assert "Traceback" not in proc.stderr and "Exception" not in proc.stderr


def test_a_thread_being_run_elsewhere_is_refused(world: tuple[Path, str], tmp_path: Path) -> None:
    """One run per thread: while another process holds the thread, a second run exits 2 and
    writes nothing (the check and the run are one step under the lock)."""
    import asyncio

    from graph.persistence import hold_thread

    data_dir = tmp_path / "data"
    shutil.copytree(world[0], data_dir)
    target = str(data_dir / "checkpoints.sqlite")
    before = _listing(data_dir / "checkpoints.sqlite")

    async def contend() -> subprocess.CompletedProcess[str]:
        async with hold_thread(target, "same", str(data_dir)):
            return await asyncio.to_thread(
                cli, [*TRIP, "--thread", "same", "--data-dir", str(data_dir)]
            )

    proc = asyncio.run(contend())
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line == (
        f"error: thread same is being run by another process (pid {os.getpid()}); "
        "wait for it or use another --thread"
    )
    assert _listing(data_dir / "checkpoints.sqlite") == before
    assert not (data_dir / "locks").exists(), "a released lock leaves nothing behind"
    after = cli(["history", "same", "--data-dir", str(data_dir)])
    assert after.returncode == 2 and "no run named 'same'" in after.stderr


@pytest.mark.postgres
def test_a_thread_run_on_another_host_is_refused_by_postgres(
    world: tuple[Path, str], tmp_path: Path
) -> None:
    """Two data directories (two hosts, say) share one PostgreSQL store: the advisory lock
    keeps the second run of the same thread out."""
    import asyncio
    import uuid

    from graph.persistence import hold_thread
    from tests.postgres import require_postgres

    uri = require_postgres(POSTGRES_URI)
    thread = f"faults-{uuid.uuid4().hex[:8]}"
    here, there = tmp_path / "here", tmp_path / "there"
    for d in (here, there):
        d.mkdir()
        shutil.copy(world[0] / INVENTORY_FILE, d / INVENTORY_FILE)

    async def contend() -> subprocess.CompletedProcess[str]:
        async with hold_thread(uri, thread, str(here)):
            return await asyncio.to_thread(
                cli, [*TRIP, "--thread", thread, "--data-dir", str(there), "--checkpointer", uri]
            )

    proc = asyncio.run(contend())
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: thread {thread} is being run by another process (pid ")
