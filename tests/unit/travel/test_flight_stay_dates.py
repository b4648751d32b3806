"""A flight option's `hotel_check_in` and `car_pick_up` (what a stay or car search planned with
the flights takes by `$ref`) are the dates the verifier checks: `policy.stay_dates` and the
local arrival day, for every arrival time and time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from domains.travel.models import FlightOption
from domains.travel.policy import EARLY_ARRIVAL_HOUR, stay_dates


def _flight(arrive: datetime) -> FlightOption:
    depart = arrive - timedelta(hours=9)
    return FlightOption(
        id="XX1:2030-01-01:economy",
        flight_no="XX1",
        origin="SFO",
        destination="CDG",
        depart_local=depart.isoformat(),
        arrive_local=arrive.isoformat(),
        duration_min=540,
        cabin="economy",
        price=500.0,
        seats_left=9,
        red_eye=arrive.hour < EARLY_ARRIVAL_HOUR,
    )


@seed(20301207)
@settings(max_examples=300, deadline=None, database=None, print_blob=True)
@given(
    day=st.dates(min_value=date(2030, 1, 1), max_value=date(2031, 12, 31)),
    minute=st.integers(min_value=0, max_value=24 * 60 - 1),
    offset_min=st.sampled_from([-600, -480, -300, -240, 0, 60, 120, 330, 540, 780]),
    nights=st.integers(min_value=1, max_value=20),
)
def test_the_dates_a_flight_gives_its_stay_and_car_are_the_verifiers(
    day: date, minute: int, offset_min: int, nights: int
) -> None:
    zone = timezone(timedelta(minutes=offset_min))
    arrive = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    flight = _flight(arrive)
    leaving = {"depart_local": (arrive + timedelta(days=nights)).isoformat()}
    check_in, _check_out, early = stay_dates(flight.model_dump(), leaving)

    assert flight.hotel_check_in == check_in.isoformat()
    assert flight.car_pick_up == day.isoformat()
    assert early == (minute // 60 < EARLY_ARRIVAL_HOUR)
    # Stored and read back (a checkpoint, a ref resolved from a result): the same dates.
    again = FlightOption.model_validate(flight.model_dump())
    assert (again.hotel_check_in, again.car_pick_up) == (flight.hotel_check_in, day.isoformat())
