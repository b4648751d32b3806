"""The travel domain: its workers, its planners, its synthesizer and its approval view."""

from __future__ import annotations

from functools import lru_cache

from domains.travel.approval import describe_bookings
from domains.travel.inventory import AIRPORTS
from domains.travel.itinerary import ItinerarySynthesizer
from domains.travel.planner import TravelRulesPlanner
from domains.travel.workers import travel_workers
from orchestrator.context import Context
from orchestrator.domain import Domain
from orchestrator.planning import Planner, Synthesizer


@lru_cache(maxsize=1)
def _airport_maps() -> tuple[dict[str, str], dict[str, list[str]]]:
    city_of = {a.code: a.city for a in AIRPORTS}
    siblings = {
        a.code: [b.code for b in AIRPORTS if b.city == a.city and b.code != a.code]
        for a in AIRPORTS
    }
    return city_of, siblings


def travel_planner(context: Context) -> Planner:
    city_of, siblings = _airport_maps()
    return TravelRulesPlanner(city_of, siblings)


def travel_synthesizer(context: Context) -> Synthesizer:
    return ItinerarySynthesizer()


def travel_domain() -> Domain:
    return Domain(
        name="travel",
        description="Books multi-leg trips: flights first, then hotels and cars around them.",
        workers=travel_workers(),
        planner=travel_planner,
        synthesizer=travel_synthesizer,
        describe_approval=describe_bookings,
    )
