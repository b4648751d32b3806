"""Metering: every model call a worker makes, attributed to the task attempt that made it.

`with metering(meter):` opens a `Meter` for one attempt (`nodes.work.run_task` wraps every
attempt in one): a callback handler that LangChain adds to each callback manager configured
inside the block, through a configure hook on a context variable. That is how
`langchain_core.callbacks.get_usage_metadata_callback` works too, but that function registers a
new hook on every call, and every later callback manager walks all of them: here the hook is
registered once. Context variables follow asyncio tasks, so a worker's agents, subgraphs and
tools are metered wherever they run, and parallel attempts never see each other's meter.

What callbacks cannot see is `charge`d to the attempt's meter: what a delegated sub-orchestration
spent, read from its own records (`orchestrator.budgets`). The sub-run runs `unmetered()`, so each
of its calls is counted once, by its own records.

An attempt's usage is written with its result (`Meter.usage`). An attempt that raised (a fault
the node retries, a timeout, a pause) leaves its usage here (`stash`), and the next write for the
same task attempt takes it (`collect`): calls of retried tries count too. Nothing survives a
crash of the process.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook

from orchestrator.llm.usage import answers_usage, cost_usd
from state import Usage

WORKER = "worker"
"""`Usage.role` of a worker's own model calls."""
SUB_RUN = "sub-run"
"""`Usage.role` of what a delegated sub-orchestration spent."""
UNKNOWN_MODEL = "unknown"

_current: ContextVar[Meter | None] = ContextVar("orchestrator_meter", default=None)
register_configure_hook(_current, inheritable=True)


class Meter(BaseCallbackHandler):
    """Sums the `usage_metadata` of every chat model answer, per model, plus what is charged."""

    run_inline = True  # no thread-pool hop per callback: the handler only adds numbers

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], list[Any]] = {}
        """(role, model) -> [calls, prompt, completion, cost or None]."""
        self._token: Token[Meter | None] | None = None

    # A class-based context manager, not `@contextmanager`: it wraps every task attempt, and a
    # generator-based one took 2.3 us per block against 0.75 us for this one.
    def __enter__(self) -> Meter:
        """Meters every model call made inside the block (and in tasks it starts). Not
        re-entrant: one block per meter."""
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    # Only model answers matter: every other event is skipped before it reaches the handler.
    @property
    def ignore_chain(self) -> bool:
        return True

    @property
    def ignore_agent(self) -> bool:
        return True

    @property
    def ignore_retriever(self) -> bool:
        return True

    @property
    def ignore_chat_model(self) -> bool:
        return True  # the start event; the end comes through `on_llm_end`

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for model, prompt, completion in answers_usage(response):
            self.add(WORKER, model, 1, prompt, completion, cost_usd(model, prompt, completion))

    def add(
        self,
        role: str,
        model: str,
        calls: int,
        prompt: int,
        completion: int,
        cost: float | None,
    ) -> None:
        with self._lock:
            row = self._rows.setdefault((role, model), [0, 0, 0, None])
            row[0] += calls
            row[1] += prompt
            row[2] += completion
            if cost is not None:
                row[3] = (row[3] or 0.0) + cost

    def charge(self, usage: Iterable[Mapping[str, Any]], role: str = SUB_RUN) -> None:
        """Adds usage records measured elsewhere (a sub-run's), summed per model.

        Raises `ValueError` (and adds nothing) when a record is not valid (`checked_usage`)."""
        for entry in checked_usage(usage):
            self.add(
                role,
                entry.get("model") or UNKNOWN_MODEL,
                entry.get("calls", 1),
                entry["prompt_tokens"],
                entry["completion_tokens"],
                entry["cost_usd"],
            )

    def usage(self, payload: Mapping[str, Any]) -> list[Usage]:
        """The records of this attempt, attributed to the task of `payload` (a `WorkerPayload`)."""
        if not self._rows:
            return []  # most workers call no model
        with self._lock:
            rows = sorted(self._rows.items())
        return [
            Usage(
                round=int(payload.get("round") or 0),
                role=role,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=None if cost is None else round(cost, 8),
                model=model,
                calls=calls,
                task_id=str(payload["task_id"]),
                worker=str(payload["worker"]),
                attempt=int(payload["attempt"]),
            )
            for (role, model), (calls, prompt, completion, cost) in rows
        ]


USAGE_LIMIT = 10**12
"""The most tokens, calls or US dollars one usage record measured elsewhere may report."""


def checked_usage(usage: Iterable[Mapping[str, Any]]) -> list[Usage]:
    """`usage`, records measured elsewhere (a sub-run's, perhaps a remote server's), each one
    checked: tokens whole numbers from 0 to `USAGE_LIMIT`, `calls` (1 when absent) from 1 to it,
    `cost_usd` None or a finite number from 0 to it, `round` (0 when absent) a whole number from
    0, `model` a string when present. Spending is only ever added: nothing negative, nothing
    absurd, nothing that is not a number.

    Raises `ValueError`, naming the first record that is not valid and what is wrong with it."""
    if isinstance(usage, str | bytes | Mapping):
        raise ValueError(f"usage is a {type(usage).__name__}, not a list of records")
    try:
        entries = list(usage)
    except TypeError:
        raise ValueError(f"usage is a {type(usage).__name__}, not a list of records") from None
    return [_checked(i, entry) for i, entry in enumerate(entries)]


def _whole(entry: Mapping[str, Any], key: str, low: int, default: int | None = None) -> int:
    value = entry.get(key, default)
    if value is None and default is None:
        raise ValueError(f"no {key}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is {value!r}, not a whole number")
    if not low <= value <= USAGE_LIMIT:
        raise ValueError(f"{key} is {value}, not between {low} and {USAGE_LIMIT}")
    return value


def _checked(index: int, entry: Any) -> Usage:
    try:
        if not isinstance(entry, Mapping):
            raise ValueError(f"a {type(entry).__name__}, not a record")
        prompt = _whole(entry, "prompt_tokens", 0)
        completion = _whole(entry, "completion_tokens", 0)
        calls = _whole(entry, "calls", 1, default=1)
        round_no = _whole(entry, "round", 0, default=0)
        if "cost_usd" not in entry:
            raise ValueError("no cost_usd")
        cost = entry["cost_usd"]
        if cost is not None:
            if isinstance(cost, bool) or not isinstance(cost, int | float):
                raise ValueError(f"cost_usd is {cost!r}, not a number")
            if not (math.isfinite(cost) and 0 <= cost <= USAGE_LIMIT):
                raise ValueError(f"cost_usd is {cost}, not between 0 and {USAGE_LIMIT}")
            cost = float(cost)
        model = entry.get("model")
        if model is not None and not isinstance(model, str):
            raise ValueError(f"model is {model!r}, not a string")
    except ValueError as exc:
        raise ValueError(f"record {index}: {exc}") from None
    checked = Usage(
        round=round_no,
        role=str(entry.get("role") or SUB_RUN),
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
        calls=calls,
    )
    if model is not None:
        checked["model"] = model
    return checked


def metering(meter: Meter) -> Meter:
    """`with metering(meter):` every model call made inside the block (and in tasks it starts)
    is added to `meter` (the same as `with meter:`)."""
    return meter


@contextmanager
def unmetered() -> Iterator[None]:
    """No meter inside the block: for a sub-run whose spending is charged from its own records."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def current_meter() -> Meter | None:
    return _current.get()


def charge(usage: Iterable[Mapping[str, Any]], role: str = SUB_RUN) -> bool:
    """Charges `usage` to the attempt being metered; False when no attempt is (a direct call)."""
    meter = _current.get()
    if meter is None:
        return False
    meter.charge(usage, role)
    return True


STASH_LIMIT = 4096
"""Attempts whose usage waits for a write; the oldest are dropped beyond this (runs that
crashed or were abandoned while paused never collect theirs)."""

_stash: OrderedDict[str, list[Usage]] = OrderedDict()
_stash_lock = threading.Lock()


def attempt_key(payload: Mapping[str, Any]) -> str:
    run = payload.get("run_id") or ""
    return f"{run}:{payload.get('scope') or ''}{payload['task_id']}#{payload['attempt']}"


def stash(payload: Mapping[str, Any], usage: list[Usage]) -> None:
    """Keeps the usage of a try that wrote nothing, for the next write of the same attempt."""
    if not usage:
        return
    key = attempt_key(payload)
    with _stash_lock:
        _stash[key] = [*_stash.get(key, []), *usage]
        _stash.move_to_end(key)
        while len(_stash) > STASH_LIMIT:
            _stash.popitem(last=False)


def collect(payload: Mapping[str, Any]) -> list[Usage]:
    """The stashed usage of the attempt of `payload` (and forgets it)."""
    if not _stash:
        return []
    with _stash_lock:
        return _stash.pop(attempt_key(payload), [])
