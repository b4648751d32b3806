"""Free text in, structured trip out: the model fills a `TripRequest`, the same model the CLI fills.

The answer is validated twice, as the offline CLI validates flags: by the pydantic model (types,
dates in order, at least one leg) and by `check_trip` (known airports, dates inside the inventory
window). An answer that fails either is re-asked with the errors, up to `attempts` times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from domains.travel import prompts
from domains.travel.inventory import AIRPORTS, clock
from domains.travel.models import SAID_CHARS, TripRequest
from domains.travel.request import TripInputError, check_trip
from orchestrator.context import Context
from orchestrator.llm.models import open_chat_model
from orchestrator.llm.planner import clip
from state import Usage

TEXT_CHARS = SAID_CHARS
"""Longest request text sent to the model (and kept in `said`); a trip fits in far less."""


class TripNotUnderstood(Exception):
    """The model gave no usable trip in the attempts allowed; the message says what was wrong."""

    def __init__(self, message: str, usage: list[Usage]) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class ExtractedTrip:
    trip: TripRequest
    attempts: int
    usage: list[Usage] = field(default_factory=list)


def extraction_messages(
    text: str,
    *,
    today: date,
    window: tuple[date, date],
    problems: list[str] | None = None,
    previous: str = "",
) -> list[BaseMessage]:
    airports = ", ".join(f"{a.code}: {a.city}" for a in sorted(AIRPORTS, key=lambda a: a.code))
    system = prompts.TRIP_EXTRACTION_SYSTEM.format(
        today=today.isoformat(),
        first_day=window[0].isoformat(),
        last_day=window[1].isoformat(),
        airports=airports,
    )
    messages: list[BaseMessage] = [
        SystemMessage(system),
        HumanMessage(
            prompts.TRIP_EXTRACTION_REQUEST.format(text=clip(text, TEXT_CHARS).replace("`", "'"))
        ),
    ]
    if problems:
        messages.append(
            HumanMessage(
                prompts.TRIP_EXTRACTION_FEEDBACK.format(
                    problems="\n".join(f"- {p}" for p in problems),
                    previous=previous.replace("`", "'") or "(nothing)",
                )
            )
        )
    return messages


async def extract_trip(
    text: str,
    context: Context,
    *,
    window: tuple[date, date],
    today: date | None = None,
    attempts: int | None = None,
) -> ExtractedTrip:
    """The trip `text` describes. Raises `TripNotUnderstood`, or `ModelCallFailed` and
    `ModelUnavailable` from the model factory."""
    today = today or clock.today()
    limit = attempts or context.plan_attempts
    usage: list[Usage] = []
    problems: list[str] = []
    previous = ""
    async with open_chat_model(context, "planner") as model:
        for attempt in range(1, limit + 1):
            messages = extraction_messages(
                text, today=today, window=window, problems=problems, previous=previous
            )
            answer = await model.structured(TripRequest, messages, round_no=0)
            if answer.usage is not None:
                usage.append({**answer.usage, "role": "extraction"})
            previous = answer.sent
            if answer.value is None:
                problems = [answer.error or "no answer"]
                continue
            try:
                check_trip(answer.value, window)
            except TripInputError as exc:
                problems = [str(exc)]
                continue
            # The traveller's own words travel with the trip: every planning prompt shows them
            # (untrusted, capped), so what the fields could not hold is not lost.
            trip = answer.value.model_copy(update={"said": clip(text, TEXT_CHARS)})
            return ExtractedTrip(trip=trip, attempts=attempt, usage=usage)
    raise TripNotUnderstood(
        f"the model could not turn the request into a trip in {limit} attempt(s): "
        + "; ".join(problems),
        usage,
    )
