"""Answers to an approval pause, typed at the prompt or given with `resume --answer`.

Items and options are numbered from 1 as shown: option 1 is the item as planned, 2 and up its
alternatives. An answer that cannot apply says what is valid, and nothing is sent.
"""

from __future__ import annotations

import io
from typing import Any, TextIO, cast

import pytest

from orchestrator.cli.approval import (
    Edited,
    EditSession,
    Invalid,
    TerminalApprover,
    parse_answer,
    render_approval,
)


def item(n: int, price: float, alternatives: int) -> dict[str, Any]:
    return {
        "task_id": f"book-{n}",
        "kind": "flight",
        "label": f"planned {n}",
        "price": price,
        "alternatives": [
            {"item_id": f"alt-{n}-{m}", "label": f"alt {n}.{m}", "price": price + 10 * m}
            for m in range(2, 2 + alternatives)
        ],
    }


QUESTION: dict[str, Any] = {
    "kind": "approval",
    "task_ids": ["book-1", "book-2", "book-3"],
    "items": [item(1, 1000.0, 3), item(2, 500.0, 1), item(3, 100.0, 0)],
    "total": 1600.0,
    "budget": 1700,
}


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ("y", {"decision": "approve"}),
        (" YES ", {"decision": "approve"}),
        ("n", {"decision": "reject", "reason": "rejected at the prompt"}),
        ("n too pricey", {"decision": "reject", "reason": "too pricey"}),
        ("drop 1", {"decision": "edit", "drop": ["book-1"]}),
        ("drop 3", {"decision": "edit", "drop": ["book-3"]}),
        ("drop 1 3 1", {"decision": "edit", "drop": ["book-1", "book-3"]}),
        ("alt 1 1", {"decision": "edit", "inputs": {"book-1": {}}}),  # as planned: no change
        ("alt 1 2", {"decision": "edit", "inputs": {"book-1": {"item_id": "alt-1-2"}}}),
        ("alt 1 4", {"decision": "edit", "inputs": {"book-1": {"item_id": "alt-1-4"}}}),
        ("ALT 2 2", {"decision": "edit", "inputs": {"book-2": {"item_id": "alt-2-2"}}}),
        ("alt 3 1", {"decision": "edit", "inputs": {"book-3": {}}}),
    ],
)
def test_answers_read_as_shown_numbers(answer: str, decision: dict[str, Any]) -> None:
    assert parse_answer(answer, QUESTION) == decision


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("drop 0", "item 0 does not exist: choose 1 to 3"),
        ("drop -1", "item -1 does not exist: choose 1 to 3"),
        ("drop 4", "item 4 does not exist: choose 1 to 3"),
        ("drop two", "'two' is not an item number: choose 1 to 3"),
        ("drop 1.5", "'1.5' is not an item number: choose 1 to 3"),
        ("drop", "say which item: drop N, N from 1 to 3"),
        ("alt 0 2", "item 0 does not exist: choose 1 to 3"),
        ("alt 1 0", "option 0 does not exist: choose 1 to 4 for item 1 (1 = as planned)"),
        ("alt 1 -1", "option -1 does not exist: choose 1 to 4 for item 1 (1 = as planned)"),
        ("alt 1 5", "option 5 does not exist: choose 1 to 4 for item 1 (1 = as planned)"),
        ("alt 2 3", "option 3 does not exist: choose 1 to 2 for item 2 (1 = as planned)"),
        ("alt 3 2", "item 3 has no alternatives: only option 1, as planned"),
        ("alt 1 x", "'x' is not an option number: choose 1 to 4 for item 1 (1 = as planned)"),
        ("alt 1", "say which item and option: alt N M, N from 1 to 3"),
        ("alt 1 2 3", "say which item and option: alt N M, N from 1 to 3"),
    ],
)
def test_numbers_out_of_range_say_what_is_valid(answer: str, message: str) -> None:
    assert parse_answer(answer, QUESTION) == Invalid(message)


@pytest.mark.parametrize("answer", ["", "   ", "maybe", "y please", "book it", "1"])
def test_unreadable_answers_name_the_valid_ones(answer: str) -> None:
    result = parse_answer(answer, QUESTION)

    assert isinstance(result, Invalid)
    assert "\n" not in result.message
    assert "y = book as shown" in result.message and "alt N M" in result.message


def test_edits_add_up_until_confirmed_and_show_the_new_total() -> None:
    session = EditSession(QUESTION)

    assert session.answer("drop 2") == Edited()
    assert "  Total $1,100.00 against a budget of $1,700.00 (within)" in session.render()
    assert session.answer("alt 1 4") == Edited()  # alt-1-4 costs 1040
    shown = session.render()
    assert "  2. planned 2  dropped" in shown
    assert "  1. alt 1.4  $1,040.00  (option 4, instead of planned 1)" in shown
    assert "  3. planned 3  $100.00" in shown
    assert "  Total $1,140.00 against a budget of $1,700.00 (within)" in shown

    assert session.answer("y") == {
        "decision": "edit",
        "drop": ["book-2"],
        "inputs": {"book-1": {"item_id": "alt-1-4"}},
    }


def test_the_edited_total_says_how_far_over_the_budget_it_is() -> None:
    session = EditSession({**QUESTION, "budget": 1000})
    session.answer("alt 1 3")

    assert "  Total $1,630.00 against a budget of $1,000.00 ($630.00 over)" in session.render()


def test_the_last_choice_for_an_item_wins_and_option_1_goes_back_to_the_plan() -> None:
    session = EditSession(QUESTION)
    session.answer("alt 1 3")
    session.answer("alt 1 2")
    assert session.decision()["inputs"] == {"book-1": {"item_id": "alt-1-2"}}

    session.answer("alt 1 1")

    assert session.decision() == {"decision": "approve"}  # nothing left to change


def test_dropping_twice_or_choosing_for_a_dropped_item_is_refused() -> None:
    session = EditSession(QUESTION)
    session.answer("drop 2")

    assert session.answer("drop 2") == Invalid("item 2 is already dropped")
    refused = session.answer("alt 2 2")
    assert isinstance(refused, Invalid) and refused.message.startswith("item 2 is dropped")
    assert session.decision() == {"decision": "edit", "drop": ["book-2"], "inputs": {}}


def test_dropping_an_item_forgets_its_chosen_option() -> None:
    session = EditSession(QUESTION)
    session.answer("alt 1 2")
    session.answer("drop 1")

    assert session.decision() == {"decision": "edit", "drop": ["book-1"], "inputs": {}}


def test_undo_and_reset() -> None:
    session = EditSession(QUESTION)
    assert session.answer("undo") == Invalid("nothing to undo")
    session.answer("drop 1")
    session.answer("alt 2 2")

    assert session.answer("undo") == Edited()
    assert session.decision() == {"decision": "edit", "drop": ["book-1"], "inputs": {}}
    assert session.answer("reset") == Edited()
    assert session.decision() == {"decision": "approve"}
    assert session.answer("undo") == Edited()  # undoes the reset
    assert session.decision()["drop"] == ["book-1"]


def test_reject_after_edits_rejects_the_whole_batch() -> None:
    session = EditSession(QUESTION)
    session.answer("drop 1")

    assert session.answer("n") == {"decision": "reject", "reason": "rejected at the prompt"}


@pytest.mark.parametrize(
    ("answers", "decision"),
    [
        (["y"], {"decision": "approve"}),
        (["n"], {"decision": "reject", "reason": "rejected at the prompt"}),
        (
            ["alt 1 2"],
            {"decision": "edit", "drop": [], "inputs": {"book-1": {"item_id": "alt-1-2"}}},
        ),
        (
            ["drop 2", "alt 1 3", "y"],
            {"decision": "edit", "drop": ["book-2"], "inputs": {"book-1": {"item_id": "alt-1-3"}}},
        ),
        (["drop 2", "undo"], {"decision": "approve"}),
    ],
)
def test_a_list_of_answers_is_one_decision(answers: list[str], decision: dict[str, Any]) -> None:
    assert EditSession(QUESTION).run(answers) == decision


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["drop 0"], "'drop 0': item 0 does not exist: choose 1 to 3"),
        (
            ["drop 2", "alt 1 9", "y"],
            "'alt 1 9': option 9 does not exist: choose 1 to 4 for item 1 (1 = as planned)",
        ),
        (["y", "drop 2"], "'y' ends the approval, so it must be the last answer"),
        (["drop 2", "drop 2"], "'drop 2': item 2 is already dropped"),
    ],
)
def test_a_bad_answer_in_a_list_is_refused_whole(answers: list[str], message: str) -> None:
    assert EditSession(QUESTION).run(answers) == Invalid(message)


async def ask(typed: str, question: dict[str, Any] = QUESTION) -> tuple[Any, str]:
    out = io.StringIO()
    decision = await TerminalApprover(inp=io.StringIO(typed), out=out)(question)
    return decision, out.getvalue()


async def test_the_prompt_asks_again_after_a_bad_number_and_shows_each_edit() -> None:
    decision, shown = await ask("drop 0\ndrop 2\nalt 1 2\ny\n")

    assert decision == {
        "decision": "edit",
        "drop": ["book-2"],
        "inputs": {"book-1": {"item_id": "alt-1-2"}},
    }
    assert "item 0 does not exist: choose 1 to 3" in shown
    assert shown.count("Edited batch") == 2
    assert "  Total $1,100.00 against a budget of $1,700.00 (within)" in shown
    assert "  Total $1,120.00 against a budget of $1,700.00 (within)" in shown


async def test_end_of_input_at_the_prompt_is_no_answer_not_a_rejection() -> None:
    decision, shown = await ask("")

    assert decision is None
    assert "the run stays paused" in shown


async def test_end_of_input_after_some_edits_sends_nothing() -> None:
    decision, _ = await ask("drop 1\nalt 2 2\n")

    assert decision is None


async def test_ctrl_c_at_the_prompt_is_no_answer() -> None:
    class CtrlC:
        def readline(self) -> str:
            raise KeyboardInterrupt

    out = io.StringIO()
    decision = await TerminalApprover(inp=cast(TextIO, CtrlC()), out=out)(QUESTION)

    assert decision is None
    assert "the run stays paused" in out.getvalue()


def test_the_question_numbers_alternatives_from_2() -> None:
    shown = render_approval(QUESTION)

    assert "  1. planned 1  $1,000.00" in shown
    assert "       option 2: alt 1.2  $1,020.00" in shown
    assert "       option 4: alt 1.4  $1,040.00" in shown
