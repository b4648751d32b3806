"""`orchestrator show THREAD` (a run's report) and `orchestrator graph` (the graph's structure).

`show` prints the goal, the status, the plan as a tree, the timeline and the totals; `--format
mermaid` prints a `flowchart` and a `gantt` instead (raw; `--markdown` fences them), `--format
json` (or `--json`) the report's data, and `--out FILE.png|FILE.svg` draws the plan and the
timeline to an image (matplotlib, no network).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console

from graph.persistence import open_checkpointer
from orchestrator.cli.approval import render_approval
from orchestrator.cli.errors import EXIT_OK, UserError
from orchestrator.cli.graphs import load, load_graph
from orchestrator.report.load import load_report
from orchestrator.report.mermaid import (
    report_markdown,
    report_mermaid,
    structure_graph,
    structure_mermaid,
)
from orchestrator.report.text import print_report

IMAGE_SUFFIXES = (".png", ".svg")
T = TypeVar("T")


def check_image_target(path: str | None) -> None:
    """Fails fast, before any work, on a file type we cannot draw or a missing matplotlib."""
    if path is None:
        return
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in IMAGE_SUFFIXES:
        shown = suffix or "no extension"
        raise UserError(f"--out must end in .png or .svg, not {shown} ({path})")
    if importlib.util.find_spec("matplotlib") is None:
        raise UserError(
            "drawing images needs matplotlib, which is not installed: pip install matplotlib"
        )


class _PipeConsole(Console):
    """A console whose closed pipe ends the command like any other's (quietly, exit 141)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _stdout_console() -> Console:
    # A pipe gets plain text, wide enough for the timeline bars (rich would assume 80 columns).
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120
    return _PipeConsole(file=sys.stdout, width=wide)


async def show(args: argparse.Namespace) -> int:
    from orchestrator.cli.commands import (
        check_storage,
        checkpoint_target,
        data_dir_of,
        require_thread,
    )

    check_image_target(args.out)
    target = await checkpoint_target(args)
    async with open_checkpointer(target) as saver:
        loaded = load(args.graph, saver)
        snapshot = await require_thread(loaded.graph, args.thread_id, target)
        report = await load_report(loaded.graph, args.thread_id)
    # A report of records (travel: bookings) that the storage here does not hold would mislead.
    await check_storage(loaded, args.thread_id, snapshot.values, data_dir_of(args))
    pending = [i.value for i in snapshot.interrupts if isinstance(i.value, dict)]
    if args.format == "json":
        data = report.as_dict()
        data["pending_approval"] = pending or None
        print(json.dumps(data, indent=2, default=str))
    elif args.format == "mermaid":
        render = report_markdown if args.markdown else report_mermaid
        print(render(report, args.diagram))
    elif args.format == "text" or args.out is None:
        print_report(report, _stdout_console())
        for question in pending:
            print(render_approval(question))
        if pending:
            print(f"\ncontinue with: orchestrator resume {args.thread_id} [--yes | --answer ...]")
    if args.out:
        from orchestrator.report.image import report_figure, save

        written = await _save(lambda: save(report_figure(report), args.out), args.out)
        print(f"wrote {written}", file=sys.stderr)
    return EXIT_OK


async def _save(draw: Callable[[], T], path: str) -> T:
    try:
        return await asyncio.to_thread(draw)
    except OSError as exc:
        raise UserError(
            f"cannot write {path} ({exc.strerror or exc}): pick a writable place for --out"
        ) from None


def _describe(graph: Any) -> list[str]:
    drawable = structure_graph(graph)
    lines = [f"{graph.name}: {len(drawable.nodes)} nodes, {len(drawable.edges)} edges"]
    for edge in drawable.edges:
        kind = "conditional (route or Send)" if edge.conditional else "always"
        lines.append(f"  {edge.source:<16} -> {edge.target:<16} {kind}")
    return lines


async def draw_graph(args: argparse.Namespace) -> int:
    check_image_target(args.out)
    graph = load_graph(args.graph, None)
    if args.json:
        drawable = structure_graph(graph)
        data = {
            "name": graph.name,
            "nodes": list(drawable.nodes),
            "edges": [
                {"source": e.source, "target": e.target, "conditional": e.conditional}
                for e in drawable.edges
            ],
        }
        print(json.dumps(data, indent=2))
    elif args.format == "mermaid":
        print(structure_mermaid(graph))
    elif args.format == "text" or args.out is None:
        print("\n".join(_describe(graph)))
    if args.out:
        from orchestrator.report.image import save, structure_figure

        written = await _save(lambda: save(structure_figure(graph), args.out), args.out)
        print(f"wrote {written}", file=sys.stderr)
    return EXIT_OK
