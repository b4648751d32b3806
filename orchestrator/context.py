"""Per-run settings: planner choice, limits, models, approval mode and where data lives.

Passed as the graph's `context_schema` and read through `Runtime[Context]`. Environment variables
fill in defaults only; a value the caller passes always wins. Secrets (the API key) are never part
of the context: the model client reads them from the environment, so they cannot reach a
checkpoint.

The fields come in two kinds. **Run settings** (the planner among those the deployment enables,
the limits, the worker overrides, the budgets, approval `ask`) are a caller's to choose per
run. **Deployment settings** (`OPERATOR_FIELDS`: the model endpoint and names, the request
timeout and retries, the data directory, and approval `auto`) belong to whoever runs the process.
In Python and the CLI that is the same person, so `Context` takes them all. On a server it is
not: `caller_context_problems` says what a caller's context asks for that it may not, the auth
handler refuses such a run or assistant with that message, and the server's graphs use
`ServerContext`, which takes the deployment settings from the environment whatever it is given
and keeps the limits within the operator's caps (`ORCHESTRATOR_CAP_<FIELD>`).

Delegation is bounded by the same fields: a delegating worker gives its sub-run `depth` + 1 and
its share of what is left of the run's budgets (`orchestrator.budgets`), locally or in the
context of a remote run. A server takes a caller's `depth` as given: claiming a smaller one gains
nothing a fresh top-level run would not have, since `max_depth` and the budgets stay within the
caps whatever the caller says.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, cast, get_args

from pydantic import ConfigDict, GetJsonSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import core_schema

PlannerChoice = Literal["auto", "llm", "rules"]
ApprovalMode = Literal["ask", "auto"]

PLANNER_ENV = "ORCHESTRATOR_PLANNER"
PLANNERS_ENV = "ORCHESTRATOR_PLANNERS"
"""The planners a server's callers may choose (comma-separated); default: all three."""
APPROVAL_ENV = "ORCHESTRATOR_APPROVAL"
"""`auto` makes the deployment approve by itself; a server's callers can never ask for it."""
CAP_ENV_PREFIX = "ORCHESTRATOR_CAP_"
"""`ORCHESTRATOR_CAP_MAX_ROUNDS=50` caps what a server's caller may set `max_rounds` to."""

_SET_BY = "set_by"
_OPERATOR = "operator"
_CAP = "cap"

log = logging.getLogger(__name__)


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
    raw = os.environ.get(PLANNER_ENV, "auto")
    if raw not in get_args(PlannerChoice):
        raise ValueError(f"{PLANNER_ENV} must be auto, llm or rules, not {raw!r}")
    return cast(PlannerChoice, raw)


def deployment_approval() -> ApprovalMode:
    """`$ORCHESTRATOR_APPROVAL` (`ask` or `auto`), `ask` when unset."""
    raw = os.environ.get(APPROVAL_ENV) or "ask"
    if raw not in get_args(ApprovalMode):
        raise ValueError(f"{APPROVAL_ENV} must be ask or auto, not {raw!r}")
    return cast(ApprovalMode, raw)


def enabled_planners() -> tuple[PlannerChoice, ...]:
    """The planners a server's callers may choose: `$ORCHESTRATOR_PLANNERS`, else all three."""
    raw = os.environ.get(PLANNERS_ENV)
    if not raw:
        return get_args(PlannerChoice)
    chosen = tuple(p.strip() for p in raw.split(",") if p.strip())
    wrong = [p for p in chosen if p not in get_args(PlannerChoice)]
    if wrong or not chosen:
        raise ValueError(f"{PLANNERS_ENV} lists auto, llm or rules, comma-separated, not {raw!r}")
    return cast(tuple[PlannerChoice, ...], chosen)


def _operator(**kwargs: Any) -> Any:
    """A deployment setting: a server takes it from its environment, never from a caller."""
    return field(metadata={_SET_BY: _OPERATOR}, **kwargs)


def _capped(default: Any, cap: float | None) -> Any:
    """A limit a server's caller may set, up to the operator's cap (`cap` unless overridden)."""
    return field(default=default, metadata={_CAP: cap})


@dataclass(kw_only=True)
class Context:
    """Run settings. Every field has a sensible default; the environment only fills defaults."""

    # Studio builds its context form from this class's JSON schema; this puts each field's
    # docstring in the schema as its description.
    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(use_attribute_docstrings=True)

    planner: PlannerChoice = field(default_factory=_env_planner)
    """`rules` is the offline planner, `llm` the model, `auto` the model when one is configured."""

    max_rounds: int = _capped(30, 100)
    """Orchestrator rounds before the run ends `partial`."""
    max_tasks: int = _capped(500, 1000)
    """Tasks a run may create in total; a plan update beyond this is rejected. Counted per run:
    a delegated sub-run gets a share of what is left as its own `max_tasks`, but the tasks it
    creates are not charged back to its parent."""
    max_parallel: int = _capped(16, 32)
    """Worker tasks running at once (LangGraph `max_concurrency`)."""
    deadline_s: float = _capped(600.0, 3600.0)
    """Seconds of work (planning plus each round's slowest task) before no new round starts.
    Time paused for approval, or while a crashed run waits to be resumed, does not count."""
    max_identical_failures: int = _capped(2, 10)
    """A task identical (worker and inputs) to one that failed this often is refused."""
    max_idle_rounds: int = _capped(4, 20)
    """Consecutive rounds without a single successful task before the run stops."""
    plan_attempts: int = _capped(3, 10)
    """Times the planner is asked again after a rejected plan update before the run fails."""
    worker_timeout_s: float | None = _capped(None, 600.0)
    """Overrides every worker's own timeout (seconds per attempt) when set. The node's
    `TimeoutPolicy` stays as a backstop at 4x the worker's own timeout."""
    worker_attempts: int | None = _capped(None, 10)
    """Overrides every worker's own attempt count (1 to 10) for unexpected errors when set;
    `RetryPolicy` does the backoff between attempts."""

    approval: ApprovalMode = field(default_factory=deployment_approval)
    """`ask` pauses before any side effect for a human decision; `auto` approves by itself
    (on a server only the deployment can choose `auto`, with `ORCHESTRATOR_APPROVAL`)."""

    data_dir: str = _operator(default_factory=default_data_dir)
    """Where the inventory database and the CLI's checkpoints live."""

    planner_model: str = _operator(default_factory=lambda: _env("ORCHESTRATOR_PLANNER_MODEL", ""))
    """Model name for the LLM planner; empty means `OPENAI_MODEL` or gpt-4o-mini."""
    synthesizer_model: str = _operator(
        default_factory=lambda: _env("ORCHESTRATOR_SYNTHESIZER_MODEL", "")
    )
    """Model name for the optional LLM synthesizer; empty keeps the template synthesizer."""
    base_url: str = _operator(default_factory=lambda: _env("OPENAI_BASE_URL", ""))
    """OpenAI-compatible endpoint (vLLM, Ollama, LM Studio...); empty means OpenAI's.
    `OPENAI_API_KEY` is only ever sent to `OPENAI_BASE_URL` (OpenAI's when unset): another
    endpoint given here gets a placeholder key."""
    request_timeout_s: float = _operator(
        default_factory=lambda: _env_float("ORCHESTRATOR_REQUEST_TIMEOUT", 60.0)
    )
    """Seconds before a model request times out."""
    request_retries: int = _operator(default=2)
    """Retries the model client makes on 429 and 5xx, with backoff."""
    worker_model: str = _operator(default_factory=lambda: _env("ORCHESTRATOR_WORKER_MODEL", ""))
    """Model name for workers that call a model themselves (the adapters' agents); empty means
    the planner's."""
    token_budget: int | None = _capped(None, None)
    """Optional cap on prompt + completion tokens for the whole run: the planner's, the
    synthesizer's, every worker's, and what delegated sub-runs spent. Checked between rounds."""
    cost_budget_usd: float | None = _capped(None, None)
    """Optional cap on the run's model cost in USD, counted like `token_budget` (calls to a model
    without a known price cost nothing here)."""
    max_fanout: int | None = _capped(None, None)
    """Tasks dispatched per round at most; the other ready tasks wait for the next round.
    None: every ready task at once."""
    max_depth: int = _capped(3, 10)
    """Delegation levels allowed below the top run: a run at this depth cannot delegate."""
    depth: int = 0
    """How many delegating orchestrators this run sits under (0 at the top). A delegating
    worker sets it for its sub-run; setting it higher only leaves fewer levels."""

    def __post_init__(self) -> None:
        for name in ("max_rounds", "max_tasks", "max_parallel", "plan_attempts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.deadline_s > 0:
            raise ValueError(f"deadline_s must be positive, got {self.deadline_s}")
        for name in ("depth", "max_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.max_fanout is not None and self.max_fanout < 1:
            raise ValueError(f"max_fanout must be at least 1, got {self.max_fanout}")
        for name in ("token_budget", "cost_budget_usd"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number, 0 or more, got {value}")


def _fields() -> dict[str, Field[Any]]:
    return {f.name: f for f in fields(Context)}


OPERATOR_FIELDS: frozenset[str] = frozenset(
    f.name for f in fields(Context) if f.metadata.get(_SET_BY) == _OPERATOR
)
"""Fields only the deployment sets: a server takes them from its environment."""
CALLER_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Context)) - OPERATOR_FIELDS
"""Fields a server's caller may set per run (within `cap`, `enabled_planners`, approval `ask`)."""
CAPPED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Context) if _CAP in f.metadata)
UNLIMITED_WHEN_NONE: dict[str, type[int] | type[float]] = {
    "token_budget": int,
    "cost_budget_usd": float,
    "max_fanout": int,
}
"""Capped fields whose None means "no limit": a server run without one gets the operator's cap."""


def cap(name: str) -> float | None:
    """The most a server's caller may set field `name` to: `$ORCHESTRATOR_CAP_<NAME>`, else the
    built-in cap (None: no cap)."""
    env = CAP_ENV_PREFIX + name.upper()
    raw = os.environ.get(env)
    if not raw:
        built_in: float | None = _fields()[name].metadata[_CAP]
        return built_in
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{env} must be a number, not {raw!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{env} must be a positive finite number, not {raw!r}")
    return value


def _default(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


class ContextRefused(ValueError):
    """A caller's context asks for what only the deployment may set, or exceeds its caps."""

    def __init__(self, problems: list[str], *, forbidden: bool) -> None:
        self.problems = problems
        self.forbidden = forbidden
        """True when a field is the operator's (HTTP 403), False for a bad value (HTTP 400)."""
        super().__init__(
            "context refused: "
            + "; ".join(problems)
            + " (deployment settings come from the server's environment; see the README's "
            "'Configuration')"
        )


def caller_context_problems(
    values: Mapping[str, Any] | None, *, unknown_ok: bool = False
) -> ContextRefused | None:
    """What a server caller's `values` ask for that they may not, or None when all is allowed.

    Refused: any deployment setting (`OPERATOR_FIELDS`), approval `auto` (unless the deployment
    itself approves automatically), a planner the deployment does not enable, a limit above its
    cap, and values `Context` itself would refuse. Unknown keys are refused too, unless
    `unknown_ok` (a run's `config.configurable` also carries LangGraph's own keys).
    """
    if not values:
        return None
    known = _fields()
    forbidden = sorted(k for k in values if k in OPERATOR_FIELDS)
    problems = [
        f"{name} is a deployment setting, not a run setting; the server takes it from its "
        "environment"
        for name in forbidden
    ]
    approval = values.get("approval")
    if approval == "auto" and deployment_approval() != "auto":
        problems.append(
            "approval='auto' is the deployment's choice (ORCHESTRATOR_APPROVAL), not a run's; "
            "a run pauses for approval and is resumed with Command(resume='approve')"
        )
        forbidden.append("approval")
    if not unknown_ok:
        problems += [f"unknown context field {k!r}" for k in sorted(values) if k not in known]
    allowed = {k: v for k, v in values.items() if k in CALLER_FIELDS}
    planner = allowed.get("planner")
    if planner in get_args(PlannerChoice) and planner not in enabled_planners():
        problems.append(
            f"planner={planner!r} is not enabled here ({PLANNERS_ENV}="
            f"{','.join(enabled_planners())})"
        )
    for name in CAPPED_FIELDS:
        value = allowed.get(name)
        limit = cap(name)
        if limit is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not math.isfinite(value):
            problems.append(f"{name} must be a finite number, not {value!r}")
        elif value > limit:
            problems.append(
                f"{name}={value!r} is above this server's cap of {limit:g} "
                f"({CAP_ENV_PREFIX}{name.upper()})"
            )
    try:
        TypeAdapter(Context).validate_python(allowed)
    except ValidationError as exc:
        for err in exc.errors()[:4]:
            where = ".".join(str(p) for p in err["loc"]) or "context"
            problems.append(f"{where}: {err['msg']}")
    except (TypeError, ValueError) as exc:
        problems.append(str(exc))
    if not problems:
        return None
    return ContextRefused(problems, forbidden=bool(forbidden))


def server_context(values: Mapping[str, Any] | None) -> ServerContext:
    """A server run's context from what its caller sent: refused (`ContextRefused`) when it asks
    for a deployment setting or exceeds a cap; the deployment settings come from the
    environment."""
    refused = caller_context_problems(values)
    if refused is not None:
        raise refused
    return ServerContext(**dict(values or {}))


@dataclass(kw_only=True)
class ServerContext(Context):
    """The context of a run on the LangGraph server (`langgraph.json`'s graphs use it).

    Whatever it is built from (a caller's run, an assistant saved before the checks existed), the
    deployment settings are the environment's and the limits stay within the operator's caps: a
    value that is not is replaced, and the replacement logged (by field name, never its value).
    Callers are refused such values before a run starts (`graph/auth.py`); this is the second line.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        replaced: list[str] = []
        for f in fields(Context):
            if f.name in OPERATOR_FIELDS:
                value = _default(f)
                if getattr(self, f.name) != value:
                    replaced.append(f.name)
                    setattr(self, f.name, value)
        if self.approval == "auto" and deployment_approval() != "auto":
            replaced.append("approval")
            self.approval = "ask"
        if self.planner not in enabled_planners():
            replaced.append("planner")
            default = _env_planner()
            self.planner = default if default in enabled_planners() else enabled_planners()[0]
        for name in CAPPED_FIELDS:
            limit = cap(name)
            value = getattr(self, name)
            if limit is None:
                continue
            if value is None and name in UNLIMITED_WHEN_NONE:
                setattr(self, name, UNLIMITED_WHEN_NONE[name](limit))
            elif value is not None and not value <= limit:
                replaced.append(name)
                setattr(self, name, int(limit) if isinstance(value, int) else float(limit))
        if replaced:
            log.warning(
                "server run context: %s replaced by the deployment's settings",
                ", ".join(replaced),
            )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        """Studio's context form: the run settings only, with each limit's cap and the
        choices this deployment allows."""
        json_schema = handler.resolve_ref_schema(handler(schema))
        described = TypeAdapter(Context).json_schema()["properties"]
        properties: dict[str, Any] = json_schema.get("properties", {})
        for name in list(properties):
            if name in OPERATOR_FIELDS:
                del properties[name]
                continue
            if "description" in described.get(name, {}):
                properties[name]["description"] = described[name]["description"]
        for name in CAPPED_FIELDS:
            if (limit := cap(name)) is not None and name in properties:
                properties[name]["maximum"] = limit
                properties[name]["description"] = (
                    properties[name].get("description", "") + f" At most {limit:g} here."
                ).strip()
        if "planner" in properties:
            properties["planner"]["enum"] = list(enabled_planners())
        if "approval" in properties and deployment_approval() != "auto":
            properties["approval"]["enum"] = ["ask"]
        json_schema["description"] = (
            "Run settings. The model endpoint, model names, data directory and automatic "
            "approval are the deployment's (its environment), not a run's."
        )
        return json_schema
