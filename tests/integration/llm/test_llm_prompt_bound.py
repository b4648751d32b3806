"""The planning prompt stays bounded however long the run: 30 rounds of large inputs and results."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from domains.synthetic import SLEEP
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from orchestrator.workers import WorkerCall, WorkerSpec
from tests.integration.llm.support import add, llm_context, prompt_chars, run, sleep_graph, task

ROUNDS = 30
BIG = 3000
PROMPT_BOUND = 20_000
"""Characters of all messages of one planning request, whatever the round."""


class EchoInput(BaseModel):
    text: str


class EchoOutput(BaseModel):
    text: str


async def _echo(inputs: EchoInput, call: WorkerCall) -> EchoOutput:
    return EchoOutput(text=inputs.text)


# A worker whose "compact" summary is anything but: the planner must cap it anyway.
ECHO = WorkerSpec(
    name="echo",
    description="Repeats its text.",
    input_model=EchoInput,
    output_model=EchoOutput,
    run=_echo,
    summarize=lambda out: out.text,
)


def _round(n: int) -> dict[str, Any]:
    return add(
        task(f"r{n}-sleep", SLEEP, ms=0, payload="p" * BIG),
        task(f"r{n}-echo", "echo", text=f"round {n} " + "e" * BIG),
        notes={"round": n, "memo": "m" * 1000},
        decisions=[f"round {n}: " + "d" * 200],
    )


async def test_prompt_size_is_bounded_over_30_rounds(server: ScriptedOpenAI) -> None:
    replies: list[Any] = []
    for n in range(1, ROUNDS + 1):
        if n == 15:
            # A rejected answer with many errors: the feedback is capped too.
            replies.append(add(*[task(f"r15-bad-{i}", "teleport") for i in range(40)]))
        replies.append(_round(n))
    server.script(*replies)
    graph = sleep_graph(extra_workers=[ECHO])

    values = (await run(graph, llm_context(server, max_rounds=ROUNDS))).values

    assert values["status"] == "partial" and "30 rounds" in values["reason"]
    assert server.calls == ROUNDS + 1
    sizes = [prompt_chars(r) for r in server.requests]
    first_attempts = sizes[:15] + sizes[16:]
    print(
        f"\nprompt chars: round 1 {sizes[0]}, round 10 {first_attempts[9]}, "
        f"round 11 {first_attempts[10]}, round 30 {first_attempts[-1]}, re-ask {sizes[15]}, "
        f"max {max(sizes)}; results in state: "
        f"{len(json.dumps(values['results'])):,} chars"
    )
    assert max(sizes) <= PROMPT_BOUND
    # Once the board window is full (10 rounds of 2 tasks), the size stops growing.
    assert max(first_attempts[10:]) - min(first_attempts[10:]) < 100
    # The run's results are many times what any prompt carries.
    assert len(json.dumps(values["results"])) > 5 * PROMPT_BOUND
    # Usage recorded per round. Without a token budget the limits say nothing about tokens
    # (`test_llm_usage` shows them with a budget).
    assert [u["round"] for u in values["usage"]] == [*range(1, 16), 15, *range(16, 31)]
    assert '"tokens_used"' not in server.requests[0]["messages"][1]["content"]
