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
    """Refuses dates the inventory does not hold: "nothing found" there would read as a route
    not served or a city sold out, and a planner would explain the failure wrongly."""
    start, end = await with_inventory(call, lambda inv: inv.window())
    if first < start or last > end:
        span = str(first) if first == last else f"{first}..{last}"
        raise TaskFailed(
            f"{span} is outside the bookable dates {start} to {end}: pick dates inside them"
        )


def last_night(check_out: date, check_in: date) -> date:
    """The last day a stay or a rental occupies (the day before it ends, at least its first)."""
    return max(check_in, check_out - timedelta(days=1))
