"""A search outside the inventory's dates says so, instead of "route not served" or "sold out"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from domains.travel.workers.search_cars import SearchCarsInput, search_cars
from domains.travel.workers.search_flights import SearchFlightsInput, search_flights
from domains.travel.workers.search_hotels import SearchHotelsInput, search_hotels
from orchestrator.context import Context
from orchestrator.workers import TaskFailed, WorkerCall


def _call(data_dir: Path) -> WorkerCall:
    return WorkerCall(
        task_id="s", thread_id="t", attempt=1, context=Context(data_dir=str(data_dir))
    )


async def test_every_search_refuses_dates_outside_the_window(
    data_dir: Path, inventory: Inventory
) -> None:
    start, end = inventory.window()
    after = end + timedelta(days=3)
    searches = [
        search_flights(
            SearchFlightsInput(origin="SFO", destination="CDG", date=after), _call(data_dir)
        ),
        search_hotels(
            SearchHotelsInput(city="Paris", check_in=end, check_out=after), _call(data_dir)
        ),
        search_cars(
            SearchCarsInput(airport="CDG", pick_up=start - timedelta(days=1), drop_off=start),
            _call(data_dir),
        ),
    ]
    for search in searches:
        with pytest.raises(TaskFailed, match=rf"outside the bookable dates {start} to {end}"):
            await search


async def test_a_stay_ending_the_day_after_the_window_is_still_searchable(
    data_dir: Path, inventory: Inventory
) -> None:
    _, end = inventory.window()
    found = await search_hotels(
        SearchHotelsInput(city="Paris", check_in=end, check_out=end + timedelta(days=1)),
        _call(data_dir),
    )
    assert found.options
