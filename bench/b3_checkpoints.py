"""B3 Checkpoint growth: bytes written per task at 10, 100 and 1,000 tasks in one run.

Each run adds tasks in rounds of 10 (`FanOutPlanner`), each result carrying a 200-byte payload,
until it has the number of tasks asked, on a fresh thread. The bytes are the logical sizes of
everything the saver stored for that thread: checkpoint and metadata blobs plus pending writes
(SQLite), or checkpoint and metadata JSON, channel blobs and writes (PostgreSQL). Ours keeps the
growing parts of the state in `DeltaChannel`s; the naive design is the same graph with plain
`operator.add` / `operator.or_` reducer channels (`bench.naive`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from bench.common import Check, Report, Settings, Stopwatch, Table, kib, plain_bytes, ratio
from bench.naive import build_naive_graph, swapped_channels
from bench.workload import wide_context
from domains.synthetic import FanOutPlanner, synthetic_domain
from graph.builder import Graph, build_graph
from graph.persistence import open_checkpointer
from orchestrator.runner import run_config

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

    @property
    def per_task(self) -> float:
        return self.bytes / self.tasks


def _graph(design: str, n_tasks: int, saver: BaseCheckpointSaver[Any]) -> Graph:
    domain = synthetic_domain(FanOutPlanner(n_tasks, PER_ROUND, ms=0, payload=PAYLOAD))
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
        if store == "PostgreSQL":
            await saver.adelete_thread(thread)  # a shared database: leave nothing behind
    return Measured(store, design, n_tasks, stored, sw.timing.wall)


async def measure(settings: Settings) -> list[Measured]:
    sizes = settings.pick((10, 100, 1000), (10, 30))
    stores = [("SQLite", "")]
    if settings.postgres:
        stores.append(("PostgreSQL", settings.postgres))
    found = []
    files = iter(range(1_000_000))
    for store, uri in stores:
        for design in ("ours", "naive"):
            for n in sizes:
                target = uri or str(settings.workdir / f"b3-{next(files)}.sqlite")
                found.append(await _one_run(store, target, design, n))
                settings.progress(f"  {KEY} {store} {design} {n} tasks: {found[-1].bytes:,} B")
    return found


def run(settings: Settings) -> Report:
    found = asyncio.run(measure(settings))
    sizes = sorted({m.tasks for m in found})
    small, large = sizes[0], sizes[-1]
    rows = []
    checks = []
    for store in dict.fromkeys(m.store for m in found):
        for design in ("ours", "naive"):
            runs = {m.tasks: m for m in found if m.store == store and m.design == design}
            growth = runs[large].per_task / runs[small].per_task
            rows.append(
                [
                    store,
                    design,
                    *(f"{plain_bytes(runs[n].per_task)} ({kib(runs[n].bytes)})" for n in sizes),
                    f"**{ratio(growth)}**",
                    f"{runs[large].seconds:.2f} s",
                ]
            )
            if design == "ours":
                checks.append(
                    Check(
                        target=(
                            f"{store}: bytes per task at {large:,} tasks ≤ {TARGET}× bytes per "
                            f"task at {small}"
                        ),
                        measured=ratio(growth),
                        passed=growth <= TARGET,
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
    probe = build_naive_graph(synthetic_domain(FanOutPlanner(1, 1)), checkpointer=None)
    return Report(
        key=KEY,
        title=TITLE,
        method=(
            f"One run per cell, on a fresh thread: tasks are added in rounds of {PER_ROUND} "
            f"(`FanOutPlanner`, synthetic `sleep` worker at 0 ms) and each result echoes a "
            f"{len(PAYLOAD)}-byte payload; {large:,} tasks take {large // PER_ROUND} rounds. "
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
                    *(f"bytes per task at {n:,} tasks (total)" for n in sizes),
                    f"growth {large:,} ÷ {small}",
                    f"run time at {large:,}",
                ],
                rows=rows,
                caption="Run times are absolute, for context only.",
            )
        ],
        checks=checks,
    )
