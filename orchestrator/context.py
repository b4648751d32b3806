"""Per-run settings: planner choice, limits, models, approval mode and where data lives.

Passed as the graph's `context_schema` and read through `Runtime[Context]`. Environment variables
fill in defaults only; a value the caller passes always wins. Secrets (the API key) are never part
of the context: the model client reads them from the environment, so they cannot reach a
checkpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import ConfigDict

PlannerChoice = Literal["auto", "llm", "rules"]


def default_data_dir() -> str:
    """The per-user data directory: `$ORCHESTRATOR_HOME`, else `$XDG_DATA_HOME/orchestrator`."""
    if home := os.environ.get("ORCHESTRATOR_HOME"):
        return home
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(xdg) / "orchestrator")


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_planner() -> PlannerChoice:
    raw = os.environ.get("ORCHESTRATOR_PLANNER", "auto")
    if raw not in ("auto", "llm", "rules"):
        raise ValueError(f"ORCHESTRATOR_PLANNER must be auto, llm or rules, not {raw!r}")
    return raw  # type: ignore[return-value]


@dataclass(kw_only=True)
class Context:
    """Run settings. Every field has a sensible default; the environment only fills defaults."""

    # Studio builds its context form from this class's JSON schema; this puts each field's
    # docstring in the schema as its description.
    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(use_attribute_docstrings=True)

    planner: PlannerChoice = field(default_factory=_env_planner)
    """`rules` is the offline planner, `llm` the model, `auto` the model when one is configured."""

    max_rounds: int = 30
    """Orchestrator rounds before the run ends `partial`."""
    max_tasks: int = 500
    """Tasks a run may create in total; a plan update beyond this is rejected."""
    max_parallel: int = 16
    """Worker tasks running at once (LangGraph `max_concurrency`)."""
    deadline_s: float = 600.0
    """Seconds of work (planning plus each round's slowest task) before no new round starts.
    Time paused for approval, or while a crashed run waits to be resumed, does not count."""
    max_identical_failures: int = 2
    """A task identical (worker and inputs) to one that failed this often is refused."""
    max_idle_rounds: int = 4
    """Consecutive rounds without a single successful task before the run stops."""
    plan_attempts: int = 3
    """Times the planner is asked again after a rejected plan update before the run fails."""
    worker_timeout_s: float | None = None
    """Overrides every worker's own timeout (seconds per attempt) when set. The node's
    `TimeoutPolicy` stays as a backstop at 4x the worker's own timeout."""
    worker_attempts: int | None = None
    """Overrides every worker's own attempt count (1 to 10) for unexpected errors when set;
    `RetryPolicy` does the backoff between attempts."""

    approval: Literal["ask", "auto"] = "ask"
    """`ask` pauses before any side effect for a human decision; `auto` approves by itself."""

    data_dir: str = field(default_factory=default_data_dir)
    """Where the inventory database and the CLI's checkpoints live."""

    planner_model: str = field(default_factory=lambda: _env("ORCHESTRATOR_PLANNER_MODEL", ""))
    """Model name for the LLM planner; empty means `OPENAI_MODEL` or gpt-4o-mini."""
    synthesizer_model: str = field(
        default_factory=lambda: _env("ORCHESTRATOR_SYNTHESIZER_MODEL", "")
    )
    """Model name for the optional LLM synthesizer; empty keeps the template synthesizer."""
    base_url: str = field(default_factory=lambda: _env("OPENAI_BASE_URL", ""))
    """OpenAI-compatible endpoint (vLLM, Ollama, LM Studio...); empty means OpenAI's."""
    request_timeout_s: float = field(
        default_factory=lambda: _env_float("ORCHESTRATOR_REQUEST_TIMEOUT", 60.0)
    )
    """Seconds before a model request times out."""
    request_retries: int = 2
    """Retries the model client makes on 429 and 5xx, with backoff."""
    token_budget: int | None = None
    """Optional cap on prompt + completion tokens for the whole run."""

    def __post_init__(self) -> None:
        for name in ("max_rounds", "max_tasks", "max_parallel", "plan_attempts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.deadline_s <= 0:
            raise ValueError(f"deadline_s must be positive, got {self.deadline_s}")
