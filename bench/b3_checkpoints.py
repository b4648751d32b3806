"""B3 Checkpoint growth: bytes written per task at 1,000, 10,000 and 20,000 tasks in one run.

Each run adds tasks in rounds of 10 (`bench.workload.FanOut`), each result carrying a 200-byte
payload (an `echo` worker that returns it),
until it has the number of tasks asked, on a fresh thread. The bytes are the logical sizes of
everything the saver stored for that thread: checkpoint and metadata blobs plus pending writes
(SQLite), or checkpoint and metadata JSON, channel blobs and writes (PostgreSQL). Ours keeps the
growing parts of the state in `DeltaChannel`s; the naive design is the same graph with plain
`operator.add` / `operator.or_` reducer channels (`bench.naive`), measured at 10 to 1,000 tasks
only (it grows quadratically). The large runs go through several snapshots of the board (a
`DeltaChannel` stores the whole collection now and then, so that a read replays few writes);
SQLite runs count them.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from pydantic import BaseModel

from bench.common import Check, Report, Settings, Stopwatch, Table, kib, plain_bytes, ratio
from bench.naive import build_naive_graph, swapped_channels
from bench.workload import FanOut, nap_pool, wide_context
from graph.builder import Graph, build_graph
from graph.persistence import open_checkpointer
from orchestrator.domain import Domain
from orchestrator.runner import run_config
from orchestrator.workers import WorkerCall, WorkerSpec

KEY = "B3"
TITLE = "Checkpoint growth"
TARGET = 1.5
PER_ROUND = 10
PAYLOAD = "x" * 200

SQLITE_BYTES = """
SELECT
  (SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0)
     FROM checkpoints WHERE thread_id = :thread),
  (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = :thread)
"""

POSTGRES_BYTES = """
SELECT
  (SELECT COALESCE(SUM(octet_length(checkpoint::text) + octet_length(metadata::text)), 0)
     FROM checkpoints WHERE thread_id = %(thread)s),
  (SELECT COALESCE(SUM(octet_length(blob)), 0) FROM checkpoint_blobs WHERE thread_id = %(thread)s)
  + (SELECT COALESCE(SUM(octet_length(blob)), 0)
       FROM checkpoint_writes WHERE thread_id = %(thread)s)
"""


SQLITE_CHECKPOINTS = "SELECT type, checkpoint FROM checkpoints WHERE thread_id = :thread"


async def _board_snapshots(saver: BaseCheckpointSaver[Any], thread: str) -> int | None:
    """How many checkpoints of the thread hold a full snapshot of the task board (SQLite)."""
    if type(saver).__name__ != "AsyncSqliteSaver":
        return None
    conn: Any = getattr(saver, "conn", None)
    count = 0
    async with conn.execute(SQLITE_CHECKPOINTS, {"thread": thread}) as cursor:
        async for kind, blob in cursor:
            checkpoint = saver.serde.loads_typed((kind, blob))
            count += isinstance(checkpoint["channel_values"].get("tasks"), _DeltaSnapshot)
    return count


async def _stored_bytes(saver: BaseCheckpointSaver[Any], thread: str) -> int:
    conn: Any = getattr(saver, "conn", None)
    if type(saver).__name__ == "AsyncSqliteSaver":
        async with conn.execute(SQLITE_BYTES, {"thread": thread}) as cursor:
            row = await cursor.fetchone()
    else:
        async with conn.cursor() as cursor:
            await cursor.execute(POSTGRES_BYTES, {"thread": thread})
            row = await cursor.fetchone()
            if isinstance(row, dict):  # the saver's connection returns dict rows
                row = list(row.values())
    return int(sum(int(v) for v in row))


@dataclass(frozen=True)
class Measured:
    store: str
    design: str
    tasks: int
    bytes: int
    seconds: float
    snapshots: int | None = None
    """Checkpoints holding a full snapshot of the board (SQLite only)."""

    @property
    def per_task(self) -> float:
        return self.bytes / self.tasks


class EchoInput(BaseModel):
    payload: str = ""


class EchoOutput(BaseModel):
    payload: str


async def _echo(inputs: EchoInput, call: WorkerCall) -> EchoOutput:
    return EchoOutput(payload=inputs.payload)


def echo_domain(n_tasks: int) -> Domain:
    """`n_tasks` echoes of a 200-byte payload, in rounds of `PER_ROUND`.

    Not the synthetic `sleep` worker: its call log looks each call up by a scan, which made a
    20,000-task run quadratic in time (the benchmark's bookkeeping, not the orchestrator's).
    """
    echo = WorkerSpec(
        name="echo",
        description="Returns its payload.",
        input_model=EchoInput,
        output_model=EchoOutput,
        run=_echo,
        summarize=lambda out: f"echo of {len(out.payload)} bytes",
    )
    planner = FanOut(n_tasks, PER_ROUND, "echo", {"payload": PAYLOAD})
    return nap_pool(planner, extra_workers=[echo], name="bench-echo")


def _graph(design: str, n_tasks: int, saver: BaseCheckpointSaver[Any]) -> Graph:
    domain = echo_domain(n_tasks)
    if design == "naive":
        return build_naive_graph(domain, checkpointer=saver)
    return build_graph(domain, checkpointer=saver)


async def _one_run(store: str, target: str, design: str, n_tasks: int) -> Measured:
    thread = f"bench-b3-{design}-{n_tasks}-{uuid.uuid4().hex[:12]}"
    context = wide_context(PER_ROUND)
    async with open_checkpointer(target) as saver:
        graph = _graph(design, n_tasks, saver)
        with Stopwatch() as sw:
            out = await graph.ainvoke(
                {"goal": f"{n_tasks} tasks"}, run_config(thread, context), context=context
            )
        assert out["status"] == "completed", out["reason"]
        stored = await _stored_bytes(saver, thread)
        snapshots = await _board_snapshots(saver, thread) if design == "ours" else None
        if store == "PostgreSQL":
            await saver.adelete_thread(thread)  # a shared database: leave nothing behind
    return Measured(store, design, n_tasks, stored, sw.timing.wall, snapshots)


SIZES = {"ours": (1000, 10_000, 20_000), "naive": (10, 100, 1000)}
SMOKE_SIZES = {"ours": (10, 30), "naive": (10, 30)}


async def measure(settings: Settings) -> list[Measured]:
    by_design = settings.pick(SIZES, SMOKE_SIZES)
    stores = [("SQLite", "")]
    if settings.postgres:
        stores.append(("PostgreSQL", settings.postgres))
    found = []
    files = iter(range(1_000_000))
    for store, uri in stores:
        for design in ("ours", "naive"):
            for n in by_design[design]:
                target = uri or str(settings.workdir / f"b3-{next(files)}.sqlite")
                found.append(await _one_run(store, target, design, n))
                settings.progress(f"  {KEY} {store} {design} {n} tasks: {found[-1].bytes:,} B")
    return found


def run(settings: Settings) -> Report:
    found = asyncio.run(measure(settings))
    rows = []
    checks = []
    for store in dict.fromkeys(m.store for m in found):
        for design in ("ours", "naive"):
            runs = {m.tasks: m for m in found if m.store == store and m.design == design}
            sizes = sorted(runs)
            small, large = sizes[0], sizes[-1]
            worst = max(runs[n].per_task for n in sizes[1:]) / runs[small].per_task
            growth = runs[large].per_task / runs[small].per_task
            for n in sizes:
                snaps = runs[n].snapshots
                rows.append(
                    [
                        store,
                        design,
                        f"{n:,}",
                        plain_bytes(runs[n].per_task),
                        kib(runs[n].bytes),
                        f"**{ratio(runs[n].per_task / runs[small].per_task)}**",
                        "" if snaps is None else str(snaps),
                        f"{runs[n].seconds:.2f} s",
                    ]
                )
            if design == "ours":
                checks.append(
                    Check(
                        target=(
                            f"{store}: bytes per task at "
                            + ", ".join(f"{n:,}" for n in sizes[1:])
                            + f" tasks each ≤ {TARGET}× bytes per task at {small:,}"
                        ),
                        measured=f"{ratio(worst)} at worst",
                        passed=worst <= TARGET,
                    )
                )
            else:
                checks.append(
                    Check(
                        target=f"{store}: the naive design, for comparison",
                        measured=ratio(growth),
                        passed=None,
                    )
                )
    large = max(m.tasks for m in found)
    probe = build_naive_graph(echo_domain(1), checkpointer=None)
    return Report(
        key=KEY,
        title=TITLE,
        method=(
            f"One run per cell, on a fresh thread: tasks are added in rounds of {PER_ROUND} "
            f"(`bench.workload.FanOut`, an `echo` worker) and each result echoes a "
            f"{len(PAYLOAD)}-byte payload; {large:,} tasks take {large // PER_ROUND} rounds. "
            "The naive design is measured at small sizes only: it stores the whole board at "
            "every step. Snapshots: checkpoints holding the whole board (SQLite runs). "
            "Bytes are the logical sizes of everything the saver stored for the thread: "
            "SQLite (`AsyncSqliteSaver`, a fresh file per run): checkpoint + metadata blobs "
            "and pending writes; PostgreSQL (`AsyncPostgresSaver`): checkpoint + metadata "
            "JSON, channel blobs and pending writes, the thread deleted afterwards. *Ours* "
            "keeps the growing state in `DeltaChannel`s; *naive* is the same compiled graph "
            "with those channels (" + ", ".join(f"`{c}`" for c in swapped_channels(probe)) + ") "
            "swapped for plain `operator.add` (lists) / `operator.or_` (maps) reducers."
        ),
        tables=[
            Table(
                headers=[
                    "store",
                    "design",
                    "tasks",
                    "bytes per task",
                    "total",
                    "per task ÷ smallest run's",
                    "board snapshots",
                    "run time",
                ],
                rows=rows,
                caption="Run times are absolute, for context only.",
            )
        ],
        checks=checks,
    )
