"""The `orchestrator` command line.

Every command checks its input before it writes anything; a mistake prints one line that says
how to fix it and exits 2. Progress goes to stderr, results to stdout (`--json` keeps stdout
machine-clean).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from orchestrator.cli import commands, history_cmd, run_cmd, show_cmd
from orchestrator.cli.errors import EXIT_USAGE, UserError
from orchestrator.context import default_data_dir


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where the inventory and checkpoints live (default: $ORCHESTRATOR_HOME or "
        f"{default_data_dir()})",
    )
    parser.add_argument(
        "--checkpointer",
        default=None,
        help="checkpoint store: an SQLite file path or a postgresql:// URI "
        "(default: $ORCHESTRATOR_CHECKPOINTER or <data-dir>/checkpoints.sqlite)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="approve bookings without asking")
    parser.add_argument("--thread", default=None, help="thread id (default: a new one)")
    parser.add_argument(
        "--planner", choices=["auto", "llm", "rules"], default=None, help="planner to use"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchestrator",
        description="An orchestrator that plans, delegates to workers and re-plans.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the showcase trip offline (auto-approves)")
    _common(demo)

    trip = sub.add_parser("trip", help="plan and book a trip from structured flags")
    trip.add_argument("--from", dest="origin", help="origin airport (IATA), e.g. SFO")
    trip.add_argument("--to", dest="destination", help="destination airport (IATA), e.g. CDG")
    trip.add_argument("--depart", help="departure date, YYYY-MM-DD")
    trip.add_argument("--return", dest="back", help="return date, YYYY-MM-DD (round trip)")
    trip.add_argument(
        "--leg",
        action="append",
        default=[],
        metavar="FROM-TO:DATE",
        help="a leg of a multi-leg trip; repeat in travel order (instead of --from/--to)",
    )
    trip.add_argument("--travelers", type=int, default=1)
    trip.add_argument("--budget", type=float, default=None, help="total budget in USD")
    trip.add_argument("--cabin", choices=["economy", "premium", "business"], default="economy")
    trip.add_argument("--hotel-tier", type=int, default=3, choices=range(1, 6), metavar="1-5")
    trip.add_argument("--car", action="store_true", help="rent a car at each destination")
    trip.add_argument(
        "--car-class",
        choices=["economy", "compact", "midsize", "suv", "luxury"],
        default="compact",
    )
    _common(trip)
    _run_options(trip)

    run = sub.add_parser(
        "run", help="plan and book a trip described in words (needs a model: OPENAI_API_KEY)"
    )
    run.add_argument(
        "text",
        metavar="TEXT",
        help='the trip in your words, e.g. "San Francisco to Paris, Jan 10-15, two people, '
        'under $4000"',
    )
    _common(run)
    _run_options(run)

    resume = sub.add_parser("resume", help="continue a paused or interrupted run")
    resume.add_argument("thread_id", metavar="THREAD")
    resume.add_argument("--yes", action="store_true", help="approve bookings without asking")
    _common(resume)

    bookings = sub.add_parser("bookings", help="list what was booked")
    bookings.add_argument("--thread", default=None, help="only this run's bookings")
    _common(bookings)

    history_cmd.add_parsers(sub)
    show_cmd.add_parsers(sub)

    airports = sub.add_parser("airports", help="list the airports of the inventory")
    airports.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(dispatch(args))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        thread = getattr(args, "thread_id", None) or getattr(args, "thread", None)
        hint = f"; continue with: orchestrator resume {thread}" if thread else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130
    finally:
        _flush_traces()


def _flush_traces() -> None:
    """Sends what the LangSmith tracer still holds before exiting; no-op when tracing is off."""
    from langchain_core.tracers.langchain import wait_for_all_tracers

    wait_for_all_tracers()


async def dispatch(args: argparse.Namespace) -> int:
    handlers: dict[str, Any] = {
        "demo": commands.demo,
        "trip": commands.trip,
        "run": run_cmd.run,
        "resume": commands.resume,
        "bookings": commands.bookings,
        "airports": commands.airports,
        "history": history_cmd.show_history,
        "fork": history_cmd.fork_run,
        "show": show_cmd.show,
        "graph": show_cmd.draw_graph,
    }
    result: int = await handlers[args.command](args)
    return result


def new_thread_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))
