"""A trip request's budget is bounded (a number that prints), and a one-day trip's goal says
"on" its day rather than "from" it "to" itself."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domains.travel.models import MAX_BUDGET, Leg, TripRequest

OUT = Leg(origin="SFO", destination="CDG", date=date(2030, 3, 1))


def test_a_budget_beyond_the_cap_is_refused() -> None:
    assert TripRequest(legs=[OUT], budget=MAX_BUDGET).budget == MAX_BUDGET
    with pytest.raises(ValidationError, match="less than or equal to 10000000"):
        TripRequest(legs=[OUT], budget=1e300)


def test_the_goal_names_one_day_once() -> None:
    assert TripRequest(legs=[OUT], travelers=2).goal() == (
        "Book a trip SFO -> CDG on 2030-03-01 for 2 traveller(s)"
    )
    back = Leg(origin="CDG", destination="SFO", date=date(2030, 3, 6))
    assert TripRequest(legs=[OUT, back], budget=9000).goal() == (
        "Book a trip SFO -> CDG -> SFO from 2030-03-01 to 2030-03-06 for 1 traveller(s), "
        "budget $9,000"
    )
