"""The travel commands' grammar (`domains/travel/cli.py`, the standard library only, so it
cannot import the models) offers exactly what a `TripRequest` accepts."""

from __future__ import annotations

from typing import get_args

from annotated_types import Le

from domains.travel import cli
from domains.travel.models import Cabin, CarClass, TripRequest


def test_the_grammar_offers_what_a_trip_accepts() -> None:
    (most,) = [m.le for m in TripRequest.model_fields["travelers"].metadata if isinstance(m, Le)]

    assert get_args(Cabin) == cli.CABINS
    assert get_args(CarClass) == cli.CAR_CLASSES
    assert most == cli.MAX_TRAVELERS
