"""The travel worker pool: three searches, a booking and its compensation."""

from domains.travel.workers.book import BOOK
from domains.travel.workers.cancel import CANCEL
from domains.travel.workers.search_cars import SEARCH_CARS
from domains.travel.workers.search_flights import SEARCH_FLIGHTS
from domains.travel.workers.search_hotels import SEARCH_HOTELS
from orchestrator.workers import WorkerRegistry


def travel_workers() -> WorkerRegistry:
    return WorkerRegistry.of(SEARCH_FLIGHTS, SEARCH_HOTELS, SEARCH_CARS, BOOK, CANCEL)


__all__ = ["BOOK", "CANCEL", "SEARCH_CARS", "SEARCH_FLIGHTS", "SEARCH_HOTELS", "travel_workers"]
