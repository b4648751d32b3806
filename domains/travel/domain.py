"""The travel domain: its workers, its planners, its synthesizer and its approval view."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NotRequired

from pydantic import ConfigDict, ValidationError, with_config
from typing_extensions import TypedDict

from domains.travel.approval import describe_bookings
from domains.travel.inventory import AIRPORTS
from domains.travel.itinerary import ItinerarySynthesizer
from domains.travel.models import TripRequest
from domains.travel.planner import TravelRulesPlanner
from domains.travel.request import TripInputError, check_trip, inventory_window
from domains.travel.services import check_thread_storage
from domains.travel.verifier import TripVerifier
from domains.travel.workers import travel_workers
from orchestrator.context import Context
from orchestrator.domain import Domain, StorageUnavailable
from orchestrator.llm.config import use_llm_planner, use_llm_synthesizer
from orchestrator.planning import Planner, Synthesizer


@with_config(ConfigDict(use_attribute_docstrings=True))
class TripInput(TypedDict):
    """A trip to plan and book: the goal in words and the structured request."""

    goal: str
    """The trip in a sentence, e.g. 'Paris in February for two'."""
    request: TripRequest
    """The legs, travellers, budget and preferences. Sent as plain JSON (see examples/trip.json)."""
    scope: NotRequired[str]
    """Where this run sits under a managing orchestrator ('' at the top). Part of every side
    effect's idempotency key, so sub-runs on one thread never share a booking."""


@lru_cache(maxsize=1)
def _airport_maps() -> tuple[dict[str, str], dict[str, list[str]]]:
    city_of = {a.code: a.city for a in AIRPORTS}
    siblings = {
        a.code: [b.code for b in AIRPORTS if b.city == a.city and b.code != a.code]
        for a in AIRPORTS
    }
    return city_of, siblings


def travel_planner(context: Context) -> Planner:
    """The LLM planner when `Context.planner` picks it (`auto`: a model is configured)."""
    if use_llm_planner(context):
        # Imported here: the offline path never loads the model client.
        from domains.travel.llm_planner import travel_llm_planner

        return travel_llm_planner()
    city_of, siblings = _airport_maps()
    return TravelRulesPlanner(city_of, siblings)


def travel_synthesizer(context: Context) -> Synthesizer:
    """The itinerary; from the board when an LLM planned, with prose when a model is named."""
    if not use_llm_planner(context) and not use_llm_synthesizer(context):
        return ItinerarySynthesizer()
    from domains.travel.llm_planner import board_itinerary_synthesizer
    from orchestrator.llm.synthesizer import LLMSynthesizer

    itinerary: Synthesizer = (
        board_itinerary_synthesizer() if use_llm_planner(context) else ItinerarySynthesizer()
    )
    return LLMSynthesizer(itinerary) if use_llm_synthesizer(context) else itinerary


def check_trip_request(request: Mapping[str, Any] | None, context: Context) -> str | None:
    """What the CLI checks before a trip, for every run (the server, Python): a well-formed
    request, known airports, dates bookable from today on; one line, or None."""
    try:
        trip = TripRequest.model_validate(request or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"no valid trip request: {where + ': ' if where else ''}{message}"
    try:
        check_trip(trip, inventory_window(context.data_dir))
    except TripInputError as exc:
        return str(exc)
    except StorageUnavailable as exc:
        return str(exc)
    return None


def travel_domain() -> Domain:
    return Domain(
        name="travel",
        description="Books multi-leg trips: flights first, then hotels and cars around them.",
        workers=travel_workers(),
        planner=travel_planner,
        synthesizer=travel_synthesizer,
        describe_approval=describe_bookings,
        verifier=lambda _context: TripVerifier(),
        input_schema=TripInput,
        check_request=check_trip_request,
        check_thread=check_thread_storage,
    )
