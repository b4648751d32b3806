"""Every kind of invalid plan update is re-asked with its errors, and the run recovers; too many
invalid answers end the run `failed`, cleanly, with the reason."""

from __future__ import annotations

import pytest

from domains.synthetic import SLEEP
from orchestrator.testing.scripted_openai import Raw, Reply, ScriptedOpenAI, Text
from tests.integration.llm.support import (
    add,
    finish,
    llm_context,
    log_kinds,
    prompt_of,
    run,
    sleep_graph,
    task,
)

GOOD = add(task("r1-a", SLEEP, ms=1))

INVALID: list[tuple[str, Reply, str]] = [
    ("malformed JSON", Raw('{"add": [{"id": "r1-a", "worker": '), "not valid JSON"),
    ("prose instead of a tool call", Text("I would search first."), "did not call the PlanUpdate"),
    ("not the schema", {"add": [{"id": 7}]}, "does not fit the PlanUpdate schema"),
    ("unknown worker", add(task("r1-a", "teleport", city="Paris")), "unknown worker 'teleport'"),
    ("inputs fail the schema", add(task("r1-a", SLEEP, ms=-5)), "inputs do not fit worker"),
    (
        "dependency cycle",
        add(task("r1-a", SLEEP, ["r1-b"], ms=1), task("r1-b", SLEEP, ["r1-a"], ms=1)),
        "dependency cycle",
    ),
    ("missing task", add(task("r1-a", SLEEP, ["r0-ghost"], ms=1)), "which does not exist"),
    ("nothing to do", {"decisions": ["waiting"]}, "changes nothing and no task is pending"),
]


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize(("case", "bad", "error"), INVALID, ids=[c[0] for c in INVALID])
async def test_invalid_update_is_reasked_with_its_errors_then_recovers(
    server: ScriptedOpenAI, case: str, bad: Reply, error: str, streaming: bool
) -> None:
    server.script(bad, GOOD, finish(reason="slept"))
    graph = sleep_graph()
    context = llm_context(server)

    if streaming:
        from tests.integration.llm.support import run_streaming_messages

        values, chunks = await run_streaming_messages(
            graph, context, goal="sleep once", request=None, thread="t1"
        )
        assert chunks > 0
        assert all(r["stream"] is True for r in server.requests)
    else:
        values = (await run(graph, context, goal="sleep once")).values
        assert not any(r.get("stream") for r in server.requests)

    assert values["status"] == "completed", values["reason"]
    assert values["tasks"]["r1-a"]["status"] == "done"
    rejected = log_kinds(values, "rejected")
    assert len(rejected) == 1 and error in rejected[0], rejected
    assert server.calls == 3
    reask = prompt_of(server.requests[1])
    assert "## Your previous answer was rejected" in reask and error in reask
    assert "plan attempt 2 of 3" in reask
    # Every answer, readable or not, is paid for and recorded.
    assert [u["round"] for u in values["usage"]] == [1, 1, 2]


async def test_the_run_fails_cleanly_after_plan_attempts_invalid_answers(
    server: ScriptedOpenAI,
) -> None:
    server.script(Raw("{nope"), add(task("r1-a", "teleport")), add(task("r1-a", SLEEP, ms=1)), GOOD)
    values = (await run(sleep_graph(), llm_context(server, plan_attempts=2))).values

    assert values["status"] == "failed"
    assert "no valid plan update in 2 attempts" in values["reason"]
    assert "unknown worker 'teleport'" in values["reason"]
    assert values["answer"]["status"] == "failed"
    assert server.calls == 2, "exactly Context.plan_attempts requests"
    assert not values["tasks"]
