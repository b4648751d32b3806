"""The travel domain's command handlers: `demo`, `trip`, `run`, `bookings` and `airports`.

Their grammar is `domains.travel.cli`; the engine's CLI imports this module only when one of
these commands runs. A trip is checked as a `TripRequest` before anything is written, then run by
the engine's `start_run`, which builds the inventory first if there is none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domains.travel.domain import travel_domain
from domains.travel.inventory import AIRPORTS
from domains.travel.models import CarWish, HotelWish, Leg, TripRequest
from domains.travel.request import (
    TripInputError,
    build_trip,
    inventory_window,
    parse_day,
    parse_leg,
    round_trip_legs,
    showcase_trip,
)
from domains.travel.services import (
    check_thread_storage,
    existing_inventory,
    inventory_at,
    inventory_exists,
    inventory_location,
)
from graph.builder import build_graph
from graph.persistence import is_postgres, open_checkpointer, resolve_target
from orchestrator.cli.commands import (
    data_dir_of,
    run_context,
    start_run,
)
from orchestrator.cli.errors import EXIT_OK, UserError
from orchestrator.llm.config import model_configured, model_name
from state import Usage

W = TypeVar("W", bound=BaseModel)

NO_MODEL_HELP = (
    "`orchestrator run` needs a model to read a request in words, and none is configured: "
    "set OPENAI_API_KEY (and OPENAI_BASE_URL for vLLM, Ollama or LM Studio, e.g. "
    "OPENAI_BASE_URL=http://localhost:11434/v1), or give the trip as flags instead: "
    "orchestrator trip --from SFO --to CDG --depart +30 --return +35 --travelers 2 "
    "--budget 9000"
)
EXAMPLE = "San Francisco to Paris in 30 days for 5 nights, two people, under $9000"


async def run_trip(
    args: argparse.Namespace,
    trip: TripRequest,
    thread_id: str,
    *,
    auto: bool,
    extra_usage: list[Usage] | None = None,
) -> int:
    """Plans and books `trip` on `thread_id`, building the inventory first if there is none."""
    data_dir = data_dir_of(args)

    async def prepare() -> None:
        if not await asyncio.to_thread(inventory_exists, data_dir):
            where = inventory_location(data_dir)
            print(f"creating the inventory database in {where} (once)...", file=sys.stderr)
        await asyncio.to_thread(inventory_at, data_dir)

    return await start_run(
        args,
        travel_domain(),
        {"goal": trip.goal(), "request": trip.model_dump(mode="json")},
        thread_id,
        auto=auto,
        prepare=prepare,
        extra_usage=extra_usage or [],
    )


async def trip(args: argparse.Namespace) -> int:
    data_dir = data_dir_of(args)
    try:
        legs = _legs(args)
        if args.car and args.car_at:
            raise TripInputError(
                "use either --car (a car in every city) or --car-at (a car in the cities named), "
                "not both"
            )
        request = build_trip(
            legs=legs,
            travelers=args.travelers,
            budget=args.budget,
            cabin=args.cabin,
            hotel_tier=args.hotel_tier,
            car=args.car,
            car_class=args.car_class,
            window=await asyncio.to_thread(inventory_window, data_dir),
            open_jaw=args.open_jaw,
            cars=_wishes(CarWish, args.car_at),
            hotels=_wishes(HotelWish, args.hotel_at),
        )
    except TripInputError as exc:
        raise UserError(str(exc)) from None
    thread_id = args.thread or f"trip-{uuid.uuid4().hex[:8]}"
    return await run_trip(args, request, thread_id, auto=False)


def _wishes(model: type[W], given: list[dict[str, Any]]) -> list[W]:
    """`--car-at` / `--hotel-at` values as the request's wishes; one line for a bad one."""
    wishes = []
    for wish in given:
        try:
            wishes.append(model.model_validate(wish))
        except ValidationError as exc:
            error = exc.errors()[0]
            message = str(error["msg"]).removeprefix("Value error, ")
            field = ".".join(str(p) for p in error["loc"])
            flag = "--car-at" if model is CarWish else "--hotel-at"
            named = f" {field}" if field else ""
            raise TripInputError(f"{flag} {wish['airport']}{named}: {message}") from None
    return wishes


def _legs(args: argparse.Namespace) -> list[Leg]:
    if args.leg:
        if args.origin or args.destination:
            raise TripInputError("use either --leg (repeated) or --from/--to, not both")
        return [parse_leg(text) for text in args.leg]
    if not (args.origin and args.destination and args.depart):
        raise TripInputError(
            "say where and when: --from SFO --to CDG --depart +30 [--return +35] (dates are "
            "YYYY-MM-DD or +N days from today), or repeat --leg FROM-TO:DATE"
        )
    depart = parse_day(args.depart, "--depart")
    back = parse_day(args.back, "--return") if args.back else None
    return round_trip_legs(args.origin, args.destination, depart, back)


async def demo(args: argparse.Namespace) -> int:
    window = await asyncio.to_thread(inventory_window, data_dir_of(args))
    request = showcase_trip(window[0])
    print(
        "Demo: the orchestrator plans a trip, delegates searches to workers in parallel, "
        "re-plans from what they find, then books (approval is automatic in the demo).",
        file=sys.stderr,
    )
    thread_id = f"demo-{uuid.uuid4().hex[:8]}"
    args.yes = True
    return await run_trip(args, request, thread_id, auto=True)


def describe(trip: TripRequest) -> str:
    extras = [trip.cabin, f"{trip.hotel_tier}-star hotels"]
    extras.append(f"{trip.car_class} car" if trip.car else "no car")
    return f"{trip.goal()} ({', '.join(extras)})"


async def run(args: argparse.Namespace) -> int:
    """`orchestrator run "..."`: a trip in the traveller's own words, read by the model, then
    planned. The model fills a `TripRequest`, checked exactly as `trip` checks its flags
    (re-asked with the errors when it does not fit); from there the run is `trip`'s, plus the
    model's token usage and cost."""
    text = str(args.text).strip()
    if not text:
        raise UserError(f"say what trip to plan, e.g. orchestrator run '{EXAMPLE}'")
    data_dir = data_dir_of(args)
    context = run_context(args, data_dir, auto=False)
    if not model_configured(context):
        raise UserError(NO_MODEL_HELP)
    # Imported here: the model client loads only when a model is configured.
    from domains.travel.extract import TripNotUnderstood, extract_trip
    from orchestrator.llm.models import ModelCallFailed, ModelUnavailable

    window = await asyncio.to_thread(inventory_window, data_dir)
    print(f"reading the request with {model_name(context, 'planner')}...", file=sys.stderr)
    try:
        extracted = await extract_trip(text, context, window=window)
    except TripNotUnderstood as exc:
        raise UserError(
            f"{exc}; say it differently, or give the trip as flags with `orchestrator trip`"
        ) from None
    except (ModelUnavailable, ModelCallFailed) as exc:
        raise UserError(f"the model could not read the request: {exc}") from None
    print(f"understood: {describe(extracted.trip)}", file=sys.stderr)
    thread_id = args.thread or f"run-{uuid.uuid4().hex[:8]}"
    return await run_trip(
        args, extracted.trip, thread_id, auto=False, extra_usage=list(extracted.usage)
    )


async def bookings(args: argparse.Namespace) -> int:
    data_dir = data_dir_of(args)
    thread = args.thread_id
    if thread:
        await _check_bookings_thread(args, thread, data_dir)
    inventory = await asyncio.to_thread(existing_inventory, data_dir)
    rows: list[dict[str, Any]] = []
    if inventory is not None:
        found = await asyncio.to_thread(inventory.bookings, thread)
        rows = [b.model_dump(mode="json") for b in found]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no bookings" + (f" for thread {thread}" if thread else ""))
    for b in rows:
        print(
            f"{b['ref']:<12} {b['status']:<10} {b['kind']:<7} ${b['total_price']:>10,.2f}  "
            f"{b['thread_id']}  {b['description']}"
        )
    return EXIT_OK


async def _check_bookings_thread(args: argparse.Namespace, thread: str, data_dir: str) -> None:
    """`bookings THREAD` when THREAD's checkpoints list bookings: they must be in this
    inventory, else "no bookings" would be a lie. No checkpoints at all: nothing to check."""
    target = resolve_target(args.checkpointer, data_dir)
    if not (is_postgres(target) or await asyncio.to_thread(Path(target).is_file)):
        return
    domain = travel_domain()
    async with open_checkpointer(target) as saver:
        graph = build_graph(domain, checkpointer=saver)
        snapshot = await graph.aget_state({"configurable": {"thread_id": thread}})
    if snapshot.values:
        values = snapshot.values
        await asyncio.to_thread(
            lambda: check_thread_storage(thread, values, data_dir, resuming=False)
        )


async def airports(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([a.model_dump() for a in AIRPORTS], indent=2))
        return EXIT_OK
    for a in sorted(AIRPORTS, key=lambda a: (a.city, a.code)):
        print(f"{a.code}  {a.city:<16} {a.name}  ({a.tz})")
    return EXIT_OK
