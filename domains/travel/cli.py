"""The travel domain's commands on the `orchestrator` command line: `demo`, `trip`, `run`,
`bookings` and `airports`.

This is the module `$ORCHESTRATOR_DOMAINS` names by default (`orchestrator.cli.plugins`): the
parser reads it for `--help`, so it imports only the standard library and the parser's helpers.
Each command's `handler` (in `domains.travel.commands`) is imported only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from orchestrator.cli.parser import (
    RELATIVE_DAY,
    RUN_JSON,
    add_command,
    budget,
    common_options,
    day,
    run_options,
)

MAX_TRAVELERS = 9
CABINS = ("economy", "premium", "business")
CAR_CLASSES = ("economy", "compact", "midsize", "suv", "luxury")
HANDLERS = "domains.travel.commands"
"""Where the commands' handlers live (LangGraph, pydantic and the inventory load with it)."""

DOMAIN = "domains.travel.domain:travel_domain"
"""The `Domain` the engine's commands (`runs`, `show`, `resume`...) read by default."""
GRAPH = "orchestrator"
"""Its graph's name in `langgraph.json`."""
EXAMPLES = (
    "orchestrator demo",
    "orchestrator trip --from SFO --to CDG --depart +30 --return +35 --travelers 2 \\",
    "    --budget 9000 --yes",
)


def travelers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_TRAVELERS:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 and at most {MAX_TRAVELERS}, got {count}"
        )
    return count


def car_at(text: str) -> dict[str, Any]:
    """`AIRPORT[:CLASS][:COUNT]`, e.g. `CDG`, `FCO:suv`, `FCO:suv:2`, `FCO:2`."""
    airport, *rest = text.strip().split(":")
    wish: dict[str, Any] = {"airport": airport.upper()}
    for part in rest:
        part = part.strip().lower()
        if part in CAR_CLASSES and "car_class" not in wish:
            wish["car_class"] = part
        elif part.isdigit() and "count" not in wish:
            wish["count"] = int(part)
        else:
            raise argparse.ArgumentTypeError(
                f"{text!r}: use AIRPORT[:CLASS][:COUNT], CLASS one of {', '.join(CAR_CLASSES)} "
                "(e.g. FCO:suv:2)"
            )
    if len(airport.strip()) != 3 or not airport.strip().isalpha():
        raise argparse.ArgumentTypeError(f"{text!r}: {airport!r} is not an IATA airport code")
    return wish


def hotel_at(text: str) -> dict[str, Any]:
    """`AIRPORT:TIER` (1-5) or `AIRPORT:none` (no hotel there)."""
    airport, sep, what = text.strip().partition(":")
    what = what.strip().lower()
    if len(airport.strip()) != 3 or not airport.strip().isalpha():
        raise argparse.ArgumentTypeError(f"{text!r}: {airport!r} is not an IATA airport code")
    if what == "none":
        return {"airport": airport.upper(), "wanted": False}
    if sep and what in {"1", "2", "3", "4", "5"}:
        return {"airport": airport.upper(), "tier": int(what)}
    raise argparse.ArgumentTypeError(f"{text!r}: use AIRPORT:TIER (1-5) or AIRPORT:none")


def leg(text: str) -> str:
    """`FROM-TO:DATE` with DATE as `day` takes it; the rest is checked with the trip."""
    route, sep, when = text.partition(":")
    if sep and RELATIVE_DAY.fullmatch(when.strip()):
        return f"{route}:{day(when)}"
    return text


def fold_thread(args: argparse.Namespace) -> None:
    """`bookings --thread ID` (deprecated) is `bookings ID`."""
    if args.thread is not None:
        print("note: `bookings --thread ID` is deprecated: use `bookings ID`", file=sys.stderr)
        if args.thread_id is None:
            args.thread_id = args.thread
    args.thread = args.thread_id


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    demo = add_command(
        sub,
        "demo",
        "run the showcase trip offline (approval is automatic)",
        "Plans, searches, re-plans and books a three-leg trip for two, 45 days from now, on the "
        "offline inventory. No API key, no network.",
        "  orchestrator demo\n  orchestrator demo --data-dir /tmp/orch --json",
    )
    common_options(demo, json_help=RUN_JSON)

    trip = add_command(
        sub,
        "trip",
        "plan and book a trip given as flags",
        "Plans and books a trip: a round trip with --from/--to/--depart[/--return], or legs in "
        "travel order with --leg. Asks before booking unless --yes.",
        "  orchestrator trip --from SFO --to CDG --depart +30 --return +35 --travelers 2 \\\n"
        "      --budget 9000\n"
        "  orchestrator trip --leg SFO-JFK:+30 --leg JFK-CDG:+33 --leg CDG-SFO:+37 --car --yes\n"
        "  orchestrator trip --from SFO --to LHR --depart +60 --cabin business --json",
    )
    trip.add_argument("--from", dest="origin", metavar="IATA", help="origin airport, e.g. SFO")
    trip.add_argument(
        "--to", dest="destination", metavar="IATA", help="destination airport, e.g. CDG"
    )
    trip.add_argument(
        "--depart", metavar="DATE", type=day, help="departure date: YYYY-MM-DD or +N days"
    )
    trip.add_argument(
        "--return",
        dest="back",
        metavar="DATE",
        type=day,
        help="return date: YYYY-MM-DD or +N days (default: one way)",
    )
    trip.add_argument(
        "--leg",
        action="append",
        default=[],
        type=leg,
        metavar="FROM-TO:DATE",
        help="one leg (e.g. SFO-JFK:+30); repeat in travel order, instead of --from/--to",
    )
    trip.add_argument(
        "--travelers",
        type=travelers,
        default=1,
        metavar="N",
        help=f"travellers, 1 to {MAX_TRAVELERS} (default: %(default)s)",
    )
    trip.add_argument(
        "--budget",
        type=budget,
        default=None,
        metavar="USD",
        help="total budget in USD, a finite amount >= 0 (default: none)",
    )
    trip.add_argument(
        "--cabin", choices=CABINS, default="economy", help="flight cabin (default: %(default)s)"
    )
    trip.add_argument(
        "--hotel-tier",
        type=int,
        default=3,
        choices=range(1, 6),
        metavar="1-5",
        help="hotel stars, 1 (budget) to 5 (luxury) (default: %(default)s)",
    )
    trip.add_argument("--car", action="store_true", help="rent a car at each destination")
    trip.add_argument(
        "--car-class",
        choices=CAR_CLASSES,
        default="compact",
        help="with --car (default: %(default)s)",
    )
    trip.add_argument(
        "--car-at",
        action="append",
        default=[],
        type=car_at,
        metavar="AIRPORT[:CLASS][:COUNT]",
        help="a car only where asked, e.g. CDG or FCO:suv:2: COUNT cars exactly (default: "
        "seats for everyone), CLASS preferred (another if it is sold out); repeat per city, "
        "instead of --car",
    )
    trip.add_argument(
        "--hotel-at",
        action="append",
        default=[],
        type=hotel_at,
        metavar="AIRPORT:TIER|none",
        help="the hotel stars in one city (FCO:4), or none there (FCO:none); repeat per city",
    )
    trip.add_argument(
        "--open-jaw",
        action="store_true",
        help="the legs need not connect (into Paris, home from Rome); without it every leg "
        "starts where the previous one ended",
    )
    common_options(trip, json_help=RUN_JSON)
    run_options(trip, thread_help="thread id for the run (default: a new trip-XXXXXXXX)")

    run = add_command(
        sub,
        "run",
        "plan and book a trip described in words (needs a model)",
        "A model reads the request into a trip (checked as `trip` checks its flags), then plans "
        "it. Needs OPENAI_API_KEY (and OPENAI_BASE_URL for vLLM, Ollama or LM Studio); without "
        "a model it exits 2 and writes nothing.",
        "  orchestrator run 'San Francisco to Paris in 30 days for 5 nights, two people, "
        "under $9000'",
    )
    run.add_argument(
        "text",
        metavar="TEXT",
        help="the trip in your words; single-quote it when it holds a $",
    )
    common_options(run, json_help=RUN_JSON)
    run_options(run, thread_help="thread id for the run (default: a new run-XXXXXXXX)")

    bookings = add_command(
        sub,
        "bookings",
        "list what was booked",
        "Lists the bookings in the inventory: all of them, or one run's.",
        "  orchestrator bookings\n  orchestrator bookings THREAD --json",
    )
    bookings.add_argument(
        "thread_id", metavar="THREAD", nargs="?", default=None, help="only this run's bookings"
    )
    bookings.add_argument(
        "--thread", default=None, metavar="ID", help="deprecated: give THREAD instead"
    )
    common_options(bookings, json_help="the bookings as a JSON list")

    airports = add_command(
        sub,
        "airports",
        "list the airports of the inventory",
        "The airports the offline inventory knows, with their city and time zone.",
        "  orchestrator airports\n  orchestrator airports --json",
    )
    airports.add_argument("--json", action="store_true", help="the airports as a JSON list")

    for name, parser in (
        ("demo", demo),
        ("trip", trip),
        ("run", run),
        ("bookings", bookings),
        ("airports", airports),
    ):
        parser.set_defaults(handler=f"{HANDLERS}:{name}")
    bookings.set_defaults(normalize_args=fold_thread, unknown_thread_ok=True)
