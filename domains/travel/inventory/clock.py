"""The one clock every date rule of the travel domain reads: what "now" and "today" are.

Everything that decides whether something is still bookable asks this module, through the module
(`clock.now()`, never `from ... import now`), so a test fixes the time for all of them at once
with `monkeypatch.setattr(clock, "now", lambda: <an aware datetime>)`.

"Now" is an instant; dates follow from it, and depend on where they are read:

- `today()` is this machine's date: what `--depart +0` means, and where the bookable window shown
  to people starts (`Inventory.window`).
- `today_in(zone)` is the date at a place: a rental cannot be picked up before it is that day
  where the car is.
- `first_night_in(zone)` is the first hotel night still bookable at a place: the night that began
  yesterday runs until `EARLY_ARRIVAL_HOUR` this morning, the hour before which the stay policy
  books the room from the night before (a red-eye landing at 05:00 needs last night's room).
- A flight has left once its departure (its local time and offset, compared in UTC) is earlier
  than `now()`: `has_left`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from domains.travel.policy import EARLY_ARRIVAL_HOUR


def now() -> datetime:
    """The current instant, aware, in UTC. The only reading of the system clock for date rules."""
    return datetime.now(UTC)


def today() -> date:
    """This machine's date now (its local time zone)."""
    return now().astimezone().date()


def today_in(zone: tzinfo) -> date:
    """The date now in `zone`."""
    return now().astimezone(zone).date()


def first_night_in(zone: tzinfo) -> date:
    """The first night a hotel in `zone` can still sell: tonight's, or last night's until
    `EARLY_ARRIVAL_HOUR` this morning (a night is named by the day it begins)."""
    return (now().astimezone(zone) - timedelta(hours=EARLY_ARRIVAL_HOUR)).date()


def has_left(departure: datetime | str) -> bool:
    """Whether a departure (aware, or ISO 8601 with its offset) is earlier than now."""
    moment = datetime.fromisoformat(departure) if isinstance(departure, str) else departure
    if moment.tzinfo is None:
        raise ValueError(f"departure {moment.isoformat()} has no offset: cannot compare it")
    return moment < now()
