"""What a sub-run reports it spent is checked before it is charged (a remote server, above all,
is not trusted to report only what can be charged), and a dispatch's delegating tasks split the
tasks left as evenly as whole numbers allow: only the shares left with nothing are refused."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from orchestrator import budgets
from orchestrator.budgets import charge_sub_run, sub_run_limits, sub_run_usage
from orchestrator.context import Context
from orchestrator.metering import SUB_RUN, Meter
from orchestrator.workers import TaskFailed
from state import WorkerPayload
from tests.integration.budgets.support import think_worker


def record(round_no: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "round": round_no,
        "role": "worker",
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cost_usd": 0.5,
        "model": "m",
        **fields,
    }


def charged(values: dict[str, Any]) -> list[list[Any]]:
    """The rows the sub-run's usage adds to a fresh attempt's meter."""
    with Meter() as meter:
        charge_sub_run(values)
    payload = {"task_id": "t", "worker": "delegate", "attempt": 1, "round": 2}
    return [
        [u["calls"], u["prompt_tokens"], u["completion_tokens"], u["cost_usd"], u["role"]]
        for u in meter.usage(payload)
    ]


def test_a_valid_report_is_charged_as_reported() -> None:
    values = {"usage": [record(), record(calls=3, cost_usd=None, model="n")], "round": 1}

    assert charged(values) == [[1, 100, 20, 0.5, SUB_RUN], [3, 100, 20, None, SUB_RUN]]
    assert charge_sub_run(values, charged=False).tokens == 240


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (record(prompt_tokens=-1_000_000), "record 0: prompt_tokens is -1000000, not between"),
        (record(completion_tokens=-5), "record 0: completion_tokens is -5, not between"),
        (record(cost_usd=-5.0), "record 0: cost_usd is -5.0, not between 0 and"),
        (record(cost_usd=math.nan), "record 0: cost_usd is nan, not between 0 and"),
        (record(cost_usd=math.inf), "record 0: cost_usd is inf, not between 0 and"),
        (record(cost_usd="0.5"), "record 0: cost_usd is '0.5', not a number"),
        (record(prompt_tokens=10**13), "record 0: prompt_tokens is 10000000000000, not between"),
        (record(prompt_tokens=1.5), "record 0: prompt_tokens is 1.5, not a whole number"),
        (record(prompt_tokens=True), "record 0: prompt_tokens is True, not a whole number"),
        (record(calls=0), "record 0: calls is 0, not between 1 and"),
        (record(calls=-3), "record 0: calls is -3, not between 1 and"),
        (record(round_no=-1), "record 0: round is -1, not between 0 and"),
        (record(model=7), "record 0: model is 7, not a string"),
        ({"round": 1, "completion_tokens": 1, "cost_usd": None}, "record 0: no prompt_tokens"),
        ({"round": 1, "prompt_tokens": 1, "completion_tokens": 1}, "record 0: no cost_usd"),
        ("not a record", "record 0: a str, not a record"),
    ],
)
def test_a_report_that_is_not_valid_fails_the_task_in_one_line(entry: Any, message: str) -> None:
    values = {"usage": [record(), entry], "round": 1}
    expected = message.replace("record 0", "record 1")

    with Meter() as meter, pytest.raises(TaskFailed) as failed:
        charge_sub_run(values)

    text = str(failed.value)
    assert text.startswith("the sub-run reported usage that is not valid: ")
    assert expected in text and "\n" not in text
    assert meter.usage({"task_id": "t", "worker": "w", "attempt": 1}) == [], "nothing charged"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"usage": {"prompt_tokens": 1}}, "usage is a dict, not a list of records"),
        ({"usage": "lots"}, "usage is a str, not a list of records"),
        ({"usage": 5}, "usage is a int, not a list of records"),
        ({"usage": [], "first_round": -1}, "first_round is -1, not a whole number from 0"),
        ({"usage": [], "first_round": "2"}, "first_round is '2', not a whole number from 0"),
        ({"usage": [], "round": 1.5}, "round is 1.5, not a whole number from 0"),
    ],
)
def test_a_report_whose_shape_is_not_valid_fails_the_task(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskFailed, match="the sub-run reported usage that is not valid: "):
        sub_run_usage(values)
    with pytest.raises(TaskFailed) as failed:
        sub_run_usage(values)
    assert message in str(failed.value)


def test_a_first_round_beyond_the_sub_runs_rounds_does_not_make_its_spending_vanish() -> None:
    usage = [record(1), record(2), record(3)]

    # Its latest run started at round 3: only that run's records count.
    latest = sub_run_usage({"usage": usage, "round": 3, "first_round": 3})
    assert [u["round"] for u in latest] == [3]
    # A first_round past its own round counts from its round.
    huge = sub_run_usage({"usage": usage, "round": 3, "first_round": 10**9})
    assert [u["round"] for u in huge] == [3]
    # Without a round to bound it, first_round is not trusted: every record counts.
    assert len(sub_run_usage({"usage": usage, "first_round": 10**9})) == 3
    assert len(sub_run_usage({"usage": usage})) == 3


def test_meter_charge_refuses_what_is_not_valid() -> None:
    meter = Meter()
    with pytest.raises(ValueError, match="record 0: prompt_tokens is -1"):
        meter.charge([record(prompt_tokens=-1)])
    assert meter.usage({"task_id": "t", "worker": "w", "attempt": 1}) == []


def payloads(n: int) -> list[WorkerPayload]:
    return [
        WorkerPayload(task_id=f"d{i}", worker="delegate", inputs={}, attempt=1, scope="")
        for i in range(n)
    ]


def test_tasks_left_split_with_the_remainder_to_the_first_shares() -> None:
    ctx = Context(max_tasks=10, token_budget=5)
    sent = payloads(3)
    workers = {"delegate": _delegates()}

    budgets.attach(sent, workers, ctx, spent=[], board_size=8, busy_s=0.0)

    # 2 tasks and 5 tokens left for 3 delegating tasks: 1, 1, 0 and 2, 2, 1, not 0 for all.
    assert [p["budget"]["tasks"] for p in sent] == [1, 1, 0]
    assert [p["budget"]["tokens"] for p in sent] == [2, 2, 1]
    assert sub_run_limits(ctx, sent[0]["budget"])["max_tasks"] == 1
    assert sub_run_limits(ctx, sent[1]["budget"])["max_tasks"] == 1
    with pytest.raises(TaskFailed, match=r"no tasks \(Context.max_tasks\)"):
        sub_run_limits(ctx, sent[2]["budget"])


def test_an_even_split_is_equal() -> None:
    sent = payloads(2)
    ctx = Context(max_tasks=10)

    budgets.attach(sent, {"delegate": _delegates()}, ctx, spent=[], board_size=4, busy_s=1.0)

    assert [p["budget"]["tasks"] for p in sent] == [3, 3]
    assert budgets.share(ctx, spent=[], board_size=4, busy_s=1.0, ways=4)["tasks"] == 2


def _delegates() -> Any:
    return replace(think_worker(), name="delegate", delegates=True)
