"""`orchestrator run "..."`: a trip in the traveller's own words, read by the model, then planned.

The model first fills a `TripRequest`, checked exactly as `orchestrator trip` checks its flags
(re-asked with the errors when it does not fit). From there the run is the same as `trip`:
same graph, same approvals, same report, plus the model's token usage and cost.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from domains.travel.models import TripRequest
from domains.travel.request import inventory_window
from orchestrator.cli import commands
from orchestrator.cli.errors import UserError
from orchestrator.llm.config import model_configured, model_name

NO_MODEL_HELP = (
    "`orchestrator run` needs a model to read a request in words, and none is configured: "
    "set OPENAI_API_KEY (and OPENAI_BASE_URL for vLLM, Ollama or LM Studio, e.g. "
    "OPENAI_BASE_URL=http://localhost:11434/v1), or give the trip as flags instead: "
    "orchestrator trip --from SFO --to CDG --depart +30 --return +35 --travelers 2 "
    "--budget 9000"
)

EXAMPLE = "San Francisco to Paris in 30 days for 5 nights, two people, under $9000"


def describe(trip: TripRequest) -> str:
    extras = [trip.cabin, f"{trip.hotel_tier}-star hotels"]
    extras.append(f"{trip.car_class} car" if trip.car else "no car")
    return f"{trip.goal()} ({', '.join(extras)})"


async def run(args: argparse.Namespace) -> int:
    text = str(args.text).strip()
    if not text:
        raise UserError(f"say what trip to plan, e.g. orchestrator run '{EXAMPLE}'")
    data_dir = commands._data_dir(args)
    context = commands._context(args, data_dir, auto=False)
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
    return await commands._run_trip(
        args, extracted.trip, data_dir, thread_id, auto=False, extra_usage=extracted.usage
    )
