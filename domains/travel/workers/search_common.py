"""What the three search workers share: strict inputs, a page of options, "3 of 8 shown".

A search returns one page of the matching options, cheapest first: `limit` options (at most
`MAX_LIMIT`) from `offset`, and `total`, how many match in all. The page is what a planner is
shown, and the approval step offers alternatives only from it, so nothing a planner never saw
reaches the approval screen. Unknown input fields are refused (`"passengers": 2` is not
silently a search for one traveller), naming the valid fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from domains.travel.inventory import clock
from domains.travel.services import with_inventory
from orchestrator.workers import TaskFailed, WorkerCall

DEFAULT_LIMIT = 3
"""Options a search returns (and a planner is shown) unless it asks for more."""
MAX_LIMIT = 10
"""The most options one search returns; ask again with an `offset` for the next page."""
MAX_OFFSET = 1000
"""The furthest page start: far beyond any search's matches (a route has a few flights a day,
a city a few hotels, an airport five car classes)."""

T = TypeVar("T")


class StrictInput(BaseModel):
    """Worker inputs that refuse unknown fields: every one is reported with the other errors
    of the same inputs, and the LLM planner's checks name the valid fields beside them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def valid_fields(model: type[BaseModel], *, aliases: bool = False) -> list[str]:
    """A model's input names: each field's first alias (or its name), and every alias if asked."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        choices = info.validation_alias
        if isinstance(choices, AliasChoices):
            listed = [str(c) for c in choices.choices]
            names.extend(listed if aliases else listed[:1])
            if aliases:
                names.append(name)
        else:
            names.append(info.alias or name)
    return names


def limit_field() -> Any:
    return Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        validation_alias=AliasChoices("limit", "max_results"),
        description="How many options to return, cheapest first.",
    )


def offset_field() -> Any:
    return Field(default=0, ge=0, le=MAX_OFFSET, description="How many to skip: the next page.")


def page(options: Sequence[T], limit: int, offset: int) -> list[T]:
    return list(options[offset : offset + limit])


def shown(count: int, total: int, offset: int) -> str:
    """'3 of 8' (or '3 of 8, from #4' for a later page)."""
    later = f", from #{offset + 1}" if offset else ""
    return f"{count} of {total}{later}"


async def within_window(call: WorkerCall, first: date, last: date) -> None:
    """Refuses dates the inventory does not hold, or that are gone by: "nothing found" there
    would read as a route not served or a city sold out, and a planner would explain the
    failure wrongly. The dates shown are `Inventory.window()`: from today, or from the
    inventory's first day if later.

    A date up to one day before today (`clock.today()`, this machine's date) is let through to
    the inventory, which decides where the item is: a flight by its departure instant, a stay
    or a rental by the local date there. That day of slack is for time zones: an evening flight
    from an airport west of here still leaves "yesterday", and a stay after a flight eastward
    over the date line (or a red-eye's night before) begins on a date already past here.
    """
    (start, end), (held, _) = await with_inventory(
        call, lambda inv: (inv.window(), inv.days_held())
    )
    today = clock.today()
    span = str(first) if first == last else f"{first}..{last}"
    if start > end:
        raise TaskFailed(
            f"{span} cannot be booked: the inventory's last day, {end}, is in the past, so "
            "nothing in it can be booked any more; use a fresh data directory for a new one"
        )
    if first < max(held, today - timedelta(days=1)) or last > end:
        if first < today:
            problem = f"{span} {'is' if first == last else 'begins'} in the past, outside"
        else:
            problem = f"{span} is outside"
        raise TaskFailed(f"{problem} the bookable dates {start} to {end}: pick dates inside them")


def last_night(check_out: date, check_in: date) -> date:
    """The last day a stay or a rental occupies (the day before it ends, at least its first)."""
    return max(check_in, check_out - timedelta(days=1))
