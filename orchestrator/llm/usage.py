"""Token usage and cost: `Usage` records of model calls, a price table, and run totals.

The planner and the synthesizer write one record per call; a worker attempt writes one per model
it called (`orchestrator.metering`), attributed to its task; a delegating task is charged what
its sub-run spent. `orchestrator.report.cost` breaks the totals down per task, worker and round.

Costs come from `PRICES`, list prices in USD per million tokens keyed by model name. A model
that is not in the table (a local model, a fine-tune, a new release) has no cost: `cost_usd` is
None rather than a guess. Dated snapshots (`gpt-4o-mini-2024-07-18`) use their family's price.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from state import Usage


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    prompt: float
    completion: float


PRICES: dict[str, Price] = {
    # OpenAI list prices (standard tier), USD per 1M tokens. Edit when they change.
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5": Price(1.25, 10.00),
    "o4-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
}


def price_of(model: str, prices: Mapping[str, Price] = PRICES) -> Price | None:
    """The price of `model`: an exact entry, else the longest entry it starts with."""
    if model in prices:
        return prices[model]
    family = max((name for name in prices if model.startswith(name + "-")), key=len, default=None)
    return prices[family] if family else None


def cost_usd(
    model: str, prompt_tokens: int, completion_tokens: int, prices: Mapping[str, Price] = PRICES
) -> float | None:
    price = price_of(model, prices)
    if price is None:
        return None
    return round((prompt_tokens * price.prompt + completion_tokens * price.completion) / 1e6, 8)


def usage_of(message: Any, *, round_no: int, role: str, model: str) -> Usage | None:
    """The `Usage` of one model answer, from LangChain's `usage_metadata`; None if unreported."""
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return None
    prompt = int(meta.get("input_tokens") or 0)
    completion = int(meta.get("output_tokens") or 0)
    return Usage(
        round=round_no,
        role=role,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost_usd(model, prompt, completion),
        model=model,
    )


@dataclass(frozen=True)
class UsageTotals:
    """A run's token usage, summed."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    """Sum of the priced calls; None when no call had a price."""
    unpriced_calls: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "unpriced_calls": self.unpriced_calls,
        }

    def describe(self) -> str:
        """One line for people, e.g. for the CLI's summary."""
        line = (
            f"model usage: {self.calls} call(s), {self.prompt_tokens:,} prompt + "
            f"{self.completion_tokens:,} completion = {self.tokens:,} tokens"
        )
        if self.cost_usd is not None:
            line += f", cost ${self.cost_usd:,.4f}"
            if self.unpriced_calls:
                line += f" (+{self.unpriced_calls} call(s) of models without a price)"
        else:
            line += ", cost unknown (no price for this model)"
        return line


def usage_totals(usage: Iterable[Usage]) -> UsageTotals:
    """The sum of `usage` (a record of several calls, `Usage.calls`, counts each)."""
    calls = prompt = completion = unpriced = 0
    cost: float | None = None
    for entry in usage:
        n = entry.get("calls", 1)
        calls += n
        prompt += entry["prompt_tokens"]
        completion += entry["completion_tokens"]
        if entry["cost_usd"] is None:
            unpriced += n
        else:
            cost = (cost or 0.0) + entry["cost_usd"]
    return UsageTotals(
        calls=calls,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=None if cost is None else round(cost, 8),
        unpriced_calls=unpriced,
    )


def answers_usage(response: Any) -> Iterator[tuple[str, int, int]]:
    """(model, prompt tokens, completion tokens) of each chat model answer in an `LLMResult`
    that reports its usage; the model is "unknown" when the answer does not name it."""
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            meta = getattr(message, "usage_metadata", None)
            if not meta:
                continue
            info = getattr(message, "response_metadata", None) or {}
            model = str(info.get("model_name") or info.get("model") or "unknown")
            yield model, int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)
