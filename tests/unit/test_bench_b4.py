"""B4's check that every baseline sends a history OpenAI's chat API would accept."""

from __future__ import annotations

from typing import Any

from bench.b4_supervisor import history_problem


def _call(*ids: str) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": [{"id": i} for i in ids]}


def _result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": "{}"}


def test_a_well_formed_history_passes() -> None:
    messages = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        _call("a", "b"),
        _result("b"),
        _result("a"),
        _call("c"),
        _result("c"),
        {"role": "assistant", "content": "done"},
    ]
    assert history_problem(messages) is None


def test_tool_results_cut_from_their_call_are_refused() -> None:
    # What output_mode="last_message" makes of an agent's parallel return_direct results.
    messages = [{"role": "user", "content": "u"}, _call("h"), _result("h"), _result("a")]
    assert "'a'" in (history_problem(messages) or "")


def test_an_unanswered_call_is_refused() -> None:
    assert history_problem([_call("a", "b"), _result("a"), {"role": "user", "content": "u"}])
    assert history_problem([_call("a")])
