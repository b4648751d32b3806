"""`orchestrator runs` (the threads of a checkpoint store, newest first), and the short names a
person may type for a thread or a checkpoint: a unique prefix, or `latest` for `fork --at`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from graph.builder import Graph
from graph.persistence import is_postgres, open_checkpointer, resolve_target
from orchestrator.cli.errors import EXIT_OK, UserError
from orchestrator.cli.graphs import Loaded, load
from orchestrator.llm.usage import usage_totals

THREADS_SQL = (
    "SELECT thread_id, MIN(checkpoint_id) AS first, MAX(checkpoint_id) AS last "
    "FROM checkpoints WHERE checkpoint_ns = '' GROUP BY thread_id"
)
"""Every thread with its first and last checkpoint id. LangGraph's ids are UUIDv6, ordered by
time, so the last id orders threads by their latest activity and the first one is the start."""
SHOWN_MATCHES = 5


@dataclass(frozen=True)
class ThreadRow:
    thread_id: str
    first: str
    last: str


@dataclass(frozen=True)
class RunRow:
    """One line of `orchestrator runs`."""

    thread_id: str
    status: str
    started: str | None
    goal: str
    tokens: int | None
    cost_usd: float | None


async def thread_rows(saver: BaseCheckpointSaver[str]) -> list[ThreadRow]:
    """The store's threads, most recently active first."""
    conn: Any = getattr(saver, "conn", None)
    if conn is None:
        raise UserError("this checkpoint store cannot list its threads")
    if hasattr(conn, "cursor") and not hasattr(conn, "execute_fetchall"):
        async with conn.cursor() as cur:  # psycopg, rows as dicts
            await cur.execute(THREADS_SQL)
            rows = [(r["thread_id"], r["first"], r["last"]) for r in await cur.fetchall()]
    else:
        async with saver.lock:  # type: ignore[attr-defined]
            rows = list(await conn.execute_fetchall(THREADS_SQL))
    found = [ThreadRow(str(t), str(f), str(last)) for t, f, last in rows]
    return sorted(found, key=lambda r: r.last, reverse=True)


def _store_exists(target: str) -> bool:
    return is_postgres(target) or Path(target).is_file()


def pick(prefix: str, names: list[str], what: str, missing: str) -> str:
    """The one name equal to `prefix` or starting with it; else one `UserError` line."""
    if prefix in names:
        return prefix
    matches = [n for n in names if n.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(missing)
    shown = ", ".join(matches[:SHOWN_MATCHES])
    more = f" and {len(matches) - SHOWN_MATCHES} more" if len(matches) > SHOWN_MATCHES else ""
    raise UserError(
        f"{what} prefix {prefix!r} matches {len(matches)}: {shown}{more}; type more of it"
    )


async def resolve_thread(args: argparse.Namespace, data_dir: str) -> None:
    """Replaces a thread-id prefix in `args.thread_id` by the one thread it names. An exact id,
    or a store with no threads yet, is left to the command (which says what is missing)."""
    prefix = getattr(args, "thread_id", None)
    if prefix is None:
        return
    target = resolve_target(getattr(args, "checkpointer", None), data_dir)
    if not await asyncio.to_thread(_store_exists, target):
        return
    async with open_checkpointer(target) as saver:
        names = [r.thread_id for r in await thread_rows(saver)]
    if prefix in names or not names:
        return
    if getattr(args, "unknown_thread_ok", False) and not any(n.startswith(prefix) for n in names):
        return  # e.g. travel's bookings: a thread checkpointed elsewhere (a server's store)
    resolved = pick(
        prefix,
        names,
        "run",
        f"no run named {prefix!r}, and none starting with it: `orchestrator runs` lists them",
    )
    args.thread_id = resolved


async def resolve_checkpoint(loaded: Loaded, thread_id: str, text: str) -> str:
    """The checkpoint id that `text` names in `thread_id`: an id, a unique prefix, or `latest`:
    the newest checkpoint that can continue and precedes every side effect, e.g. a booking (a
    paused run's pause; a finished run's last approval, or the last round before it)."""
    graph, effectful = loaded.graph, loaded.side_effect_workers()
    config: Any = {"configurable": {"thread_id": thread_id}}
    snapshots = [s async for s in graph.aget_state_history(config)]
    ids = [str(s.config["configurable"]["checkpoint_id"]) for s in snapshots]
    if text == "latest":
        for snapshot in snapshots:  # newest first
            values = snapshot.values
            sent = _side_effects(values, effectful)
            if snapshot.next and values.get("goal") is not None and not sent:
                return str(snapshot.config["configurable"]["checkpoint_id"])
        raise UserError(f"run {thread_id} has no checkpoint to fork from")
    chosen = pick(
        text,
        ids,
        "checkpoint",
        f"no checkpoint {text!r} in thread {thread_id!r}: list them with "
        f"`orchestrator history {thread_id}`",
    )
    snapshot = snapshots[ids.index(chosen)]
    if snapshot.values.get("goal") is None:
        # The first checkpoint holds the input before anything read it: nothing to copy.
        raise UserError(
            f"checkpoint {chosen} is before the run started (it holds no state yet): fork from "
            f"a later one (`orchestrator history {thread_id}`), or start a new trip"
        )
    return chosen


def _side_effects(values: dict[str, Any], effectful: frozenset[str]) -> bool:
    """Whether a side effect (travel: a booking or a cancellation) was sent: it belongs to its
    thread, so a fork from after one would hold nothing of it."""
    tasks = (values.get("tasks") or {}).values()
    return any(t.get("worker") in effectful and t.get("status") != "pending" for t in tasks)


def _started(checkpoint: Any) -> str | None:
    ts = checkpoint.get("ts") if checkpoint else None
    if not ts:
        return None
    return datetime.fromisoformat(str(ts)).astimezone().strftime("%Y-%m-%d %H:%M")


async def _row(graph: Graph, saver: BaseCheckpointSaver[str], thread: ThreadRow) -> RunRow:
    config: Any = {"configurable": {"thread_id": thread.thread_id}}
    snapshot = await graph.aget_state(config)
    values = snapshot.values or {}
    at: Any = {"configurable": {**config["configurable"], "checkpoint_ns": ""}}
    at["configurable"]["checkpoint_id"] = thread.first
    first = await saver.aget_tuple(at)
    if snapshot.interrupts:
        status = "awaiting_approval"
    elif snapshot.next:
        status = "interrupted"
    else:
        status = str(values.get("status") or "unknown")
    usage = usage_totals(values.get("usage") or [])
    tokens = usage.tokens if usage.calls else None
    return RunRow(
        thread_id=thread.thread_id,
        status=status,
        started=_started(first.checkpoint if first else None),
        goal=str(values.get("goal") or ""),
        tokens=tokens,
        cost_usd=usage.cost_usd if usage.calls else None,
    )


async def list_runs(args: argparse.Namespace) -> int:
    from orchestrator.cli.commands import data_dir_of

    target = resolve_target(args.checkpointer, data_dir_of(args))
    rows: list[RunRow] = []
    if await asyncio.to_thread(_store_exists, target):
        async with open_checkpointer(target) as saver:
            graph = load(getattr(args, "graph", None), saver).graph
            threads = await thread_rows(saver)
            if args.limit:
                threads = threads[: args.limit]
            rows = [await _row(graph, saver, t) for t in threads]
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return EXIT_OK
    if not rows:
        print("no runs yet: start one with `orchestrator demo` or `orchestrator trip`")
        return EXIT_OK
    print(format_runs(rows, terminal_width()))
    return EXIT_OK


def terminal_width() -> int | None:
    """The terminal's width (or $COLUMNS); None when piped, so lines are never cut for grep."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _cost(row: RunRow) -> str:
    if row.cost_usd is not None:
        return f"${row.cost_usd:.2f}"
    if row.tokens is not None:
        return f"{row.tokens:,} tok"
    return "-"


def format_runs(rows: list[RunRow], width: int | None = None) -> str:
    """Ids, status, start and cost in full; the goal takes what is left of `width` (or all)."""
    costs = [_cost(r) for r in rows]
    w_id = max(len("THREAD"), *(len(r.thread_id) for r in rows))
    w_status = max(len("STATUS"), *(len(r.status) for r in rows))
    w_cost = max(len("COST"), *(len(c) for c in costs))
    lines = [
        f"{'THREAD':<{w_id}}  {'STATUS':<{w_status}}  {'STARTED':<16}  {'COST':<{w_cost}}  GOAL"
    ]
    for r, cost in zip(rows, costs, strict=True):
        head = f"{r.thread_id:<{w_id}}  {r.status:<{w_status}}  {r.started or '-':<16}  "
        head += f"{cost:<{w_cost}}  "
        goal = r.goal
        room = None if width is None else width - len(head)
        if room is not None and len(goal) > room:
            goal = goal[: max(room - 1, 0)] + "…"
        lines.append(head + goal)
    return "\n".join(lines)
